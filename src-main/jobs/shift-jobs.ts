/**
 * The SHIFT jobs behind `sfc probe train`, `sfc shift …` and the app (docs/shift.md): train a
 * probe, discover the classifier's features, show what a person needs to judge them, and run
 * SHIFT with its baselines. Parameters are paths and plain numbers; results are serialisable.
 */
import { resolve } from 'node:path';
import { CIRCUIT_FORMAT, CIRCUIT_VERSION, type CircuitFile, nodeId } from '../circuits/circuit-file';
import { featureDashboards } from '../circuits/dashboard';
import { type LinearProbe, PROBE_RECIPE, accuracy, pooledResiduals, predict, trainProbe } from '../circuits/probe';
import { type FeatureRef, type LabelKind, type ScoredFeature, type ShiftResult, type ShiftRow, type TokenizedBios, discoverClassifierFeatures, labelsOf, probeContext, runShift, scoreRow, tokenizeBios, zeroAblationRun } from '../circuits/shift';
import type { CircuitContext } from '../circuits/state';
import { loadBiasInBios } from '../data/bias-in-bios';
import type { NeoxModel } from '../models/neox-model';
import { contentHash } from '../util/hash';
import type { JobContext } from '../util/job-context';
import { APP_VERSION } from '../version';
import { loadContext } from './circuit-jobs';
import { runtime } from './runtime';

export type TrainSet = 'ambiguous' | 'balanced';

/** A probe as jobs pass it: the layer it reads and its head. */
export interface ProbeParams {
  layer: number;
  weight: number[];
  bias: number;
}

export interface ProbeRecipeParams {
  seed: number;
  lr: number;
  epochs: number;
  batchSize: number;
  weightDecay: number;
}

export interface DataReport {
  source: string;
  /** Rows read and professor/nurse rows kept, per split. */
  counts: { train: { read: number; kept: number }; test: { read: number; kept: number } };
  sizes: { ambiguousTrain: number; balancedTrain: number; ambiguousTest: number; balancedTest: number };
  truncated: number;
}

const head = (p: ProbeParams): LinearProbe => ({ weight: Float32Array.from(p.weight), bias: p.bias });
const recipeOf = (p: ProbeRecipeParams) => ({ ...PROBE_RECIPE, seed: p.seed, lr: p.lr, epochs: p.epochs, batchSize: p.batchSize, weightDecay: p.weightDecay });

function loadData(model: NeoxModel, path: string, job: JobContext): { data: TokenizedBios; report: DataReport } {
  job.progress(null, `reading ${path}`);
  const data = tokenizeBios(model, loadBiasInBios(path, 42));
  return {
    data,
    report: {
      source: resolve(path),
      counts: data.counts,
      sizes: { ambiguousTrain: data.train.ambiguous.length, balancedTrain: data.train.balanced.length, ambiguousTest: data.test.ambiguous.length, balancedTest: data.test.balanced.length },
      truncated: data.truncated,
    },
  };
}

function checkLayer(model: NeoxModel, layer: number): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= model.cfg.numLayers) throw new Error(`layer ${layer}: the model has layers 0..${model.cfg.numLayers - 1}`);
}

/** The model and SAEs as a context whose metric is the probe (SAEs loaded only up to its layer). */
async function probeCtx(model: string, saes: string, probe: LinearProbe, layer: number, job: JobContext): Promise<{ base: CircuitContext; ctx: CircuitContext; notes: string[] }> {
  const m = await runtime().model(model);
  checkLayer(m, layer);
  const { ctx: base, notes } = await loadContext(model, saes, false, job);
  return { base, ctx: probeContext(base, probe, layer), notes };
}

// ---- probe.train -------------------------------------------------------------------------------

export interface ProbeTrainParams extends ProbeRecipeParams {
  model: string;
  data: string;
  layer: number;
  trainSet: TrainSet;
  label: LabelKind;
  /** With features to ablate: the SAE folder they belong to. */
  saes: string | null;
  ablate: FeatureRef[];
  forwardBatch: number;
}

export interface ProbeTrainResult {
  probe: ProbeParams;
  trainSet: TrainSet;
  label: LabelKind;
  examples: number;
  trainAccuracy: number;
  /** The probe on the test split, as a row of the SHIFT table. */
  scores: Omit<ShiftRow, 'method'>;
  dataReport: DataReport;
  notes: string[];
  seconds: number;
}

export async function probeTrainJob(p: ProbeTrainParams, job: JobContext): Promise<ProbeTrainResult> {
  const t0 = performance.now();
  job.progress(null, `loading model ${p.model}`);
  const model = await runtime().model(p.model);
  checkLayer(model, p.layer);
  const { data, report } = loadData(model, p.data, job);
  let run;
  let view: NeoxModel;
  const notes: string[] = [];
  if (p.ablate.length) {
    if (!p.saes) throw new Error('ablating features needs their SAE folder (saes)');
    const zero = { weight: new Float32Array(model.cfg.hiddenSize), bias: 0 };
    const got = await probeCtx(p.model, p.saes, zero, p.layer, job);
    notes.push(...got.notes);
    view = got.ctx.model;
    run = zeroAblationRun(got.ctx, p.ablate);
  } else {
    view = model.withProbe({ layer: p.layer, weight: new Float32Array(model.cfg.hiddenSize), bias: 0 });
    run = async (b: Parameters<typeof view.forward>[0]) => (await view.forward(b)).h;
  }
  const rows = data.train[p.trainSet];
  const x = await pooledResiduals(view, rows.map((i) => data.ids.train[i]), run, { batchSize: p.forwardBatch, job: phase(job, 0, 0.6), what: 'train activations' });
  const labels = labelsOf(data, 'train', p.label);
  const y = rows.map((i) => labels[i]);
  const probe = trainProbe(x, y, model.cfg.hiddenSize, recipeOf(p));
  const test = await pooledResiduals(view, data.ids.test, run, { batchSize: p.forwardBatch, job: phase(job, 0.6, 1), what: 'test activations' });
  const { method: _m, ...scores } = scoreRow('original', predict(probe, test), data, p.ablate.length || null);
  if (data.truncated) notes.push(`${data.truncated} biographies were cut to the model's ${model.cfg.maxPositions} positions`);
  return {
    probe: { layer: p.layer, weight: Array.from(probe.weight), bias: probe.bias },
    trainSet: p.trainSet,
    label: p.label,
    examples: rows.length,
    trainAccuracy: accuracy(predict(probe, x), y),
    scores,
    dataReport: report,
    notes,
    seconds: (performance.now() - t0) / 1000,
  };
}

// ---- shift.discover ----------------------------------------------------------------------------

export interface ShiftDiscoverParams {
  model: string;
  saes: string;
  data: string;
  probe: ProbeParams;
  /** Examples: the first n of this train set, with these labels in the metric. */
  trainSet: TrainSet;
  label: LabelKind;
  n: number;
  batchSize: number;
  steps: number;
  threshold: number;
}

export interface ShiftDiscoverResult {
  circuit: CircuitFile;
  /** Features with effect > threshold, strongest first. */
  features: ScoredFeature[];
  examples: number;
  dataReport: DataReport;
  notes: string[];
  seconds: number;
}

export async function shiftDiscoverJob(p: ShiftDiscoverParams, job: JobContext): Promise<ShiftDiscoverResult> {
  const t0 = performance.now();
  const { ctx, notes } = await probeCtx(p.model, p.saes, head(p.probe), p.probe.layer, job);
  const { data, report } = loadData(ctx.model, p.data, job);
  const labels = labelsOf(data, 'train', p.label);
  const rows = data.train[p.trainSet].slice(0, p.n);
  const { selected } = await discoverClassifierFeatures(ctx, rows.map((i) => ({ ids: data.ids.train[i], label: labels[i] })), { steps: p.steps, batchSize: p.batchSize, threshold: p.threshold, job });
  const circuit: CircuitFile = {
    format: CIRCUIT_FORMAT,
    version: CIRCUIT_VERSION,
    createdAt: new Date().toISOString(),
    app: { name: 'sfc-workbench', version: APP_VERSION },
    parameters: {
      method: 'ig', steps: p.steps, aggregation: 'sum', nodeThreshold: p.threshold, edgeThreshold: 0, keepAll: false, nodesOnly: true,
      examples: rows.length, batchSize: p.batchSize, seed: 42, nopair: true, neurons: false,
      metric: { kind: 'probe', layer: p.probe.layer, trainSet: p.trainSet, label: p.label, selection: 'signed' },
    },
    provenance: {
      model: { path: resolve(p.model), sha256: contentHash(resolve(p.model)) },
      saes: { path: resolve(p.saes), sha256: contentHash(resolve(p.saes)) },
      data: { path: resolve(p.data), sha256: contentHash(resolve(p.data)) },
    },
    submodules: ctx.submodules.map((name) => ({ name, features: ctx.saes.get(name)!.f, kind: ctx.saes.get(name)!.kind })),
    positions: null,
    examples: rows.map((i) => ({ hard_text: data.train.rows[i].text, label: labels[i] })),
    totalEffect: null,
    nodes: selected.map((f) => ({ id: nodeId(f.submodule, f.feature), submodule: f.submodule, feature: f.feature, effect: f.effect })),
    edges: null,
  };
  return { circuit, features: selected, examples: rows.length, dataReport: report, notes, seconds: (performance.now() - t0) / 1000 };
}

// ---- shift.features ----------------------------------------------------------------------------

export interface ShiftFeaturesParams {
  model: string;
  saes: string;
  data: string;
  probe: ProbeParams;
  features: FeatureRef[];
  /** Train biographies scanned for contexts. */
  scan: number;
  top: number;
  tokens: number;
}

export interface FeatureView extends FeatureRef {
  active: number;
  contexts: { tokens: string[]; position: number; activation: number; values: number[] }[];
  topTokens: { token: string; logit: number }[];
}

export async function shiftFeaturesJob(p: ShiftFeaturesParams, job: JobContext): Promise<{ scanned: number; features: FeatureView[] }> {
  const { ctx } = await probeCtx(p.model, p.saes, head(p.probe), p.probe.layer, job);
  const full = await runtime().model(p.model);
  const { data } = loadData(ctx.model, p.data, job);
  const seqs = data.ids.train.slice(0, p.scan);
  const boards = await featureDashboards(ctx, full, seqs, p.features, { top: p.top, tokens: p.tokens, job });
  const tok = ctx.model.tokenizer!;
  return {
    scanned: seqs.length,
    features: boards.map((b) => ({
      submodule: b.submodule,
      feature: b.feature,
      active: b.active,
      contexts: b.contexts.map((c) => ({ tokens: seqs[c.sequence].map((id) => tok.tokenString(id)), position: c.position, activation: c.activation, values: c.values })),
      topTokens: b.topTokens.map((t) => ({ token: tok.tokenString(t.id), logit: t.logit })),
    })),
  };
}

// ---- shift.run ---------------------------------------------------------------------------------

export interface ShiftRunParams extends ProbeRecipeParams {
  model: string;
  saes: string;
  data: string;
  probe: ProbeParams;
  ablate: FeatureRef[];
  baselines: boolean;
  forwardBatch: number;
  skyline: { n: number; batchSize: number; steps: number };
}

export interface ShiftRunResult extends Omit<ShiftResult, 'probes'> {
  probes: { shiftRetrain: ProbeParams; oracle: ProbeParams | null };
  dataReport: DataReport;
  seconds: number;
}

export async function shiftRunJob(p: ShiftRunParams, job: JobContext): Promise<ShiftRunResult> {
  const t0 = performance.now();
  const probe = head(p.probe);
  const { base, notes } = await probeCtx(p.model, p.saes, probe, p.probe.layer, job);
  const { data, report } = loadData(base.model, p.data, job);
  const res = await runShift(base, data, probe, p.probe.layer, { ablate: p.ablate, baselines: p.baselines, seed: p.seed, recipe: recipeOf(p), batchSize: p.forwardBatch, skyline: p.skyline, job });
  const asParams = (q: LinearProbe): ProbeParams => ({ layer: p.probe.layer, weight: Array.from(q.weight), bias: q.bias });
  return {
    ...res,
    notes: [...notes, ...res.notes],
    probes: { shiftRetrain: asParams(res.probes.shiftRetrain), oracle: res.probes.oracle && asParams(res.probes.oracle) },
    dataReport: report,
    seconds: (performance.now() - t0) / 1000,
  };
}

function phase(job: JobContext, from: number, to: number): JobContext {
  return { checkCancelled: job.checkCancelled, progress: (f, m) => job.progress(from + (f ?? 0) * (to - from), m) };
}
