/**
 * The circuit jobs behind `sfc discover`, `sfc evaluate` and the app: load model, SAEs and
 * data, run the method, and return typed, serialisable results.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SaeOps } from '../circuits/sae-ops';
import type { CircuitContext } from '../circuits/state';
import { type PreparedExample, discover } from '../circuits/discover';
import { CIRCUIT_FORMAT, CIRCUIT_VERSION, type CircuitFile, selectCircuit, validateCircuitFile } from '../circuits/circuit-file';
import { type CircuitMask, type Faithfulness, evaluatedSubmodules, faithfulnessSweep } from '../circuits/ablation';
import type { Aggregation } from '../circuits/edges';
import type { NodeMethod } from '../circuits/nodes';
import { loadAgreementFile } from '../data/agreement';
import { loadClusterFile } from '../data/clusters';
import { formatReport, type LoadReport } from '../data/common';
import { type Structure, generateAgreement, writeJsonl } from '../data/generator';
import { identitySaeSet } from '../saes/identity';
import { Tensor } from '../engine/tensor';
import { contentHash } from '../util/hash';
import { type SaeQualityRow, measureSaeQuality } from '../circuits/sae-quality';
import { APP_VERSION } from '../version';
import type { JobContext } from '../util/job-context';
import { runtime } from './runtime';

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
}

export interface DiscoverResult {
  circuit: CircuitFile;
  /** Reconstruction quality of each SAE on the first examples' clean and patch prefixes (about 128 tokens). */
  saeQuality: SaeQualityRow[];
  dataReport: LoadReport;
  notes: string[];
  seconds: number;
}

interface Loaded {
  ctx: CircuitContext;
  notes: string[];
}

async function loadContext(model: string, saes: string | null, neurons: boolean, job: JobContext): Promise<Loaded> {
  const rt = runtime();
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

function loadExamples(ctx: CircuitContext, data: string, nopair: boolean, n: number, seed: number): { examples: PreparedExample[]; records: Record<string, unknown>[]; report: LoadReport } {
  const tok = ctx.model.tokenizer;
  if (!tok) throw new Error(`${ctx.model.path}: the model has no tokenizer.json, which data files need`);
  if (nopair) {
    const { examples, report } = loadClusterFile(data, tok, { n });
    return {
      examples: examples.map((e) => ({ clean: e.cleanPrefixIds, patch: null, cleanAnswer: e.cleanAnswerId, patchAnswer: null })),
      records: examples.map((e) => ({ clean_prefix: e.cleanPrefix, clean_answer: e.cleanAnswer })),
      report,
    };
  }
  const { examples, report } = loadAgreementFile(data, tok, { n, seed });
  return {
    examples: examples.map((e) => ({ clean: e.cleanPrefixIds, patch: e.patchPrefixIds, cleanAnswer: e.cleanAnswerId, patchAnswer: e.patchAnswerId })),
    records: examples.map((e) => e.record),
    report,
  };
}

/**
 * Prefixes to measure SAE quality on: clean and patch prefixes of the first examples until about
 * `tokens` tokens. Variance explained over a handful of tokens is noisy (a 2-token prefix set has
 * one fixed first token), so enough tokens matter more than which.
 */
function qualitySequences(examples: PreparedExample[], tokens: number): number[][] {
  const out: number[][] = [];
  let count = 0;
  for (const e of examples) {
    if (count >= tokens) break;
    for (const ids of e.patch ? [e.clean, e.patch] : [e.clean]) {
      out.push(ids);
      count += ids.length;
    }
  }
  return out;
}

export async function discoverJob(p: DiscoverParams, job: JobContext): Promise<DiscoverResult> {
  const t0 = performance.now();
  const { ctx, notes } = await loadContext(p.model, p.saes, p.neurons, job);
  job.checkCancelled();
  const { examples, records, report } = loadExamples(ctx, p.data, p.nopair, p.n, p.seed);
  job.progress(0, formatReport(report));
  const saeQuality = p.neurons ? [] : await measureSaeQuality(ctx, ctx.model.batchFromIds(qualitySequences(examples, 128)));
  const totals = await discover(ctx, examples, {
    method: p.method,
    steps: p.steps,
    aggregation: p.aggregation,
    nodeThreshold: p.nodeThreshold,
    batchSize: p.batchSize,
    nodesOnly: p.nodesOnly,
  }, job);
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
  return { circuit, saeQuality, dataReport: report, notes, seconds: (performance.now() - t0) / 1000 };
}

export interface EvaluateParams {
  circuit: string;
  /** Override the circuit's model / SAEs. */
  model: string | null;
  saes: string | null;
  data: string;
  n: number;
  seed: number;
  ablation: 'mean' | 'zero';
  handleErrors: 'default' | 'remove' | 'keep';
  thresholds: number[];
  startLayer: number | null;
}

export interface EvaluateResult extends Faithfulness {
  circuit: string;
  examples: number;
  startLayer: number;
  warnings: string[];
}

/** Masks from a circuit's node effects at threshold τ (|effect| > τ), over the evaluated submodules. */
export function masksAt(circuit: CircuitFile, submodules: string[], t: number): { mask: CircuitMask; nodes: number } {
  const features = new Map(circuit.submodules.map((s) => [s.name, s.features]));
  const positions = circuit.parameters.aggregation === 'none' ? (circuit.positions?.length ?? 1) : 1;
  const mask: CircuitMask = new Map(submodules.map((s) => [s, { keep: Array.from({ length: positions }, () => new Uint8Array(features.get(s)! + 1)) }]));
  let nodes = 0;
  for (const n of circuit.nodes) {
    const m = mask.get(n.submodule);
    if (!m || !(Math.abs(n.effect) > t)) continue;
    const F = features.get(n.submodule)!;
    const row = m.keep[n.position ?? 0];
    const i = n.feature === 'error' ? F : n.feature;
    if (!row[i]) nodes++;
    row[i] = 1;
  }
  return { mask, nodes };
}

export async function evaluateJob(p: EvaluateParams, job: JobContext): Promise<EvaluateResult> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p.circuit, 'utf8'));
  } catch (e) {
    throw new Error(`${p.circuit}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `invalid JSON (${(e as Error).message})`}`);
  }
  const circuit = validateCircuitFile(raw, p.circuit);
  if (circuit.parameters.nopair) throw new Error(`${p.circuit}: evaluation needs paired data; this circuit was discovered without pairs`);
  const prov = circuit.provenance;
  const model = p.model ?? prov.model.path;
  const neurons = 'identity' in prov.saes;
  const saes = p.saes ?? ('path' in prov.saes ? prov.saes.path : null);
  const { ctx } = await loadContext(model, saes, neurons, job);
  for (const s of circuit.submodules) {
    const sae = ctx.saes.get(s.name);
    if (!sae) throw new Error(`${p.circuit}: submodule ${s.name} is not in the model`);
    if (sae.f !== s.features) throw new Error(`${p.circuit}: ${s.name} has ${s.features} features in the circuit but ${sae.f} in the loaded SAE`);
  }
  const { examples } = loadExamples(ctx, p.data, false, p.n, p.seed);
  const warnings: string[] = [];
  const below = p.thresholds.filter((t) => !circuit.parameters.keepAll && t < circuit.parameters.nodeThreshold);
  if (below.length) {
    warnings.push(`thresholds ${below.join(', ')} are below the circuit's node threshold ${circuit.parameters.nodeThreshold}: only its written nodes are counted (discover with --keep-all or --node-threshold 0 for a full sweep)`);
  }
  if (circuit.parameters.aggregation === 'none' && circuit.positions && examples.some((e) => e.clean.length !== circuit.positions!.length)) {
    throw new Error(`${p.data}: position-resolved circuit has ${circuit.positions.length} positions but the examples have ${examples[0].clean.length} tokens`);
  }
  const startLayer = p.startLayer ?? Math.floor(ctx.model.cfg.numLayers / 3);
  const subs = evaluatedSubmodules(ctx.submodules, startLayer);
  // One evaluation batch (mean ablation is a per-batch mean, as in the original notebook).
  const clean = ctx.model.batchFromIds(examples.map((e) => e.clean));
  const patch = ctx.model.batchFromIds(examples.map((e) => e.patch!));
  const B = examples.length;
  // Evaluation metric: logit[clean] − logit[patch] (the ratios do not depend on the sign).
  const metric = {
    ids: new Tensor(Int32Array.from(examples.flatMap((e) => [e.cleanAnswer, e.patchAnswer!])), [B, 2]),
    coef: new Tensor(Float32Array.from(examples.flatMap(() => [1, -1])), [B, 2]),
  };
  const res = await faithfulnessSweep(ctx, clean, patch, metric, subs, p.thresholds, (t) => masksAt(circuit, subs, t), {
    ablation: p.ablation,
    handleErrors: p.handleErrors,
    job,
  });
  return { ...res, circuit: resolve(p.circuit), examples: B, startLayer, warnings };
}

export interface GenerateParams {
  model: string;
  structure: Structure;
  out: string;
  seed: number;
  testOut: string | null;
}

export async function generateDataJob(p: GenerateParams, job: JobContext): Promise<{ train: number; test: number; droppedWords: string[] }> {
  job.progress(null, 'loading tokenizer');
  const m = await runtime().model(p.model);
  if (!m.tokenizer) throw new Error(`${p.model}: no tokenizer.json`);
  const g = generateAgreement(m.tokenizer, { structure: p.structure, seed: p.seed });
  writeJsonl(p.out, g.train);
  if (p.testOut) writeJsonl(p.testOut, g.test);
  return { train: g.train.length, test: g.test.length, droppedWords: g.droppedWords };
}
