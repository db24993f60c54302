/**
 * The SHIFT part of the API contract (docs/shift.md, API): worker job parameters and the
 * request/response shapes of the probe.* and shift.* channels. contract.ts lists the channels;
 * the shapes live here so that table stays readable.
 */
import { z } from 'zod';
import { AnnotationRecord, CircuitSummary, DatasetRecord, ModelRecord, SaeSetRecord } from '../store/records';
import { JudgementRecord, ProbeRecord, ShiftRunRecord } from '../store/shift';

const path = z.string().min(1).max(4096);
const id = z.number().int().positive();
const count = (max: number) => z.number().int().min(1).max(max);

export const TrainSet = z.enum(['ambiguous', 'balanced']);
export const LabelKind = z.enum(['profession', 'gender']);
export const FeatureRef = z.object({ submodule: z.string().min(1).max(100), feature: z.number().int().min(0) }).strict();
export const ScoredFeature = z.object({ submodule: z.string(), feature: z.number().int(), effect: z.number() });

/** A probe as the worker takes it: the layer it reads and its head. */
export const ProbeParams = z.object({ layer: z.number().int().min(0).max(10_000), weight: z.array(z.number().finite()).min(1).max(100_000), bias: z.number().finite() }).strict();

/** The probe recipe (docs/shift.md, Probes); defaults are the original's, batch size 32. */
export const ProbeRecipe = z.object({
  seed: z.number().int().default(42),
  lr: z.number().positive().max(10).default(1e-2),
  epochs: count(1000).default(1),
  batchSize: count(100_000).default(32),
  weightDecay: z.number().min(0).max(10).default(0.01),
});
/** Forward passes: biographies per batch. */
const forwardBatch = count(4096).default(64);
const Skyline = z.object({ n: count(100_000).default(100), batchSize: count(1000).default(4), steps: count(1000).default(10) }).strict();

// ---- worker jobs -----------------------------------------------------------------------------

export const ProbeTrainParams = ProbeRecipe.extend({
  model: path,
  data: path,
  layer: z.number().int().min(0).max(10_000),
  trainSet: TrainSet,
  label: LabelKind,
  saes: path.nullable(),
  ablate: z.array(FeatureRef).max(100_000),
  forwardBatch,
}).strict();

export const ShiftDiscoverParams = z
  .object({ model: path, saes: path, data: path, probe: ProbeParams, trainSet: TrainSet, label: LabelKind, n: count(100_000), batchSize: count(1000), steps: count(1000), threshold: z.number().min(0).max(1e9) })
  .strict();

export const ShiftFeaturesParams = z
  .object({ model: path, saes: path, data: path, probe: ProbeParams, features: z.array(FeatureRef).min(1).max(10_000), scan: count(100_000), top: count(100), tokens: z.number().int().min(0).max(100) })
  .strict();

export const ShiftRunParams = ProbeRecipe.extend({
  model: path,
  saes: path,
  data: path,
  probe: ProbeParams,
  ablate: z.array(FeatureRef).max(100_000),
  baselines: z.boolean(),
  forwardBatch,
  skyline: Skyline,
}).strict();

export const FeatureView = z.object({
  submodule: z.string(),
  feature: z.number().int(),
  /** Scanned biographies on which the feature fired. */
  active: z.number().int(),
  /** Strongest first: the biography's tokens, where the activation peaks, and its value at every token. */
  contexts: z.array(z.object({ tokens: z.array(z.string()), position: z.number().int(), activation: z.number(), values: z.array(z.number()) })),
  /** Tokens its decoder direction promotes most through the unembedding. */
  topTokens: z.array(z.object({ token: z.string(), logit: z.number() })),
});

// ---- API channels ----------------------------------------------------------------------------

export const ShiftDemoResponse = z
  .object({
    model: ModelRecord,
    saeSet: SaeSetRecord,
    dataset: DatasetRecord,
    /** The demo's probe layer, circuit threshold and probe batch size (its build recipe). */
    defaults: z.object({ layer: z.number().int(), threshold: z.number(), probeBatchSize: z.number().int() }),
  })
  .nullable();

export const ProbeTrainRequest = ProbeRecipe.extend({
  modelId: id,
  /** A Bias-in-Bios dataset (format bios-jsonl). */
  datasetId: id,
  layer: z.number().int().min(0).max(10_000),
  trainSet: TrainSet.default('ambiguous'),
  label: LabelKind.default('profession'),
  name: z.string().min(1).max(200).optional(),
}).strict();

export const ShiftDiscoverRequest = z
  .object({
    probeId: id,
    saeSetId: id,
    n: count(100_000).default(100),
    batchSize: count(1000).default(4),
    steps: count(1000).default(10),
    threshold: z.number().min(0).max(1e9).default(0.1),
    trainSet: TrainSet.default('ambiguous'),
    name: z.string().min(1).max(200).optional(),
  })
  .strict();
export const ShiftDiscoverResponse = z.object({ circuit: CircuitSummary, features: z.array(ScoredFeature), examples: z.number().int(), notes: z.array(z.string()), seconds: z.number() });

export const ShiftFeaturesRequest = z
  .object({
    circuitId: id,
    /** Default: every feature of the circuit. */
    features: z.array(FeatureRef).min(1).max(10_000).optional(),
    scan: count(100_000).default(300),
    top: count(100).default(8),
    tokens: z.number().int().min(0).max(100).default(10),
  })
  .strict();
export const ShiftFeaturesResponse = z.object({
  scanned: z.number().int(),
  features: z.array(FeatureView.extend({ effect: z.number().nullable(), annotation: AnnotationRecord.nullable(), judgement: JudgementRecord.nullable() })),
});

export const Judgement = z.object({ submodule: z.string().min(1).max(100), feature: z.number().int().min(0), decision: z.enum(['keep', 'ablate']).nullable(), note: z.string().max(10_000).nullable().default(null) }).strict();
export const ShiftJudgeRequest = z.object({ saeSetId: id, judgements: z.array(Judgement).min(1).max(10_000) }).strict();

export const ShiftRunRequest = ProbeRecipe.extend({
  probeId: id,
  /** The classifier circuit: its SAE set, and (without `ablate`) its features judged 'ablate'. */
  circuitId: id.optional(),
  /** Without a circuit: the SAE set whose 'ablate' judgements (within the probe's submodules) are used. */
  saeSetId: id.optional(),
  /** Explicit features to ablate, instead of the stored judgements. */
  ablate: z.array(FeatureRef).max(100_000).optional(),
  baselines: z.boolean().default(true),
  forwardBatch,
  skyline: Skyline.default({ n: 100, batchSize: 4, steps: 10 }),
}).strict();

export { JudgementRecord, ProbeRecord, ShiftRunRecord };
