/**
 * Faithfulness and completeness of a circuit over node thresholds, as in the paper's figure
 * (docs/method-notes.md, "Evaluation"): masks from the circuit's node effects at each
 * threshold, an error-handling variant applied to them, then m(C) and m(M∖C) against m(M) and
 * m(∅) with the machinery of ablation.ts.
 */
import type { JobContext } from '../util/job-context';
import type { Batch } from '../models/neox-model';
import type { CircuitFile, CircuitNode } from './circuit-file';
import type { PreparedExample } from './discover';
import { type AblationKind, type AblationRun, type CircuitMask, type ForcedErrors, type SubmoduleMask, ablationValues, answerMetric, metricsWithAblations } from './ablation';
import type { CircuitContext, MetricInputs } from './state';
import { kindOf, layerOf } from './walk';

/** The paper's sweep: logspace(−4, 0, 15), the original notebook's thresholds (6 significant digits). */
export const PAPER_THRESHOLDS = Array.from({ length: 15 }, (_, i) => Number((10 ** (-4 + (4 * i) / 14)).toPrecision(6)));

/**
 * Which of the circuit's error nodes stay in C (the paper's settings): 'all' = features (errors
 * like any node), 'none' = features_wo_errs, 'resid-only' = features_wo_some_errs.
 */
export type ErrorVariant = 'all' | 'none' | 'resid-only';

/** Submodules evaluated: attn/mlp/resid of layers ≥ startLayer, no embed. */
export function evaluatedSubmodules(all: string[], startLayer: number): string[] {
  return all.filter((s) => s !== 'embed' && layerOf(s) >= startLayer);
}

/** A circuit at one threshold: its masks and how many nodes they keep. */
export interface MasksAt {
  mask: CircuitMask;
  /** Kept features + kept (position, error) entries, over the evaluated submodules. */
  nodes: number;
  features: number;
  errors: number;
}

function positionsOf(circuit: CircuitFile): number {
  return circuit.parameters.aggregation === 'none' ? (circuit.positions?.length ?? 1) : 1;
}

/** Throws, naming the circuit and the node, for a node the masks could not hold. */
export function checkCircuitNodes(circuit: CircuitFile, source: string): void {
  const features = new Map(circuit.submodules.map((s) => [s.name, s.features]));
  const positions = positionsOf(circuit);
  const resolved = circuit.parameters.aggregation === 'none';
  const fail = (n: CircuitNode, msg: string): never => {
    throw new Error(`${source}: node ${n.id}: ${msg}`);
  };
  for (const n of circuit.nodes) {
    const F = features.get(n.submodule);
    if (F === undefined) fail(n, `submodule '${n.submodule}' is not among the circuit's submodules (${[...features.keys()].join(', ')})`);
    if (n.feature !== 'error' && !(Number.isInteger(n.feature) && n.feature >= 0 && n.feature < F!)) fail(n, `feature ${n.feature} is out of range for ${n.submodule} (0..${F! - 1})`);
    if (resolved && !(Number.isInteger(n.position) && n.position! >= 0 && n.position! < positions)) fail(n, `position ${n.position} is out of range (the circuit has ${positions} positions)`);
    if (!resolved && n.position !== undefined) fail(n, `has a position but the circuit is aggregated over positions (${circuit.parameters.aggregation})`);
  }
}

/**
 * Masks of the circuit's nodes with |effect| > τ over the evaluated submodules, with the error
 * variant applied. `features` gives F per submodule.
 */
export function circuitMasks(circuit: CircuitFile, source: string, submodules: string[], features: Map<string, number>, t: number, errors: ErrorVariant): MasksAt {
  checkCircuitNodes(circuit, source);
  const positions = positionsOf(circuit);
  const mask: CircuitMask = new Map(submodules.map((s) => [s, { keep: Array.from({ length: positions }, () => new Uint8Array(features.get(s)! + 1)) }]));
  for (const n of circuit.nodes) {
    const m = mask.get(n.submodule);
    if (!m || !(Math.abs(n.effect) > t)) continue;
    const F = features.get(n.submodule)!;
    m.keep[n.position ?? 0][n.feature === 'error' ? F : n.feature] = 1;
  }
  for (const [name, m] of mask) if (!errorStays(name, errors)) clearErrors(m, features.get(name)!);
  return { mask, ...countNodes(mask, features) };
}

function errorStays(submodule: string, errors: ErrorVariant): boolean {
  return errors === 'all' || (errors === 'resid-only' && kindOf(submodule) === 'resid');
}

function clearErrors(m: SubmoduleMask, F: number): void {
  for (const row of m.keep) row[F] = 0;
}

function countNodes(mask: CircuitMask, features: Map<string, number>): { nodes: number; features: number; errors: number } {
  let nf = 0;
  let ne = 0;
  for (const [name, m] of mask) {
    const F = features.get(name)!;
    for (const row of m.keep) {
      for (let i = 0; i < F; i++) nf += row[i];
      ne += row[F];
    }
  }
  return { nodes: nf + ne, features: nf, errors: ne };
}

export interface SweepRow {
  threshold: number;
  nodes: number;
  /** The node count split into features and (position, error) entries. */
  features: number;
  errors: number;
  faithfulness: number;
  completeness: number;
  /** Mean metric with the circuit alone, and with the circuit removed. */
  mC: number;
  mComplement: number;
}

export interface Faithfulness {
  submodules: string[];
  mFull: number;
  mEmpty: number;
  rows: SweepRow[];
}

export interface SweepOptions {
  ablation: AblationKind;
  forceErrors: ForcedErrors | null;
  /** Seed of the resample draw. */
  seed: number;
}

const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;

/**
 * Faithfulness and completeness for each threshold; `maskAt(τ)` gives the circuit at τ. One
 * set of ablation values and one clean pass serve every run, and all 2·thresholds + 1 ablated
 * runs go through circuits/ablated-runs.ts together, sharing their common work.
 */
export async function faithfulnessSweep(
  ctx: CircuitContext,
  clean: Batch,
  patch: Batch,
  metric: MetricInputs,
  submodules: string[],
  thresholds: number[],
  maskAt: (t: number) => MasksAt,
  opts: SweepOptions,
  job?: JobContext,
): Promise<Faithfulness> {
  job?.progress(0, 'ablation values');
  const values = await ablationValues(ctx, patch, submodules, opts.ablation, opts.seed);
  const { acts, h } = await ctx.model.forward(clean);
  const mFull = mean((await ctx.model.metric(clean, h, metric.ids, metric.coef)).data);
  const circuits = thresholds.map((t) => {
    job?.checkCancelled();
    return maskAt(t);
  });
  const forceErrors = opts.forceErrors;
  const runs: AblationRun[] = [{ masks: new Map(), opts: { complement: false, forceErrors } }];
  for (const c of circuits) runs.push({ masks: c.mask, opts: { complement: false, forceErrors } }, { masks: c.mask, opts: { complement: true, forceErrors } });
  const m = (await metricsWithAblations(ctx, clean, metric, values, runs, { cleanActs: acts, job })).map(mean);
  const mEmpty = m[0];
  const denom = mFull - mEmpty;
  const rows: SweepRow[] = circuits.map(({ nodes, features, errors }, i) => {
    const mC = m[1 + 2 * i];
    const mComplement = m[2 + 2 * i];
    return { threshold: thresholds[i], nodes, features, errors, faithfulness: (mC - mEmpty) / denom, completeness: (mComplement - mEmpty) / denom, mC, mComplement };
  });
  job?.progress(1, 'sweep done');
  return { submodules, mFull, mEmpty, rows };
}

export interface EvaluateOptions extends SweepOptions {
  /** First layer evaluated; earlier layers are never ablated. */
  startLayer: number;
  thresholds: number[];
  errors: ErrorVariant;
  /** The circuit's and the examples' names in messages (file paths). */
  circuitName: string;
  dataName: string;
}

/**
 * Evaluates a circuit on paired examples: one batch, so mean ablation is a per-batch mean as in
 * the original notebook.
 */
export async function evaluateCircuit(ctx: CircuitContext, circuit: CircuitFile, examples: PreparedExample[], opts: EvaluateOptions, job?: JobContext): Promise<Faithfulness> {
  const source = opts.circuitName;
  if (!examples.length) throw new Error(`${opts.dataName}: no examples to evaluate on`);
  if (examples.some((e) => e.patch === null || e.patchAnswer === null)) throw new Error(`${opts.dataName}: evaluation needs paired examples (a patch prefix and answer in each)`);
  if (opts.forceErrors && opts.errors !== 'all') {
    throw new Error(`forced errors (${opts.forceErrors}) override every error mask, so the error variant '${opts.errors}' would have no effect; use one or the other`);
  }
  for (const s of circuit.submodules) {
    const sae = ctx.saes.get(s.name);
    if (!sae) throw new Error(`${source}: submodule ${s.name} is not in the model`);
    if (sae.f !== s.features) throw new Error(`${source}: ${s.name} has ${s.features} features in the circuit but ${sae.f} in the loaded SAE`);
  }
  checkCircuitNodes(circuit, source);
  const positions = positionsOf(circuit);
  const bad = circuit.parameters.aggregation === 'none' ? examples.find((e) => e.clean.length !== positions || e.patch!.length !== positions) : undefined;
  if (bad) {
    throw new Error(`${opts.dataName}: the position-resolved circuit ${source} has ${positions} positions but an example has ${bad.clean.length} clean / ${bad.patch!.length} patch tokens`);
  }
  const subs = evaluatedSubmodules(ctx.submodules, opts.startLayer);
  if (!subs.length) throw new Error(`start layer ${opts.startLayer} leaves no submodule to evaluate (the model has ${ctx.model.cfg.numLayers} layers)`);
  const features = new Map(subs.map((s) => [s, ctx.saes.get(s)!.f]));
  const clean = ctx.model.batchFromIds(examples.map((e) => e.clean));
  const patch = ctx.model.batchFromIds(examples.map((e) => e.patch!));
  return faithfulnessSweep(ctx, clean, patch, answerMetric(examples), subs, opts.thresholds, (t) => circuitMasks(circuit, source, subs, features, t, opts.errors), opts, job);
}
