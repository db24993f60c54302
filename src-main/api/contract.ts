/**
 * The API contract between the UI and the engine: every channel with the zod schemas of its
 * request and response, and every event the engine pushes. Both transports (Electron IPC,
 * WebSocket) and both ends (handlers.ts, the renderer's client) are typed from this one file;
 * the host validates every incoming request against it (see handlers.ts).
 *
 * Two kinds of channel:
 * - `call`: quick; `invoke` replies with the response.
 * - `job`: long (runs in the compute worker); `invoke` replies at once with `{ jobId }`, then
 *   the host emits `job.progress` events and finally `job.done` (whose `result` matches the
 *   channel's response schema) or `job.failed`. `job.cancel` stops it.
 *
 * The compute worker's jobs are listed here too (`workerJobs`), so this file is the one table
 * from the UI to the worker.
 *
 * The renderer imports this file for types only, so zod stays out of the UI bundle.
 */
import { z } from 'zod';
import { AnnotationChange, AnnotationRecord, CircuitEdit, CircuitSummary, DatasetRecord, ModelRecord, ResultRecord, SaeSetRecord } from '../store/records';
import type { AblateResult, DiscoverResult, EvaluateResult, GenerateResult } from '../jobs/circuit-jobs';
import type { ProbeTrainResult, ShiftDiscoverResult, ShiftRunResult } from '../jobs/shift-jobs';
import * as Shift from './shift-contract';
import type { HubFetchResult } from '../jobs/hub-job';
import { CacheClearRequest, CacheClearResponse, CacheListing, HubFetchParams, HubFetchRequest, HubFetchResponse, HubLinks, HubSetups, Inspection } from './hub-contract';

// ---- shared shapes -------------------------------------------------------------------------

export const ModelInfo = z.object({
  path: z.string(),
  architecture: z.string(),
  config: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  parameters: z.number(),
  hookPoints: z.array(z.string()),
  vocabSize: z.number(),
});

export const TokenProb = z.object({ id: z.number().int(), token: z.string(), prob: z.number() });

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  /** Where the host runs: the desktop app or `sfc serve`. */
  host: z.enum(['electron', 'serve']),
  engine: z.object({
    runtime: z.string(),
    /** onnxruntime-node version, null if it could not be determined. */
    runtimeVersion: z.string().nullable(),
    opset: z.number().int(),
  }),
  /** The execution provider jobs run on (SFC_PROVIDER, default cpu). */
  provider: z.string(),
  /** Providers onnxruntime offers on this platform; CPU always works, the others need their
   *  runtime installed (e.g. CUDA on Linux is an opt-in install). */
  providers: z.array(z.string()),
  /** The configured default model folder, or null when none is configured. */
  model: z.string().nullable(),
});

/** Optional per-request model override; absent = the host's configured default model. */
const modelPath = z.string().min(1).max(4096).optional();

export const JobStarted = z.object({ jobId: z.string() });

export const ApiErrorCode = z.enum([
  'bad_request', // unknown channel or a payload that fails its schema
  'not_configured', // e.g. no model configured and none given
  'not_found', // e.g. unknown job id
  'cancelled',
  'failed', // the work itself failed (message says why)
  'internal', // a host bug: the response broke the contract
  'invalid_input', // a file or value the user gave is broken (the message names it and the problem)
  'conflict', // e.g. a duplicate name, or deleting what something else needs
  'busy', // too many jobs queued by this connection
]);
export const ApiError = z.object({
  code: ApiErrorCode,
  message: z.string(),
  /** For bad_request: where the payload failed validation. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

// ---- worker jobs ---------------------------------------------------------------------------
// What the compute worker runs (jobs/handlers.ts). Parameters are path-based and validated when
// they reach the worker; results come from our own code and are typed from it. The API
// channels further down are what a UI calls, and every response they give is validated.

const path = z.string().min(1).max(4096);
const count = (max: number) => z.number().int().min(1).max(max);
export const NodeMethod = z.enum(['ig', 'attrib', 'exact']);
export const Aggregation = z.enum(['sum', 'none']);
export const AblationKind = z.enum(['mean', 'zero', 'resample']);
/** Which error nodes count as inside the circuit (the paper's three curves; docs/method-notes.md). */
export const ErrorVariant = z.enum(['all', 'none', 'resid-only']);
/** ablation.py's handle_errors: every error node forced ablated or kept in every run. */
export const ForcedErrors = z.enum(['ablated', 'kept']);
export const Structure = z.enum(['simple', 'nounpp', 'rc', 'within_rc']);

/** Discovery settings a user picks; the API channel and the worker job share them. */
export const DiscoverSettings = z.object({
  method: NodeMethod.default('ig'),
  steps: count(1000).default(10),
  aggregation: Aggregation.default('sum'),
  nodeThreshold: z.number().min(0).max(1e9).default(0.1),
  edgeThreshold: z.number().min(0).max(1e9).default(0.01),
  n: count(100_000).default(100),
  batchSize: count(10_000).default(10),
  seed: z.number().int().default(12),
  nodesOnly: z.boolean().default(false),
  keepAll: z.boolean().default(false),
  /** Only examples whose clean prefix has exactly this many tokens; null: the min-length rule. */
  exampleLength: z.number().int().min(1).max(100_000).nullable().default(null),
});
const SourcePaths = { model: path, saes: path.nullable(), data: path, nopair: z.boolean(), neurons: z.boolean() };
export const DiscoverParams = DiscoverSettings.extend(SourcePaths).strict();

export const EvaluateSettings = z.object({
  n: count(100_000).default(40),
  seed: z.number().int().default(12),
  ablation: AblationKind.default('mean'),
  errors: ErrorVariant.default('all'),
  forceErrors: ForcedErrors.nullable().default(null),
  /** Absent: the paper's sweep, logspace(−4, 0, 15). One value: one circuit at one threshold. */
  thresholds: z.array(z.number().min(0).max(1e9)).min(1).max(200).optional(),
  startLayer: z.number().int().min(0).max(10_000).nullable().default(null),
  exampleLength: z.number().int().min(1).max(100_000).nullable().default(null),
});
export const EvaluateParams = EvaluateSettings.extend({
  circuit: path,
  model: path.nullable(),
  saes: path.nullable(),
  data: path,
  thresholds: z.array(z.number().min(0).max(1e9)).min(1).max(200),
}).strict();

export const NodeRef = z.object({
  submodule: z.string().min(1).max(100),
  feature: z.union([z.number().int().min(0), z.literal('error')]),
  /** Absent: every position. */
  position: z.number().int().min(0).max(100_000).optional(),
});
export const AblateMode = z.union([AblationKind, z.object({ clamp: z.number().finite() }).strict()]);
export const AblateSettings = z.object({
  nodes: z.array(NodeRef).min(1).max(100_000),
  mode: AblateMode.default('mean'),
  n: count(100_000).default(40),
  seed: z.number().int().default(12),
});
export const AblateParams = AblateSettings.extend({ ...SourcePaths }).strict();

export const FeatureExamplesParams = z
  .object({ ...SourcePaths, n: count(100_000), seed: z.number().int(), submodule: z.string().min(1).max(100), feature: z.union([z.number().int().min(0), z.literal('error')]), top: count(100) })
  .strict();
export const FeatureExamples = z.object({
  /** Sequences looked at, and how many had the feature active anywhere. */
  scanned: z.number().int(),
  active: z.number().int(),
  contexts: z.array(z.object({ tokens: z.array(z.string()), position: z.number().int(), activation: z.number(), values: z.array(z.number()) })),
});

export const GenerateParams = z.object({ model: path, structure: Structure, out: path, seed: z.number().int(), testOut: path.nullable() }).strict();
export const PredictParams = z.object({ model: path, text: z.string().min(1).max(10_000), top: z.number().int().min(1).max(100) }).strict();
export const SleepParams = z.object({ ms: z.number().int().min(0).max(600_000), steps: z.number().int().min(1).max(10_000).default(10) }).strict();

export const Estimate = z.object({
  seconds: z.number(),
  peakBytes: z.number(),
  /** Memory this machine has for the run (free memory plus what the worker already holds). */
  availableBytes: z.number(),
  fits: z.boolean(),
  /** Why it will not fit, or null. */
  reason: z.string().nullable(),
  /** The measured MatMul rate the estimate rests on. */
  gflops: z.number(),
  tokens: z.number().int(),
  /** Where the peak comes from: still to load (model, dictionaries), the run, and what the worker holds. */
  memory: z.object({ modelBytes: z.number(), saeBytes: z.number(), runBytes: z.number(), baseBytes: z.number() }).optional(),
});

/** A worker job: its parameter schema and (for typing only) its result. */
const work = <Q extends z.ZodType, R>(params: Q) => ({ params, result: undefined as unknown as R });

/** Jobs the compute worker runs. Adding one: an entry here and a handler in jobs/handlers.ts. */
export const workerJobs = {
  'model.info': work<z.ZodObject<{ model: typeof path }, z.core.$strict>, z.output<typeof ModelInfo>>(z.object({ model: path }).strict()),
  'model.predict': work<typeof PredictParams, z.output<typeof TokenProb>[]>(PredictParams),
  'circuit.discover': work<typeof DiscoverParams, DiscoverResult>(DiscoverParams),
  'circuit.evaluate': work<typeof EvaluateParams, EvaluateResult>(EvaluateParams),
  'circuit.ablate': work<typeof AblateParams, AblateResult>(AblateParams),
  'circuit.estimate': work<typeof DiscoverParams, z.output<typeof Estimate>>(DiscoverParams),
  'data.generate': work<typeof GenerateParams, GenerateResult>(GenerateParams),
  'feature.examples': work<typeof FeatureExamplesParams, z.output<typeof FeatureExamples>>(FeatureExamplesParams),
  /** Downloads a known setup into the hub cache (hub/fetch.ts); the API registers the result. */
  'hub.fetch': work<typeof HubFetchParams, HubFetchResult>(HubFetchParams),
  // SHIFT (docs/shift.md): probes, the classifier's circuit, judging views, SHIFT runs.
  'probe.train': work<typeof Shift.ProbeTrainParams, ProbeTrainResult>(Shift.ProbeTrainParams),
  'shift.discover': work<typeof Shift.ShiftDiscoverParams, ShiftDiscoverResult>(Shift.ShiftDiscoverParams),
  'shift.features': work<typeof Shift.ShiftFeaturesParams, { scanned: number; features: z.output<typeof Shift.FeatureView>[] }>(Shift.ShiftFeaturesParams),
  'shift.run': work<typeof Shift.ShiftRunParams, ShiftRunResult>(Shift.ShiftRunParams),
  /** Test helper: sleeps in small steps, checking for cancellation. */
  'debug.sleep': work<typeof SleepParams, { slept: number }>(SleepParams),
};
export type WorkerJobs = typeof workerJobs;
export type WorkerJobName = keyof WorkerJobs;
export type WorkerParams<K extends WorkerJobName> = z.output<WorkerJobs[K]['params']>;
export type WorkerResult<K extends WorkerJobName> = WorkerJobs[K]['result'];

// ---- API channels --------------------------------------------------------------------------

const call = <Q extends z.ZodType, R extends z.ZodType>(request: Q, response: R) =>
  ({ kind: 'call', request, response }) as const;
const job = <Q extends z.ZodType, R extends z.ZodType>(request: Q, response: R) =>
  ({ kind: 'job', request, response }) as const;

const id = z.number().int().positive();
const empty = z.object({}).strict();
const done = z.object({});
export const LibraryKind = z.enum(['model', 'saeSet', 'dataset', 'circuit']);
const feature = z.union([z.number().int().min(0), z.literal('error')]);
/** A file to import: a path (CLI, the desktop app's dropped files) or its text (served UI). */
export const ImportSource = z.union([
  z.object({ path }).strict(),
  z.object({ name: z.string().min(1).max(1000), text: z.string() }).strict(),
]);
export const ImportResult = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dataset'), id, name: z.string(), examples: z.number().int() }),
  z.object({ kind: z.literal('circuit'), id, name: z.string(), nodes: z.number().int(), edges: z.number().int().nullable(), warnings: z.array(z.string()) }),
  z.object({
    kind: z.literal('annotations'),
    saeSetId: id,
    imported: z.number().int(),
    unchanged: z.number().int(),
    skipped: z.array(z.object({ line: z.number().int(), reason: z.string() })),
    /** SHIFT judgements the file carried (docs/shift.md). */
    judgements: z.number().int().optional(),
  }),
]);
const NamedText = z.object({ fileName: z.string(), text: z.string() });
export const LoadReport = z.object({
  file: z.string(),
  read: z.number(),
  requested: z.number(),
  kept: z.number(),
  dropped: z.record(z.string(), z.number()),
  notScanned: z.number(),
  minLength: z.number().optional(),
  exampleLength: z.number().optional(),
  /** The first few dropped records whose problem is in the data, each as "file:line: why". */
  details: z.array(z.string()).optional(),
  note: z.string().optional(),
});
export const SweepRow = z.object({
  threshold: z.number(),
  /** Nodes in C after the error variant: kept features plus kept (position, error) entries. */
  nodes: z.number(),
  features: z.number(),
  errors: z.number(),
  faithfulness: z.number(),
  completeness: z.number(),
  mC: z.number(),
  mComplement: z.number(),
});
export const Evaluation = ResultRecord.extend({
  result: z
    .object({
      submodules: z.array(z.string()),
      mFull: z.number(),
      mEmpty: z.number(),
      rows: z.array(SweepRow),
      examples: z.number(),
      startLayer: z.number(),
      ablation: AblationKind,
      errors: ErrorVariant,
      forceErrors: ForcedErrors.nullable(),
      warnings: z.array(z.string()),
    })
    .loose(),
});
export const Experiment = ResultRecord.extend({
  result: z
    .object({
      metric: z.string(),
      before: z.array(z.number()),
      after: z.array(z.number()),
      meanBefore: z.number(),
      meanAfter: z.number(),
      topChanges: z.array(z.object({ id: z.number().int(), token: z.string(), before: z.number(), after: z.number() })),
    })
    .loose(),
});
const ComparedNode = z.object({
  key: z.string(),
  submodule: z.string(),
  feature: z.union([z.number(), z.literal('error')]),
  position: z.number().nullable(),
  effectA: z.number().nullable(),
  effectB: z.number().nullable(),
});
/** view/compare.ts's result, for two circuit versions of the store. */
export const Comparison = z.object({
  a: id,
  b: id,
  threshold: z.number(),
  onlyA: z.array(ComparedNode),
  onlyB: z.array(ComparedNode),
  both: z.array(ComparedNode),
  jaccard: z.number().nullable(),
  correlation: z.number().nullable(),
  changedEdges: z.array(z.object({ source: z.string(), target: z.string(), weightA: z.number(), weightB: z.number(), delta: z.number(), inA: z.boolean(), inB: z.boolean() })),
  warnings: z.array(z.string()),
});

export const channels = {
  'app.info': call(empty, AppInfo),
  'job.cancel': call(z.object({ jobId: z.string().min(1).max(100) }).strict(), z.object({ cancelled: z.boolean() })),

  // The library: models, SAE sets, datasets and circuits (every version).
  'library.list': call(
    z.object({ search: z.string().max(200).optional(), tag: z.string().max(100).optional() }).strict(),
    z.object({ models: z.array(ModelRecord), saeSets: z.array(SaeSetRecord), datasets: z.array(DatasetRecord), circuits: z.array(CircuitSummary) }),
  ),
  'library.get': call(
    z.object({ kind: LibraryKind, id }).strict(),
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('model'), model: ModelRecord }),
      z.object({ kind: z.literal('saeSet'), saeSet: SaeSetRecord }),
      /** A dataset with its first records (as in the file) for a preview. */
      z.object({ kind: z.literal('dataset'), dataset: DatasetRecord, preview: z.array(z.record(z.string(), z.unknown())) }),
      z.object({ kind: z.literal('circuit'), circuit: CircuitSummary }),
    ]),
  ),
  'library.register': call(
    z.object({ kind: z.enum(['model', 'saeSet']), path, name: z.string().min(1).max(200).optional(), modelId: id.optional() }).strict(),
    z.union([ModelRecord, SaeSetRecord]),
  ),
  'library.rename': call(z.object({ kind: LibraryKind, id, name: z.string().min(1).max(200) }).strict(), done),
  'library.tag': call(z.object({ kind: LibraryKind, id, tags: z.array(z.string().max(100)).max(100) }).strict(), z.object({ tags: z.array(z.string()) })),
  'library.delete': call(z.object({ kind: LibraryKind, id }).strict(), done),
  'library.import': call(z.object({ source: ImportSource, name: z.string().min(1).max(200).optional(), saeSetId: id.optional() }).strict(), ImportResult),

  // Circuits and their versions.
  'circuit.get': call(z.object({ id }).strict(), z.object({ summary: CircuitSummary, circuit: z.record(z.string(), z.unknown()) })),
  'circuit.history': call(z.object({ id }).strict(), z.array(CircuitSummary)),
  'circuit.edit': call(z.object({ id, edit: CircuitEdit, label: z.string().max(200).optional() }).strict(), CircuitSummary),
  'circuit.label': call(z.object({ id, label: z.string().max(200).nullable() }).strict(), done),
  'circuit.export': call(z.object({ id }).strict(), NamedText),
  'circuit.compare': call(z.object({ a: id, b: id, threshold: z.number().min(0).default(0), topEdges: z.number().int().min(0).max(10_000_000).default(20) }).strict(), Comparison),
  'circuit.results': call(z.object({ id }).strict(), z.object({ evaluations: z.array(Evaluation), experiments: z.array(Experiment) })),

  // Feature annotations (shared by every circuit on the same SAE set).
  'annotation.set': call(
    z.object({ saeSetId: id, submodule: z.string().min(1).max(100), feature, text: z.string().max(500), notes: z.string().max(10_000).nullable().default(null) }).strict(),
    AnnotationRecord.nullable(),
  ),
  'annotation.forCircuit': call(z.object({ circuitId: id }).strict(), z.array(AnnotationRecord)),
  'annotation.history': call(z.object({ saeSetId: id, submodule: z.string().min(1).max(100), feature }).strict(), z.array(AnnotationChange)),
  'annotation.export': call(z.object({ saeSetId: id }).strict(), NamedText),

  // Jobs (compute worker): progress events, Cancel, results saved in the store.
  'model.info': job(z.object({ model: path.optional() }).strict(), ModelInfo),
  'model.predict': job(
    z.object({ model: path.optional(), text: z.string().min(1, 'text must not be empty').max(10_000), top: z.number().int().min(1).max(100).default(10) }).strict(),
    z.array(TokenProb),
  ),
  'circuit.estimate': job(DiscoverSettings.extend({ modelId: id, saeSetId: id.nullable(), datasetId: id }).strict(), Estimate),
  'circuit.discover': job(
    DiscoverSettings.extend({ modelId: id, saeSetId: id.nullable(), datasetId: id, name: z.string().min(1).max(200).optional() }).strict(),
    z.object({ circuit: CircuitSummary, saeQuality: z.array(z.object({ submodule: z.string(), varianceExplained: z.number(), meanL0: z.number(), tokens: z.number() })), dataReport: LoadReport, notes: z.array(z.string()), seconds: z.number() }),
  ),
  'circuit.evaluate': job(EvaluateSettings.extend({ circuitId: id, datasetId: id.optional() }).strict(), Evaluation),
  'circuit.ablate': job(AblateSettings.extend({ circuitId: id, datasetId: id.optional() }).strict(), Experiment),
  'feature.examples': job(
    z.object({ circuitId: id, submodule: z.string().min(1).max(100), feature, datasetId: id.optional(), n: count(10_000).default(200), top: count(100).default(8) }).strict(),
    FeatureExamples,
  ),
  'data.generate': job(
    z.object({ modelId: id, structure: Structure, seed: z.number().int().default(12), name: z.string().min(1).max(200).optional() }).strict(),
    z.object({ train: DatasetRecord, test: DatasetRecord, droppedWords: z.array(z.string()) }),
  ),

  // Real models: known setups, downloads into the Hugging Face cache, folders described from
  // their headers, the cache, Neuronpedia links (docs/hub.md).
  'hub.setups': call(empty, HubSetups),
  'hub.fetch': job(HubFetchRequest, HubFetchResponse),
  'hub.inspect': call(z.object({ path }).strict(), Inspection),
  'hub.cache.list': call(empty, CacheListing),
  'hub.cache.clear': call(CacheClearRequest, CacheClearResponse),
  'hub.links': call(z.object({ saeSetId: id }).strict(), HubLinks),

  // SHIFT (docs/shift.md): train a probe → discover its circuit → judge features → run SHIFT.
  /** Registers the SHIFT demo (model, SAEs, biographies, its judgements) on first use; null when it is not built. */
  'shift.demo': call(empty, Shift.ShiftDemoResponse),
  'probe.train': job(Shift.ProbeTrainRequest, Shift.ProbeRecord),
  'probe.list': call(z.object({ modelId: id.optional(), datasetId: id.optional() }).strict(), z.array(Shift.ProbeRecord)),
  'shift.discover': job(Shift.ShiftDiscoverRequest, Shift.ShiftDiscoverResponse),
  'shift.features': job(Shift.ShiftFeaturesRequest, Shift.ShiftFeaturesResponse),
  /** Sets (decision keep | ablate) or clears (null) judgements; returns every judgement of the SAE set. */
  'shift.judge': call(Shift.ShiftJudgeRequest, z.array(Shift.JudgementRecord)),
  /** Judgements of an SAE set, or only of a circuit's features. */
  'shift.judgements': call(z.object({ saeSetId: id.optional(), circuitId: id.optional() }).strict(), z.array(Shift.JudgementRecord)),
  'shift.run': job(Shift.ShiftRunRequest, Shift.ShiftRunRecord),
  'shift.runs': call(z.object({ probeId: id.optional() }).strict(), z.array(Shift.ShiftRunRecord)),
  /** Diagnostic job for tests of progress and Cancel; only hosts started for tests offer it. */
  'debug.sleep': job(SleepParams, z.object({ slept: z.number() })),
} as const;

/** Channels only a host started for tests answers (ApiSettings.testChannels). */
export const TEST_CHANNELS: ReadonlySet<string> = new Set(['debug.sleep']);

// ---- events (host → UI) --------------------------------------------------------------------

export const events = {
  'job.progress': z.object({ jobId: z.string(), fraction: z.number().nullable(), message: z.string() }),
  'job.done': z.object({ jobId: z.string(), result: z.unknown() }),
  'job.failed': z.object({ jobId: z.string(), error: ApiError }),
  /** Desktop app only: a menu command for the focused window's editor (app/menu.ts). */
  'app.command': z.object({ command: z.enum(['undo', 'redo', 'delete', 'fit']) }),
} as const;

// ---- derived types -------------------------------------------------------------------------

type Channels = typeof channels;
export type ChannelName = keyof Channels;
export type CallName = { [C in ChannelName]: Channels[C]['kind'] extends 'call' ? C : never }[ChannelName];
export type JobName = { [C in ChannelName]: Channels[C]['kind'] extends 'job' ? C : never }[ChannelName];
/** What a caller sends (defaults may be omitted). */
export type Request<C extends ChannelName> = z.input<Channels[C]['request']>;
/** What a handler receives (after validation and defaults). */
export type ParsedRequest<C extends ChannelName> = z.output<Channels[C]['request']>;
export type Response<C extends ChannelName> = z.output<Channels[C]['response']>;
export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;
export type ApiError = z.output<typeof ApiError>;
export type ApiErrorCode = z.output<typeof ApiErrorCode>;
export type AppInfo = z.output<typeof AppInfo>;
export type ModelInfo = z.output<typeof ModelInfo>;
export type TokenProb = z.output<typeof TokenProb>;

/** Every invoke, on either transport, answers with one of these (never throws across). */
export type Reply<T = unknown> = { ok: true; result: T } | { ok: false; error: ApiError };

/** What the preload exposes as `window.sfc`; the WebSocket client implements the same. */
export interface SfcBridge {
  invoke(channel: string, payload: unknown): Promise<Reply>;
  on(event: EventName, cb: (payload: unknown) => void): () => void;
  /**
   * Desktop app only: the path of a dropped file (Electron's webUtils.getPathForFile), so
   * `library.import` can read it in the main process. Absent in the served UI, which sends the
   * file's text instead.
   */
  pathForFile?(file: File): string;
}

export const isChannel = (name: unknown): name is ChannelName =>
  typeof name === 'string' && Object.hasOwn(channels, name);

// ---- WebSocket framing (the IPC transport needs none: Electron frames its messages) ---------

export const WsRequest = z.object({
  /** Chosen by the client to match the reply; unique per connection. */
  id: z.union([z.number().int(), z.string().max(100)]),
  channel: z.string().max(200),
  payload: z.unknown().optional(),
});
export type WsRequest = z.output<typeof WsRequest>;
export type WsMessage =
  | ({ type: 'reply'; id: number | string | null } & Reply)
  | { type: 'event'; event: EventName; payload: unknown };
