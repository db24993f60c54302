/**
 * Ablated forward passes (docs/method-notes.md, "Evaluation"): the one algorithm behind
 * faithfulness, completeness and the ablate/clamp experiment.
 *
 * A mask per submodule says which nodes are "in the circuit: leave alone" (true). Every other
 * node is replaced by its value from an AblationValues source: the mean over the patch batch per
 * position, zero in feature/error space, a resampled patch example, or a clamp constant.
 * Interventions happen in model order, so upstream ablations propagate: kept nodes are
 * recomputed from the ablated stream, not restored.
 */
import type { Batch, F32 } from '../models/neox-model';
import { Tensor } from '../engine/tensor';
import { PyRandom } from '../data/py-random';
import type { Sae } from '../saes/types';
import type { PreparedExample } from './discover';
import { type SparseRows, emptyRows, sparsify } from './sparse';
import { type CircuitContext, type MetricInputs, observe, saeOf } from './state';
import { type AblatedRunsOptions, type AblationRun, ablatedRuns } from './ablated-runs';

export type { AblationRun };

export type AblationKind = 'mean' | 'zero' | 'resample';

/**
 * ablation.py's `handle_errors` (`remove` → 'ablated', `keep` → 'kept'): every error mask is
 * forced after the complement, so it applies to m(C), m(M∖C) and m(∅) alike.
 */
export type ForcedErrors = 'ablated' | 'kept';

/**
 * Node mask of one submodule: `keep[p]` has F+1 flags (error at F) for position p; a single
 * row applies to every position.
 */
export interface SubmoduleMask {
  keep: Uint8Array[];
}

export type CircuitMask = Map<string, SubmoduleMask>;

export interface AblationOptions {
  /** Ablate the mask's nodes and keep everything else (m(M∖C)). */
  complement: boolean;
  forceErrors: ForcedErrors | null;
}

/**
 * What replaces an ablated node at one submodule: rows of feature and error values, and the row
 * each token n = b·S + s reads. `examples` / `positions` are the clean batch shape the source
 * needs (null: any).
 */
export interface AblationValues {
  f: SparseRows;
  /** [rows·D] */
  err: Float32Array;
  rowOf: (n: number) => number;
  examples: number | null;
  positions: number | null;
  /**
   * Set when only these features' values were computed (and no error value): the values serve
   * only runs that ablate a subset of them with the error kept (circuits/ablated-runs.ts checks).
   */
  features?: Int32Array;
}

/** A metric input without answers, for passes that only record activations. */
function noMetric(B: number): MetricInputs {
  return { ids: new Tensor(new Int32Array(B), [B, 1]), coef: new Tensor(new Float32Array(B), [B, 1]) };
}

/**
 * Evaluation metric: logit[clean answer] − logit[patch answer] with a patch answer, else
 * logit[clean answer] (the ratios of faithfulness do not depend on the sign).
 */
export function answerMetric(examples: PreparedExample[]): MetricInputs {
  const B = examples.length;
  const paired = examples[0].patchAnswer !== null;
  if (examples.some((e) => (e.patchAnswer !== null) !== paired)) throw new Error('examples mix paired and no-pair data');
  const ids = paired ? examples.flatMap((e) => [e.cleanAnswer, e.patchAnswer!]) : examples.map((e) => e.cleanAnswer);
  const coef = paired ? examples.flatMap(() => [1, -1]) : examples.map(() => 1);
  const J = paired ? 2 : 1;
  return { ids: new Tensor(Int32Array.from(ids), [B, J]), coef: new Tensor(Float32Array.from(coef), [B, J]) };
}

/**
 * Patch example drawn for each of n examples, with replacement: Python's
 * `r = random.Random(seed); [r.randrange(n) for _ in range(n)]`.
 */
export function resampleDraw(n: number, seed: number): number[] {
  const rng = new PyRandom(seed);
  return Array.from({ length: n }, () => rng.randbelow(n));
}

/**
 * Ablation values of each submodule from a patch batch. One resample draw is shared by every
 * submodule (and by every run that uses these values), so a resampled example reads one
 * coherent patch forward pass. `only`: submodules where just these features' values are needed
 * (no error value), encoded alone instead of with the whole SAE (the ablate experiment on a few
 * features).
 */
export async function ablationValues(ctx: CircuitContext, patch: Batch, submodules: string[], kind: AblationKind, seed = 0, only?: Map<string, Int32Array>): Promise<Map<string, AblationValues>> {
  const [B, S] = patch.tokens.shape;
  const out = new Map<string, AblationValues>();
  if (kind === 'zero') {
    for (const name of submodules) out.set(name, { f: emptyRows(1), err: new Float32Array(saeOf(ctx, name).d), rowOf: () => 0, examples: null, positions: null });
    return out;
  }
  const subset = (name: string): Int32Array | undefined => (saeOf(ctx, name).kind === 'identity' ? undefined : only?.get(name));
  const run = await observe({ ...ctx, submodules: submodules.filter((s) => !subset(s)) }, patch, noMetric(B));
  const draw = kind === 'resample' ? resampleDraw(B, seed) : null;
  for (const name of submodules) {
    const features = subset(name);
    const st = features ? await subsetState(ctx, name, run.acts.get(name)!.data, B * S, features) : run.states.get(name)!;
    const v: AblationValues = draw
      ? { f: st.f, err: st.err, rowOf: (n) => draw[Math.floor(n / S)] * S + (n % S), examples: B, positions: S }
      : { ...positionMeans(saeOf(ctx, name), st.f, st.err, B, S), rowOf: (n) => n % S, examples: null, positions: S };
    if (features) v.features = features;
    out.set(name, v);
  }
  return out;
}

/** f on the given features only (CSR over them), and no error (zeros). */
async function subsetState(ctx: CircuitContext, name: string, x: Float32Array, rows: number, features: Int32Array): Promise<{ f: SparseRows; err: Float32Array }> {
  const sae = saeOf(ctx, name);
  const K = features.length;
  const dense = await ctx.ops.encodeSubset(sae, x, rows, features);
  const ptr = new Int32Array(rows + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) if (dense[r * K + k] !== 0) idx.push(features[k]), val.push(dense[r * K + k]);
    ptr[r + 1] = idx.length;
  }
  return { f: { rows, ptr, idx: Int32Array.from(idx), val: Float32Array.from(val) }, err: new Float32Array(rows * sae.d) };
}

/** Mean over the batch axis only, per position: S rows. */
function positionMeans(sae: Sae, f: SparseRows, err: Float32Array, B: number, S: number): { f: SparseRows; err: Float32Array } {
  const fSum = new Float32Array(S * sae.f);
  const eSum = new Float32Array(S * sae.d);
  for (let n = 0; n < B * S; n++) {
    const s = n % S;
    for (let q = f.ptr[n]; q < f.ptr[n + 1]; q++) fSum[s * sae.f + f.idx[q]] += f.val[q] / B;
    for (let d = 0; d < sae.d; d++) eSum[s * sae.d + d] += err[n * sae.d + d] / B;
  }
  return { f: sparsify(fSum, S, sae.f), err: eSum };
}

/** Every feature set to `value` (the error value is never read: errors cannot be clamped). */
export function clampValues(sae: Sae, value: number): AblationValues {
  const f = { rows: 1, ptr: Int32Array.from([0, sae.f]), idx: Int32Array.from({ length: sae.f }, (_, i) => i), val: new Float32Array(sae.f).fill(value) };
  return { f, err: new Float32Array(sae.d), rowOf: () => 0, examples: null, positions: null };
}

/**
 * h_L of the clean batch with every submodule in `values` ablated outside its mask, at every
 * position (circuits/ablated-runs.ts computes it). `lastOnly`: only the last position of the
 * result will be read (metric, next-token probabilities), which saves most of the last layer.
 */
export async function ablatedForward(
  ctx: CircuitContext,
  clean: Batch,
  values: Map<string, AblationValues>,
  masks: CircuitMask,
  opts: AblationOptions,
  run: Partial<AblatedRunsOptions> = {},
): Promise<F32> {
  return (await ablatedRuns(ctx, clean, values, [{ masks, opts }], { ...run, lastOnly: run.lastOnly ?? false }))[0];
}

/** Metric per example after ablating everything outside the masks at the given submodules. */
export async function runWithAblations(
  ctx: CircuitContext,
  clean: Batch,
  metric: MetricInputs,
  values: Map<string, AblationValues>,
  masks: CircuitMask,
  opts: AblationOptions,
): Promise<Float32Array> {
  return (await metricsWithAblations(ctx, clean, metric, values, [{ masks, opts }]))[0];
}

/**
 * The metric per example of several ablated runs of one clean batch, computed together:
 * runs share their common work (circuits/ablated-runs.ts), and runs that end in the same state
 * share one metric evaluation.
 */
export async function metricsWithAblations(
  ctx: CircuitContext,
  clean: Batch,
  metric: MetricInputs,
  values: Map<string, AblationValues>,
  runs: AblationRun[],
  opts: Omit<AblatedRunsOptions, 'lastOnly'> = {},
): Promise<Float32Array[]> {
  const hs = await ablatedRuns(ctx, clean, values, runs, { ...opts, lastOnly: true });
  const byState = new Map<F32, Float32Array>();
  for (const h of hs) if (!byState.has(h)) byState.set(h, (await ctx.model.metric(clean, h, metric.ids, metric.coef)).data);
  return hs.map((h) => byState.get(h)!);
}
