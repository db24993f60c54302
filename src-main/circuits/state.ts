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
  const { acts, h } = await ctx.model.forward(batch);
  const [B, S] = batch.tokens.shape;
  const states = new Map<string, SubmoduleState>();
  for (const name of ctx.submodules) states.set(name, await decompose(ctx, name, acts.get(name)!.data, B * S));
  const m = await ctx.model.metric(batch, h, metric.ids, metric.coef);
  return { acts, states, metric: m.data };
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
