/**
 * The straightforward algorithm, for the benchmark's side-by-side comparison only: what the
 * original does, expressed with our segments.
 *   - IG without the prefix cache: every step runs the whole model from the embedding with the
 *     hook replaced, then a segment-by-segment backward pass to the hook point;
 *   - dense feature gradients: ∂m/∂x is projected onto all F decoder rows, [B,S,F];
 *   - edges: one backward pass per selected downstream node, projected densely onto all F
 *     upstream features.
 * Its node effects equal the fast path's (the bench checks a sample).
 */
import { Graph } from '../../src-main/engine/graph';
import { Tensor } from '../../src-main/engine/tensor';
import { countFlops } from '../../src-main/engine/profile';
import type { Batch, F32 } from '../../src-main/models/neox-model';
import type { Sae } from '../../src-main/saes/types';
import { type CircuitContext, type MetricInputs, observe, saeOf, delta } from '../../src-main/circuits/state';
import type { SessionCache } from '../../src-main/engine/session';
import { downstreamTargets, edgeBlocks } from '../../src-main/circuits/edges';
import type { NodeAttribution } from '../../src-main/circuits/nodes';
import { backwardTo, layerInput, sliceBatch } from '../../src-main/circuits/walk';
import { layerOf } from '../../src-main/models/hooks';
import type { Profiler } from '../../src-main/engine/profile';

/** g [N,D] → g·decᵀ [N,F] in onnxruntime (dense projection onto every feature). */
async function denseProject(sessions: SessionCache, sae: Sae, g: Float32Array, rows: number): Promise<Float32Array> {
  countFlops(2 * rows * sae.d * sae.f);
  const sess = await sessions.get(`bench:dense-project:${sae.d}:${sae.f}`, () => {
    const gr = new Graph();
    const x = gr.input('g', 'float32', ['N', sae.d]);
    const dec = gr.input('dec', 'float32', [sae.f, sae.d]);
    gr.output('y', x.matmulT(dec));
    return gr;
  });
  return (await sess.run({ g: new Tensor(g, [rows, sae.d]), dec: new Tensor(sae.dec, [sae.f, sae.d]) })).y.data;
}

export async function straightforwardDiscover(
  sessions: SessionCache,
  ctx: CircuitContext,
  clean: Batch,
  patch: Batch,
  metric: MetricInputs,
  steps: number,
  threshold: number,
  p: Profiler,
): Promise<{ effects: Map<string, Float32Array>; edges: number }> {
  const [B, S] = clean.tokens.shape;
  const N = B * S;
  const D = ctx.model.cfg.hiddenSize;
  const { cleanRun, patchRun } = await p.time('clean/patch pass', async () => ({ cleanRun: await observe(ctx, clean, metric), patchRun: await observe(ctx, patch, metric) }));
  const ones = new Tensor(new Float32Array(B).fill(1), [1, B]);
  const effects = new Map<string, Float32Array>();
  const grads = new Map<string, Float32Array>();
  const deltas = new Map<string, ReturnType<typeof delta>>();
  await p.time('ig', async () => {
    for (const name of ctx.submodules) {
      const sae = saeOf(ctx, name);
      const xc = cleanRun.states.get(name)!.x;
      const xp = patchRun.states.get(name)!.x;
      const dense = new Float32Array(N * sae.f);
      const gsum = new Float32Array(N * D);
      for (let k = 0; k < steps; k++) {
        const a = k / steps;
        const x = new Tensor(Float32Array.from(xc, (v, q) => (1 - a) * v + a * xp[q]), [B, S, D]) as F32;
        // No prefix cache: the whole model runs from the embedding, replacing the hook.
        const { acts, h } = await ctx.model.forward(clean, (hook) => (hook === name ? x : undefined));
        const hs = new Map<number, F32>();
        for (let l = 0; l < ctx.model.cfg.numLayers; l++) hs.set(l, layerInput(acts, l));
        const g = (await backwardTo(ctx.model, clean, hs, h, name, metric, ones)).data;
        const proj = await denseProject(sessions, sae, g, N);
        for (let i = 0; i < dense.length; i++) dense[i] += proj[i] / steps;
        for (let i = 0; i < gsum.length; i++) gsum[i] += g[i] / steps;
      }
      const d = delta(patchRun.states.get(name)!, cleanRun.states.get(name)!);
      deltas.set(name, d);
      grads.set(name, gsum);
      const eff = new Float32Array(N * (sae.f + 1));
      for (let n = 0; n < N; n++) {
        for (let q = d.f.ptr[n]; q < d.f.ptr[n + 1]; q++) eff[n * (sae.f + 1) + d.f.idx[q]] = d.f.val[q] * dense[n * sae.f + d.f.idx[q]];
        let e = 0;
        for (let q = 0; q < D; q++) e += d.err[n * D + q] * gsum[n * D + q];
        eff[n * (sae.f + 1) + sae.f] = e;
      }
      effects.set(name, eff);
    }
  });
  // Edges: one backward pass per selected downstream node, dense upstream projection.
  let edges = 0;
  await p.time('edges', async () => {
    const nodes = {
      effects: new Map([...effects].map(([k, e]) => [k, toNodeEffect(e, saeOf(ctx, k), deltas.get(k)!, N)])),
      grads,
      deltas,
      clean: cleanRun,
      patch: patchRun,
      totalEffect: null,
    } as NodeAttribution;
    for (const blk of edgeBlocks(ctx.model.cfg.numLayers, ctx.submodules)) {
      const up = saeOf(ctx, blk.up);
      const l = layerOf(blk.down);
      for (const t of downstreamTargets(ctx, nodes, blk.down, threshold)) {
        const b = Math.floor(t.n / S);
        const sub = sliceBatch(clean, b, b + 1);
        const cot = new Float32Array(S * D);
        cot.set(t.c, (t.n - b * S) * D);
        let u: Float32Array = cot;
        const h = new Tensor(layerInput(cleanRun.acts, l).data.subarray(b * S * D, (b + 1) * S * D), [1, S, D]) as F32;
        if (blk.via === 'attn') u = (await ctx.model.attnVjp(l, sub, h, new Tensor(cot, [1, 1, S, D]) as F32)).data;
        if (blk.via === 'mlp') u = (await ctx.model.mlpVjp(l, h, new Tensor(cot, [1, 1, S, D]) as F32)).data;
        const dense = await denseProject(sessions, up, u, S);
        edges += dense.length;
      }
    }
  });
  return { effects, edges };
}

function toNodeEffect(e: Float32Array, sae: Sae, d: ReturnType<typeof delta>, N: number) {
  const val = new Float32Array(d.f.idx.length);
  for (let n = 0; n < N; n++) for (let q = d.f.ptr[n]; q < d.f.ptr[n + 1]; q++) val[q] = e[n * (sae.f + 1) + d.f.idx[q]];
  const resc = new Float32Array(N);
  for (let n = 0; n < N; n++) resc[n] = e[n * (sae.f + 1) + sae.f];
  return { act: { ...d.f, val }, resc };
}

