/**
 * One run's decomposed state (the original's SparseAct): at each submodule the activation x,
 * its SAE features f (sparse) and the error ε = x − x̂(f).
 */
import { Tensor } from '../engine/tensor';
import type { Batch, F32, NeoxModel } from '../models/neox-model';
import type { Sae, SaeSet } from '../saes/types';
import type { SaeOps } from './sae-ops';
import { type SparseRows, emptyRows, subtractRows } from './sparse';

export interface SubmoduleState {
  x: Float32Array; // [N·D], N = B·S
  f: SparseRows; // N rows
  err: Float32Array; // [N·D]
}

export interface RunState {
  /** Activation at every hook point, [B,S,D]. */
  acts: Map<string, F32>;
  states: Map<string, SubmoduleState>;
  /** Metric per example, [B]. */
  metric: Float32Array;
}

/** Metric inputs: metric[b] = Σ_j coef[b,j]·logit[b, ids[b,j]] at the last position. */
export interface MetricInputs {
  ids: Tensor<Int32Array>;
  coef: F32;
}

export interface CircuitContext {
  model: NeoxModel;
  saes: SaeSet;
  ops: SaeOps;
  /** Submodules in model order (embed, attn_0, mlp_0, resid_0, ...). */
  submodules: string[];
}

export function saeOf(ctx: CircuitContext, name: string): Sae {
  const s = ctx.saes.get(name);
  if (!s) throw new Error(`no SAE for submodule '${name}'`);
  return s;
}

export async function decompose(ctx: CircuitContext, name: string, x: Float32Array, rows: number): Promise<SubmoduleState> {
  const sae = saeOf(ctx, name);
  const f = await ctx.ops.encode(sae, x, rows);
  const xhat = ctx.ops.decode(sae, f);
  const err = new Float32Array(x.length);
  if (sae.kind !== 'identity') for (let i = 0; i < x.length; i++) err[i] = x[i] - xhat[i];
  return { x, f, err };
}

/** Clean (or patch) pass: nothing replaced, the SAEs only observe. */
export async function observe(ctx: CircuitContext, batch: Batch, metric: MetricInputs): Promise<RunState> {
  return (await observeAll(ctx, [batch], metric))[0];
}

/**
 * Several passes (clean and patch) whose activations are encoded together: one encoder call
 * per submodule over all their tokens, since the dense encoder MatMul is more efficient with
 * more rows. Each run's metric uses the same metric inputs.
 */
export async function observeAll(ctx: CircuitContext, batches: Batch[], metric: MetricInputs): Promise<RunState[]> {
  const runs = [];
  for (const b of batches) {
    const { acts, h } = await ctx.model.forward(b);
    const m = await ctx.model.metric(b, h, metric.ids, metric.coef);
    runs.push({ acts, states: new Map<string, SubmoduleState>(), metric: m.data, rows: b.tokens.shape[0] * b.tokens.shape[1] });
  }
  for (const name of ctx.submodules) {
    const total = runs.reduce((n, r) => n + r.rows, 0);
    const D = saeOf(ctx, name).d;
    const x = new Float32Array(total * D);
    let off = 0;
    for (const r of runs) {
      x.set(r.acts.get(name)!.data, off * D);
      off += r.rows;
    }
    const all = await decompose(ctx, name, x, total);
    off = 0;
    for (const r of runs) {
      r.states.set(name, sliceState(all, off, r.rows, D));
      off += r.rows;
    }
  }
  return runs.map(({ acts, states, metric: m }) => ({ acts, states, metric: m }));
}

/** Rows [r0, r0 + n) of a state (views where possible). */
function sliceState(s: SubmoduleState, r0: number, n: number, D: number): SubmoduleState {
  const p0 = s.f.ptr[r0];
  const ptr = new Int32Array(n + 1);
  for (let r = 0; r <= n; r++) ptr[r] = s.f.ptr[r0 + r] - p0;
  return {
    x: s.x.subarray(r0 * D, (r0 + n) * D),
    f: { rows: n, ptr, idx: s.f.idx.subarray(p0, s.f.ptr[r0 + n]), val: s.f.val.subarray(p0, s.f.ptr[r0 + n]) },
    err: s.err.subarray(r0 * D, (r0 + n) * D),
  };
}

/** The zero patch of a no-pair run: f = 0 and ε = 0, which decodes to x = b_dec. */
export function zeroState(sae: Sae, rows: number): SubmoduleState {
  const x = new Float32Array(rows * sae.d);
  if (sae.kind !== 'identity') for (let r = 0; r < rows; r++) x.set(sae.bDec, r * sae.d);
  return { x, f: emptyRows(rows), err: new Float32Array(rows * sae.d) };
}

export interface Delta {
  f: SparseRows; // patch − clean on the union of active features
  err: Float32Array; // patch − clean error
}

export function delta(patch: SubmoduleState, clean: SubmoduleState): Delta {
  const err = new Float32Array(clean.err.length);
  for (let i = 0; i < err.length; i++) err[i] = patch.err[i] - clean.err[i];
  return { f: subtractRows(patch.f, clean.f), err };
}
