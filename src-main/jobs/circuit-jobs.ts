/**
 * The circuit jobs behind `sfc discover`, `sfc evaluate` and the app: load model, SAEs and
 * data, run the method, and return typed, serialisable results.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SaeOps } from '../circuits/sae-ops';
import type { CircuitContext } from '../circuits/state';
import { type PreparedExample, discover } from '../circuits/discover';
import { CIRCUIT_FORMAT, CIRCUIT_VERSION, type CircuitFile, provenanceWarnings, selectCircuit, validateCircuitFile } from '../circuits/circuit-file';
import type { AblationKind, ForcedErrors } from '../circuits/ablation';
import { type ErrorVariant, type Faithfulness, evaluateCircuit } from '../circuits/evaluate';
import { type AblateMode, type AblateOutcome, type NodeRef, ablateNodes } from '../circuits/experiment';
import type { Aggregation } from '../circuits/edges';
import type { NodeMethod } from '../circuits/nodes';
import { loadAgreementFile } from '../data/agreement';
import { loadClusterFile } from '../data/clusters';
import { formatReport, type LoadReport } from '../data/common';
import { type Structure, generateAgreement, writeJsonl } from '../data/generator';
import { identitySaeSet } from '../saes/identity';
import { contentHash } from '../util/hash';
import { checkWritable } from '../util/atomic-write';
import { type SaeQualityRow, SaeQualityCollector } from '../circuits/sae-quality';
import { APP_VERSION } from '../version';
import type { JobContext } from '../util/job-context';
import { runtime } from './runtime';
import { checkMemory } from './memory';

export interface DiscoverParams {
  model: string;
  /** SAE folder; ignored with neurons. */
  saes: string | null;
  data: string;
  nopair: boolean;
  method: NodeMethod;
  steps: number;
  aggregation: Aggregation;
  nodeThreshold: number;
  edgeThreshold: number;
  n: number;
  batchSize: number;
  seed: number;
  neurons: boolean;
  nodesOnly: boolean;
  keepAll: boolean;
  /** Only examples whose clean prefix has exactly this many tokens; null: the min-length rule. */
  exampleLength: number | null;
}

export interface DiscoverResult {
  circuit: CircuitFile;
  /** Reconstruction quality of each SAE on the first examples' clean and patch prefixes (about 128 tokens). */
  saeQuality: SaeQualityRow[];
  dataReport: LoadReport;
  notes: string[];
  seconds: number;
  /** Where the time went: loading (model, SAEs, data) and each batch (the first compiles the graphs). */
  timings: { loadSeconds: number; batchSeconds: number[] };
}

interface Loaded {
  ctx: CircuitContext;
  notes: string[];
}

export async function loadContext(model: string, saes: string | null, neurons: boolean, job: JobContext): Promise<Loaded> {
  const rt = runtime();
  // Before anything big is read: say what it takes, and refuse what will not fit (jobs/memory.ts).
  job.progress(null, `memory: ${checkMemory({ model, saes, neurons }).summary}`);
  job.progress(null, `loading model ${model}`);
  const m = await rt.model(model);
  const submodules = m.hookPoints;
  const notes: string[] = [];
  let set;
  if (neurons) set = identitySaeSet(submodules, m.cfg.hiddenSize);
  else {
    if (!saes) throw new Error('an SAE folder is required (or use neurons)');
    set = await rt.saes(saes, {
      submodules,
      d: m.cfg.hiddenSize,
      layers: m.cfg.numLayers,
      onNote: (msg) => notes.push(msg),
      onProgress: (k, total, sub) => job.progress(k / total, `loading SAEs: ${sub}`),
    });
  }
  return { ctx: { model: m, saes: set, ops: new SaeOps(rt.sessions), submodules }, notes };
}

export function loadExamples(ctx: Pick<CircuitContext, 'model'>, data: string, nopair: boolean, n: number, seed: number, exampleLength: number | null = null): { examples: PreparedExample[]; records: Record<string, unknown>[]; report: LoadReport } {
  const tok = ctx.model.tokenizer;
  if (!tok) throw new Error(`${ctx.model.path}: the model has no tokenizer.json, which data files need`);
  if (nopair) {
    const { examples, report } = loadClusterFile(data, tok, { n, exampleLength });
    return {
      examples: examples.map((e) => ({ clean: e.cleanPrefixIds, patch: null, cleanAnswer: e.cleanAnswerId, patchAnswer: null })),
      records: examples.map((e) => ({ clean_prefix: e.cleanPrefix, clean_answer: e.cleanAnswer })),
      report,
    };
  }
  const { examples, report } = loadAgreementFile(data, tok, { n, seed, exampleLength });
  return {
    examples: examples.map((e) => ({ clean: e.cleanPrefixIds, patch: e.patchPrefixIds, cleanAnswer: e.cleanAnswerId, patchAnswer: e.patchAnswerId })),
    records: examples.map((e) => e.record),
    report,
  };
}

/**
 * Examples to measure SAE quality on: their clean and patch prefixes, the first examples until
 * about `tokens` tokens. Variance explained over a handful of tokens is noisy (a 2-token prefix set has
 * one fixed first token), so enough tokens matter more than which.
 */
function qualityExamples(examples: PreparedExample[], tokens: number): Set<number> {
  const out = new Set<number>();
  let count = 0;
  for (const [i, e] of examples.entries()) {
    if (count >= tokens) break;
    out.add(i);
    count += e.clean.length + (e.patch?.length ?? 0);
  }
  return out;
}

export async function discoverJob(p: DiscoverParams, job: JobContext): Promise<DiscoverResult> {
  const t0 = performance.now();
  const { ctx, notes } = await loadContext(p.model, p.saes, p.neurons, job);
  job.checkCancelled();
  const { examples, records, report } = loadExamples(ctx, p.data, p.nopair, p.n, p.seed, p.exampleLength);
  const loadSeconds = (performance.now() - t0) / 1000;
  const stats = { selected: 0, batchSeconds: [] as number[] };
  job.progress(0, formatReport(report));
  // SAE quality from discovery's own clean and patch passes (no pass of its own).
  const quality = p.neurons ? null : new SaeQualityCollector(ctx, qualityExamples(examples, 128));
  const totals = await discover(ctx, examples, {
    method: p.method,
    steps: p.steps,
    aggregation: p.aggregation,
    nodeThreshold: p.nodeThreshold,
    batchSize: p.batchSize,
    nodesOnly: p.nodesOnly,
    onBatch: quality ? (b) => quality.add(b) : undefined,
    stats,
  }, job);
  const saeQuality = quality?.rows() ?? [];
  const features = new Map([...ctx.saes].map(([k, s]) => [k, s.f]));
  const { nodes, edges } = selectCircuit(totals, { aggregation: p.aggregation, nodeThreshold: p.nodeThreshold, edgeThreshold: p.edgeThreshold, keepAll: p.keepAll, features });
  const tok = ctx.model.tokenizer!;
  const circuit: CircuitFile = {
    format: CIRCUIT_FORMAT,
    version: CIRCUIT_VERSION,
    createdAt: new Date().toISOString(),
    app: { name: 'sfc-workbench', version: APP_VERSION },
    parameters: {
      method: p.method, steps: p.steps, aggregation: p.aggregation, nodeThreshold: p.nodeThreshold, edgeThreshold: p.edgeThreshold,
      keepAll: p.keepAll, nodesOnly: p.nodesOnly, examples: examples.length, batchSize: p.batchSize, seed: p.seed, nopair: p.nopair, neurons: p.neurons,
    },
    provenance: {
      model: { path: resolve(p.model), sha256: contentHash(resolve(p.model)) },
      saes: p.neurons ? { identity: true } : { path: resolve(p.saes!), sha256: contentHash(resolve(p.saes!)) },
      data: { path: resolve(p.data), sha256: contentHash(resolve(p.data)) },
    },
    submodules: ctx.submodules.map((name) => ({ name, features: ctx.saes.get(name)!.f, kind: ctx.saes.get(name)!.kind })),
    positions: p.aggregation === 'none' ? examples[0].clean.map((id) => tok.tokenString(id)) : null,
    examples: records,
    totalEffect: totals.totalEffect === null ? null : totals.totalEffect / totals.examples,
    nodes,
    edges,
  };
  return { circuit, saeQuality, dataReport: report, notes, seconds: (performance.now() - t0) / 1000, timings: { loadSeconds, batchSeconds: stats.batchSeconds } };
}

export interface EvaluateParams {
  circuit: string;
  /** Override the circuit's model / SAEs. */
  model: string | null;
  saes: string | null;
  data: string;
  n: number;
  /** Seeds the example shuffle and the resample draw. */
  seed: number;
  ablation: AblationKind;
  /** Error nodes kept in C: all (the paper's default), none, or resid-only. */
  errors: ErrorVariant;
  /** ablation.py's handle_errors remove/keep: every error forced ablated/kept in every run. */
  forceErrors: ForcedErrors | null;
  thresholds: number[];
  startLayer: number | null;
  /** As DiscoverParams.exampleLength, for the evaluation examples. */
  exampleLength: number | null;
}

export interface EvaluateResult extends Faithfulness {
  circuit: string;
  examples: number;
  startLayer: number;
  ablation: AblationKind;
  errors: ErrorVariant;
  forceErrors: ForcedErrors | null;
  warnings: string[];
}

export async function evaluateJob(p: EvaluateParams, job: JobContext): Promise<EvaluateResult> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p.circuit, 'utf8'));
  } catch (e) {
    throw new Error(`${p.circuit}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `invalid JSON (${(e as Error).message})`}`);
  }
  const circuit = validateCircuitFile(raw, p.circuit);
  // A circuit found on no-pair data is evaluated like any other: the data given here is paired
  // (its patch inputs give the ablation values), whatever the discovery used.
  const prov = circuit.provenance;
  const model = p.model ?? prov.model.path;
  const neurons = 'identity' in prov.saes;
  const saes = p.saes ?? ('path' in prov.saes ? prov.saes.path : null);
  const { ctx } = await loadContext(model, saes, neurons, job);
  const { examples } = loadExamples(ctx, p.data, false, p.n, p.seed, p.exampleLength);
  // Stored provenance against the model and SAEs actually used: warn, do not refuse.
  const warnings: string[] = provenanceWarnings(circuit, p.circuit, { model, saes: neurons ? null : saes }, contentHash);
  const below = p.thresholds.filter((t) => !circuit.parameters.keepAll && t < circuit.parameters.nodeThreshold);
  if (below.length) {
    warnings.push(`thresholds ${below.join(', ')} are below the circuit's node threshold ${circuit.parameters.nodeThreshold}: only its written nodes are counted (discover with --keep-all or --node-threshold 0 for a full sweep)`);
  }
  const startLayer = p.startLayer ?? Math.floor(ctx.model.cfg.numLayers / 3);
  const opts = { startLayer, thresholds: p.thresholds, ablation: p.ablation, errors: p.errors, forceErrors: p.forceErrors, seed: p.seed, circuitName: p.circuit, dataName: p.data };
  const res = await evaluateCircuit(ctx, circuit, examples, opts, job);
  return { ...res, circuit: resolve(p.circuit), examples: examples.length, startLayer, ablation: p.ablation, errors: p.errors, forceErrors: p.forceErrors, warnings };
}

export interface AblateParams {
  model: string;
  /** SAE folder; ignored with neurons. */
  saes: string | null;
  neurons: boolean;
  data: string;
  nopair: boolean;
  n: number;
  /** Seeds the example shuffle and the resample draw. */
  seed: number;
  nodes: NodeRef[];
  mode: AblateMode;
}

export interface AblateResult extends AblateOutcome {
  examples: number;
  dataReport: LoadReport;
  notes: string[];
  seconds: number;
}

/** The "ablate and clamp" experiment on the listed nodes (circuits/experiment.ts). */
export async function ablateJob(p: AblateParams, job: JobContext): Promise<AblateResult> {
  const t0 = performance.now();
  const { ctx, notes } = await loadContext(p.model, p.saes, p.neurons, job);
  job.checkCancelled();
  const { examples, report } = loadExamples(ctx, p.data, p.nopair, p.n, p.seed);
  job.progress(0, formatReport(report));
  const outcome = await ablateNodes(ctx, examples, { nodes: p.nodes, mode: p.mode, seed: p.seed }, job);
  return { ...outcome, examples: examples.length, dataReport: report, notes, seconds: (performance.now() - t0) / 1000 };
}

export interface GenerateResult {
  train: number;
  test: number;
  droppedWords: string[];
}

export interface GenerateParams {
  model: string;
  structure: Structure;
  out: string;
  seed: number;
  testOut: string | null;
}

export async function generateDataJob(p: GenerateParams, job: JobContext): Promise<{ train: number; test: number; droppedWords: string[] }> {
  // Destinations first: an unwritable path fails before any work (util/atomic-write.ts).
  checkWritable(p.out);
  if (p.testOut) checkWritable(p.testOut);
  job.progress(null, 'loading tokenizer');
  const m = await runtime().model(p.model);
  if (!m.tokenizer) throw new Error(`${p.model}: no tokenizer.json`);
  const g = generateAgreement(m.tokenizer, { structure: p.structure, seed: p.seed });
  writeJsonl(p.out, g.train);
  if (p.testOut) writeJsonl(p.testOut, g.test);
  return { train: g.train.length, test: g.test.length, droppedWords: g.droppedWords };
}
