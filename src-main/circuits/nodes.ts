/**
 * Node attribution (docs/method-notes.md, Node attribution): attrib, ig and exact effects for every SAE feature and error
 * node of every submodule, per example and position.
 *
 * The IG path is linear in activation space, so one N-step average of ∂m/∂x at the submodule
 * gives every feature's effect by projection onto its decoder row: no dense [B,S,F] gradient.
 */
import { Tensor } from '../engine/tensor';
import type { JobContext } from '../util/job-context';
import type { Batch, F32 } from '../models/neox-model';
import { type CircuitContext, type Delta, type MetricInputs, type RunState, delta, observeAll, saeOf, zeroState } from './state';
import type { SparseRows } from './sparse';
import { type Profiler, timed } from '../engine/profile';
import { forwardFrom, layerInput, tile, tileBatch, rows as sliceRows } from './walk';
import { EMBED, hooksIntoLayerOutput, kindOf, lastResidHook, layerOf, siblingHook } from '../models/hooks';
import { add3 } from '../models/neox-model';

export type NodeMethod = 'attrib' | 'ig' | 'exact';

export interface NodeEffect {
  /** Feature effects on the delta pattern (patch − clean active union), N = B·S rows. */
  act: SparseRows;
  /** Error-node effect per token, [N]. */
  resc: Float32Array;
}

export interface NodeAttribution {
  effects: Map<string, NodeEffect>;
  /** Path-averaged ∂m/∂x per submodule, [N·D] (ig and attrib; the edges' left vectors). */
  grads: Map<string, Float32Array>;
  deltas: Map<string, Delta>;
  clean: RunState;
  patch: RunState | null;
  /** m(patch) − m(clean) per example, or null without a patch. */
  totalEffect: Float32Array | null;
}

export interface NodeOptions {
  method: NodeMethod;
  steps?: number;
  job?: JobContext;
  profiler?: Profiler;
}

/** Effects from a dense gradient g [N·D] at a submodule: Δf·(g·v) and Σ Δε·g. */
export function effectsFromGrad(ctx: CircuitContext, name: string, g: Float32Array, d: Delta): NodeEffect {
  const sae = saeOf(ctx, name);
  const proj = ctx.ops.project(sae, g, d.f);
  const val = new Float32Array(proj.length);
  for (let k = 0; k < val.length; k++) val[k] = d.f.val[k] * proj[k];
  const D = sae.d;
  const resc = new Float32Array(d.f.rows);
  for (let n = 0; n < resc.length; n++) {
    let s = 0;
    for (let q = 0; q < D; q++) s += d.err[n * D + q] * g[n * D + q];
    resc[n] = s;
  }
  return { act: { ...d.f, val }, resc };
}

export async function attributeNodes(
  ctx: CircuitContext,
  clean: Batch,
  patch: Batch | null,
  metric: MetricInputs,
  opts: NodeOptions,
): Promise<NodeAttribution> {
  opts.job?.progress(null, 'clean pass');
  const [cleanRun, patchRun] = await timed(opts.profiler, 'clean/patch pass', async () => {
    const [c, p] = await observeAll(ctx, patch ? [clean, patch] : [clean], metric);
    return [c, p ?? null] as const;
  });
  return timed(opts.profiler, opts.method, () => attributeNodesFromStates(ctx, clean, cleanRun, patchRun, metric, opts));
}

/**
 * Node effects given the observed clean run and a patch run (null: zero patch). Tests pass
 * synthetic patch states here (e.g. one feature changed) to compare the methods.
 */
export async function attributeNodesFromStates(
  ctx: CircuitContext,
  clean: Batch,
  cleanRun: RunState,
  patchRun: RunState | null,
  metric: MetricInputs,
  opts: NodeOptions,
): Promise<NodeAttribution> {
  const job = opts.job;
  const [B, S] = clean.tokens.shape;
  const N = B * S;
  const deltas = new Map<string, Delta>();
  for (const name of ctx.submodules) {
    const p = patchRun ? patchRun.states.get(name)! : zeroState(saeOf(ctx, name), N);
    deltas.set(name, delta(p, cleanRun.states.get(name)!));
  }
  const totalEffect = patchRun ? patchRun.metric.map((v, b) => v - cleanRun.metric[b]) : null;
  const effects = new Map<string, NodeEffect>();
  const grads = new Map<string, Float32Array>();
  const D = ctx.model.cfg.hiddenSize;

  if (opts.method === 'attrib') {
    // One backward pass from the metric on the clean run, read at every hook point.
    job?.progress(0.5, 'attrib: backward pass');
    const byLayer = await gradientsAtAllHooks(ctx, clean, cleanRun, metric);
    for (const name of ctx.submodules) {
      const g = byLayer.get(name)!;
      grads.set(name, g);
      effects.set(name, effectsFromGrad(ctx, name, g, deltas.get(name)!));
    }
  } else if (opts.method === 'ig') {
    const steps = opts.steps ?? 10;
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`ig steps must be a positive integer, got ${steps}`);
    const big = tileBatch(clean, steps);
    const bigMetric = { ids: tile(metric.ids, steps), coef: tile(metric.coef, steps) };
    for (const [i, name] of ctx.submodules.entries()) {
      job?.checkCancelled();
      job?.progress(i / ctx.submodules.length, `ig: ${name}`);
      const xc = cleanRun.states.get(name)!.x;
      const xp = patchRun ? patchRun.states.get(name)!.x : zeroState(saeOf(ctx, name), N).x;
      // Left Riemann sum: α_k = k/steps, k = 0..steps−1 (clean end included, patch end not).
      const path = new Float32Array(steps * N * D);
      for (let k = 0; k < steps; k++) {
        const a = k / steps;
        const o = k * N * D;
        for (let q = 0; q < N * D; q++) path[o + q] = (1 - a) * xc[q] + a * xp[q];
      }
      const dx = await pathGradient(ctx, big, cleanRun, name, new Tensor(path, [steps * B, S, D]), bigMetric);
      const g = new Float32Array(N * D);
      for (let k = 0; k < steps; k++) {
        const o = k * N * D;
        for (let q = 0; q < N * D; q++) g[q] += dx[o + q] / steps;
      }
      grads.set(name, g);
      effects.set(name, effectsFromGrad(ctx, name, g, deltas.get(name)!));
    }
  } else {
    for (const [i, name] of ctx.submodules.entries()) {
      job?.checkCancelled();
      job?.progress(i / ctx.submodules.length, `exact: ${name}`);
      effects.set(name, await exactEffects(ctx, clean, cleanRun, metric, name, deltas.get(name)!, job));
    }
  }
  job?.progress(1, 'node effects done');
  return { effects, grads, deltas, clean: cleanRun, patch: patchRun, totalEffect };
}

/**
 * ∂(Σ metric)/∂x at hook `name` with its activation replaced by x (the clean run elsewhere):
 * one fused tail graph from the layer after the hook (attn_l, mlp_l and resid_l all add
 * straight into h_{l+1}, so their gradient is ∂m/∂h_{l+1}; embed is h_0).
 */
export async function pathGradient(ctx: CircuitContext, batch: Batch, clean: RunState, name: string, x: F32, metric: MetricInputs): Promise<Float32Array> {
  const n = x.shape[0] / clean.acts.get(EMBED)!.shape[0];
  const l = layerOf(name);
  let h = x;
  if (kindOf(name) === 'attn' || kindOf(name) === 'mlp') {
    const other = clean.acts.get(siblingHook(name))!;
    h = add3(tile(layerInput(clean.acts, l), n), x, tile(other, n));
  }
  const ones = new Tensor(new Float32Array(x.shape[0]).fill(1), [x.shape[0]]);
  return (await ctx.model.tail(l + 1, batch, h, metric.ids, metric.coef, ones)).dh.data;
}

/** ∂m/∂x at every hook point of the unmodified clean run (one backward walk). */
async function gradientsAtAllHooks(
  ctx: CircuitContext,
  batch: Batch,
  run: RunState,
  metric: MetricInputs,
): Promise<Map<string, Float32Array>> {
  const { model } = ctx;
  const L = model.cfg.numLayers;
  const [B] = batch.tokens.shape;
  const ones = new Tensor(new Float32Array(B).fill(1), [1, B]);
  const out = new Map<string, Float32Array>();
  const hL = run.acts.get(lastResidHook(L))!;
  let dh = await model.metricVjp(batch, hL, metric.ids, metric.coef, ones);
  for (let l = L - 1; l >= 0; l--) {
    // attn_l, mlp_l and resid_l all add straight into h_{l+1}.
    for (const name of hooksIntoLayerOutput(l)) out.set(name, dh.data);
    const h = layerInput(run.acts, l);
    dh = addInto(dh, await model.attnVjp(l, batch, h, dh), await model.mlpVjp(l, h, dh));
  }
  out.set(EMBED, dh.data);
  return out;
}

function addInto(a: F32, b: F32, c: F32): F32 {
  const out = new Float32Array(a.size);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i] + b.data[i] + c.data[i];
  return new Tensor(out, a.shape);
}

/**
 * Activation patching (the exact method, docs/method-notes.md, Node attribution): one run per changed feature (and per error vector), each an
 * intervention on one token of one example; runs are batched as independent sequences.
 */
async function exactEffects(
  ctx: CircuitContext,
  batch: Batch,
  run: RunState,
  metric: MetricInputs,
  name: string,
  d: Delta,
  job?: JobContext,
): Promise<NodeEffect> {
  const sae = saeOf(ctx, name);
  const [B, S] = batch.tokens.shape;
  const D = sae.d;
  const xc = run.states.get(name)!.x;
  // Each intervention: example b, token n = b·S + s, and the change added to x at that token.
  type Iv = { b: number; n: number; add: Float32Array; out: { arr: Float32Array; at: number } };
  const ivs: Iv[] = [];
  const act = new Float32Array(d.f.idx.length);
  const resc = new Float32Array(B * S);
  for (let n = 0; n < B * S; n++) {
    for (let k = d.f.ptr[n]; k < d.f.ptr[n + 1]; k++) {
      if (d.f.val[k] === 0) continue;
      const add = new Float32Array(D);
      const i = d.f.idx[k];
      for (let q = 0; q < D; q++) add[q] = sae.kind === 'identity' ? (q === i ? d.f.val[k] : 0) : d.f.val[k] * sae.dec[i * D + q];
      ivs.push({ b: Math.floor(n / S), n, add, out: { arr: act, at: k } });
    }
    if (sae.kind !== 'identity') ivs.push({ b: Math.floor(n / S), n, add: d.err.slice(n * D, (n + 1) * D), out: { arr: resc, at: n } });
  }
  const chunk = 64;
  for (let c0 = 0; c0 < ivs.length; c0 += chunk) {
    job?.checkCancelled();
    const part = ivs.slice(c0, c0 + chunk);
    const idx = part.map((iv) => iv.b);
    const sub = gatherBatch(batch, idx);
    const subClean = new Map<string, F32>();
    for (const [k, v] of run.acts) subClean.set(k, gatherRows(v, idx));
    const x = new Float32Array(part.length * S * D);
    part.forEach((iv, r) => {
      x.set(xc.subarray(iv.b * S * D, (iv.b + 1) * S * D), r * S * D);
      const s = iv.n - iv.b * S;
      for (let q = 0; q < D; q++) x[r * S * D + s * D + q] += iv.add[q];
    });
    const { hL } = await forwardFrom(ctx.model, sub, subClean, name, new Tensor(x, [part.length, S, D]));
    const m = await ctx.model.metric(sub, hL, gatherRows(metric.ids, idx), gatherRows(metric.coef, idx));
    part.forEach((iv, r) => (iv.out.arr[iv.out.at] = m.data[r] - run.metric[iv.b]));
  }
  return { act: { ...d.f, val: act }, resc };
}

export function gatherRows<T extends Tensor>(t: T, idx: number[]): T {
  const parts = idx.map((i) => sliceRows(t, i, i + 1));
  const per = t.size / t.shape[0];
  const C = t.data.constructor as { new (len: number): typeof t.data };
  const data = new C(per * idx.length);
  parts.forEach((p, r) => (data as Float32Array).set(p.data as Float32Array, r * per));
  return new Tensor(data, [idx.length, ...t.shape.slice(1)]) as T;
}

export function gatherBatch(b: Batch, idx: number[]): Batch {
  return {
    tokens: gatherRows(b.tokens, idx),
    mask: gatherRows(b.mask, idx),
    bias: gatherRows(b.bias, idx),
    cos: b.cos,
    sin: b.sin,
    last: gatherRows(b.last, idx),
  };
}
