/**
 * Ablated forward passes and faithfulness / completeness (evaluation.md §1–2).
 *
 * A mask per submodule says which nodes are "in the circuit: leave alone" (true). Everything
 * else is replaced by its ablation value (mean over the patch batch per position, or zero in
 * feature/error space). Interventions happen in model order, so upstream ablations propagate:
 * kept nodes are recomputed from the ablated stream, not restored.
 */
import type { JobContext } from '../util/job-context';
import type { Batch, F32 } from '../models/neox-model';
import { Tensor } from '../engine/tensor';
import { type CircuitContext, type MetricInputs, decompose, observe, saeOf } from './state';
import { layerOf } from './walk';

export type AblationKind = 'mean' | 'zero';
export type ErrorHandling = 'default' | 'remove' | 'keep';

/**
 * Node mask of one submodule: `keep[p]` has F+1 flags (error at F) for position p; a single
 * entry (positions = 1) applies to every position.
 */
export interface SubmoduleMask {
  keep: Uint8Array[];
}

export type CircuitMask = Map<string, SubmoduleMask>;

export interface AblationOptions {
  ablation: AblationKind;
  handleErrors: ErrorHandling;
  complement: boolean;
}

interface AblationValues {
  /** Per position: dense feature values [F] and error [D]. */
  f: Float32Array[];
  err: Float32Array[];
}

/** Ablation values of each submodule from a patch batch (mean over examples, per position). */
export async function ablationValues(ctx: CircuitContext, patch: Batch, metric: MetricInputs, submodules: string[], kind: AblationKind): Promise<Map<string, AblationValues>> {
  const [B, S] = patch.tokens.shape;
  const out = new Map<string, AblationValues>();
  const run = kind === 'mean' ? await observe({ ...ctx, submodules }, patch, metric) : null;
  for (const name of submodules) {
    const sae = saeOf(ctx, name);
    const f = Array.from({ length: S }, () => new Float32Array(sae.f));
    const err = Array.from({ length: S }, () => new Float32Array(sae.d));
    if (run) {
      const st = run.states.get(name)!;
      for (let n = 0; n < B * S; n++) {
        const s = n % S;
        for (let q = st.f.ptr[n]; q < st.f.ptr[n + 1]; q++) f[s][st.f.idx[q]] += st.f.val[q] / B;
        for (let d = 0; d < sae.d; d++) err[s][d] += st.err[n * sae.d + d] / B;
      }
    }
    out.set(name, { f, err });
  }
  return out;
}

/** Metric per example after ablating everything outside the mask at the given submodules. */
export async function runWithAblations(
  ctx: CircuitContext,
  clean: Batch,
  metric: MetricInputs,
  values: Map<string, AblationValues>,
  masks: CircuitMask,
  opts: AblationOptions,
): Promise<Float32Array> {
  const [, S] = clean.tokens.shape;
  const { acts, h } = await ctx.model.forward(clean, async (name, x) => {
    const v = values.get(name);
    if (!v) return undefined;
    const sae = saeOf(ctx, name);
    const mask = masks.get(name);
    const rows = x.shape[0] * S;
    const st = await decompose(ctx, name, x.data, rows);
    const D = sae.d;
    const F = sae.f;
    const out = new Float32Array(rows * D);
    const dense = new Float32Array(F);
    for (let n = 0; n < rows; n++) {
      const s = n % S;
      const keep = mask ? mask.keep[mask.keep.length === 1 ? 0 : s] : undefined;
      const kept = (i: number): boolean => (keep ? keep[i] === 1 : false) !== opts.complement;
      // Features: f where kept, the ablation value elsewhere.
      for (let i = 0; i < F; i++) dense[i] = kept(i) ? 0 : v.f[s][i];
      for (let q = st.f.ptr[n]; q < st.f.ptr[n + 1]; q++) if (kept(st.f.idx[q])) dense[st.f.idx[q]] = st.f.val[q];
      let errKept = kept(F);
      if (opts.handleErrors === 'remove') errKept = false;
      if (opts.handleErrors === 'keep') errKept = true;
      const o = n * D;
      if (sae.kind === 'identity') {
        out.set(dense.subarray(0, D), o);
        continue;
      }
      for (let d = 0; d < D; d++) out[o + d] = sae.bDec[d] + (errKept ? st.err[o + d] : v.err[s][d]);
      for (let i = 0; i < F; i++) {
        const c = dense[i];
        if (c === 0) continue;
        for (let d = 0; d < D; d++) out[o + d] += c * sae.dec[i * D + d];
      }
    }
    return new Tensor(out, x.shape) as F32;
  });
  void acts;
  return (await ctx.model.metric(clean, h, metric.ids, metric.coef)).data;
}

export interface SweepRow {
  threshold: number;
  nodes: number;
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

/** Submodules evaluated: attn/mlp/resid of layers ≥ startLayer, no embed (evaluation.md §2.2). */
export function evaluatedSubmodules(all: string[], startLayer: number): string[] {
  return all.filter((s) => s !== 'embed' && layerOf(s) >= startLayer);
}

const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;

/**
 * Faithfulness and completeness over a node-threshold sweep. `maskAt(τ)` gives the circuit at
 * threshold τ and its node count.
 */
export async function faithfulnessSweep(
  ctx: CircuitContext,
  clean: Batch,
  patch: Batch,
  metric: MetricInputs,
  submodules: string[],
  thresholds: number[],
  maskAt: (t: number) => { mask: CircuitMask; nodes: number },
  opts: { ablation: AblationKind; handleErrors: ErrorHandling; job?: JobContext },
): Promise<Faithfulness> {
  const values = await ablationValues(ctx, patch, metric, submodules, opts.ablation);
  const { h } = await ctx.model.forward(clean);
  const mFull = mean((await ctx.model.metric(clean, h, metric.ids, metric.coef)).data);
  const none: CircuitMask = new Map();
  const mEmpty = mean(await runWithAblations(ctx, clean, metric, values, none, { ablation: opts.ablation, handleErrors: 'default', complement: false }));
  const rows: SweepRow[] = [];
  for (const [i, t] of thresholds.entries()) {
    opts.job?.checkCancelled();
    opts.job?.progress(i / thresholds.length, `threshold ${t}`);
    const { mask, nodes } = maskAt(t);
    const mC = mean(await runWithAblations(ctx, clean, metric, values, mask, { ablation: opts.ablation, handleErrors: opts.handleErrors, complement: false }));
    const mComplement = mean(await runWithAblations(ctx, clean, metric, values, mask, { ablation: opts.ablation, handleErrors: opts.handleErrors, complement: true }));
    const denom = mFull - mEmpty;
    rows.push({ threshold: t, nodes, faithfulness: (mC - mEmpty) / denom, completeness: (mComplement - mEmpty) / denom, mC, mComplement });
  }
  opts.job?.progress(1, 'sweep done');
  return { submodules, mFull, mEmpty, rows };
}
