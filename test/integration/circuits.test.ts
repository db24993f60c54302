/**
 * Circuit attribution on a small random GPT-NeoX with random SAEs, each checked against an
 * independent computation: exact patching, IG completeness against a real patched forward,
 * brute-force finite-difference Jacobians for every edge block, and the straightforward
 * (dense, one-at-a-time) versions of the cheap paths.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../../src-main/engine/graph';
import { grad } from '../../src-main/engine/autodiff';
import { SessionCache } from '../../src-main/engine/session';
import { Tensor } from '../../src-main/engine/tensor';
import { loadNeoxFolder } from '../../src-main/models/load';
import { attnBlock, declareAttnInputs, mlpBlock } from '../../src-main/models/gptneox';
import type { Batch, F32, NeoxModel } from '../../src-main/models/neox-model';
import { SaeOps } from '../../src-main/circuits/sae-ops';
import { type CircuitContext, type RunState, type SubmoduleState, observe } from '../../src-main/circuits/state';
import { attributeNodes, attributeNodesFromStates, type NodeAttribution } from '../../src-main/circuits/nodes';
import { attributeEdges, downstreamTargets, edgeBlocks } from '../../src-main/circuits/edges';
import { type PreparedExample, discover, discoveryMetric } from '../../src-main/circuits/discover';
import { backwardTo, forwardFrom, layerInput, sliceBatch } from '../../src-main/circuits/walk';
import { identitySaeSet } from '../../src-main/saes/identity';
import type { Sae, SaeSet } from '../../src-main/saes/types';
import { writeRandomNeoxFolder } from '../helpers/neox-folder';
import { randomSae, rms } from '../helpers/random-sae';

let dir: string;
let model: NeoxModel;
let ctx: CircuitContext;
const sessions = new SessionCache({ threads: 1 });
const ops = new SaeOps(sessions);

const examples: PreparedExample[] = [
  { clean: [3, 9, 14, 22], patch: [3, 10, 14, 22], cleanAnswer: 5, patchAnswer: 6 },
  { clean: [7, 30, 2, 8], patch: [7, 31, 2, 8], cleanAnswer: 11, patchAnswer: 12 },
  { clean: [15, 4, 40, 9], patch: [15, 4, 41, 9], cleanAnswer: 17, patchAnswer: 18 },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-circ-'));
  const folder = writeRandomNeoxFolder(join(dir, 'm'), { seed: 11, layers: 2, hidden: 32, heads: 4, intermediate: 64, rotaryPct: 0.25 });
  model = await loadNeoxFolder(folder.dir, sessions);
  // SAEs scaled to the activations they see, so a fair share of features is active.
  const { acts } = await model.forward(model.batchFromIds(examples.map((e) => e.clean)));
  const saes: SaeSet = new Map();
  model.hookPoints.forEach((name, i) => saes.set(name, randomSae(32, 48, 100 + i, { scale: rms(acts.get(name)!.data) * Math.sqrt(32) / 4 })));
  ctx = { model, saes, ops, submodules: model.hookPoints };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const D = 32;

function batchOf(ex: PreparedExample[]): { clean: Batch; patch: Batch; metric: ReturnType<typeof discoveryMetric> } {
  return { clean: model.batchFromIds(ex.map((e) => e.clean)), patch: model.batchFromIds(ex.map((e) => e.patch!)), metric: discoveryMetric(ex) };
}

/** Patch states equal to clean except at `name`, where `edit` changes the state. */
function syntheticPatch(run: RunState, name: string, edit: (s: SubmoduleState) => SubmoduleState): RunState {
  const states = new Map(run.states);
  states.set(name, edit(run.states.get(name)!));
  return { acts: run.acts, states, metric: run.metric };
}

/** Value of the effect of feature i at token n (0 if absent). */
function effectAt(a: NodeAttribution, name: string, n: number, i: number): number {
  const e = a.effects.get(name)!;
  for (let q = e.act.ptr[n]; q < e.act.ptr[n + 1]; q++) if (e.act.idx[q] === i) return e.act.val[q];
  return 0;
}

describe('node attribution', () => {
  it('ig with many steps and attrib near clean converge to exact patching (one feature changed)', async () => {
    const { clean, metric } = batchOf(examples);
    const run = await observe(ctx, clean, metric);
    for (const name of ['embed', 'attn_0', 'mlp_1', 'resid_1']) {
      const sae = ctx.saes.get(name)!;
      const st = run.states.get(name)!;
      // The active feature with the largest value at the last token of example 1.
      const n = 1 * 4 + 3;
      let best = -1;
      for (let q = st.f.ptr[n]; q < st.f.ptr[n + 1]; q++) if (best < 0 || st.f.val[q] > st.f.val[best]) best = q;
      expect(best, `${name}: some feature active`).toBeGreaterThanOrEqual(0);
      const i = st.f.idx[best];
      const scaled = (t: number): RunState =>
        syntheticPatch(run, name, (s) => {
          const val = Float32Array.from(s.f.val);
          val[best] *= 1 + t;
          const x = Float32Array.from(s.x);
          for (let q = 0; q < D; q++) x[n * D + q] += t * s.f.val[best] * sae.dec[i * D + q];
          return { x, f: { ...s.f, val }, err: s.err };
        });
      const big = scaled(-1); // switch the feature off
      const exact = effectAt(await attributeNodesFromStates(ctx, clean, run, big, metric, { method: 'exact' }), name, n, i);
      const ig = effectAt(await attributeNodesFromStates(ctx, clean, run, big, metric, { method: 'ig', steps: 200 }), name, n, i);
      expect(Math.abs(exact), `${name} exact effect is not trivially 0`).toBeGreaterThan(1e-4);
      expect(Math.abs(ig - exact)).toBeLessThan(0.02 * Math.abs(exact) + 1e-5);
      const small = scaled(-0.01);
      const exactS = effectAt(await attributeNodesFromStates(ctx, clean, run, small, metric, { method: 'exact' }), name, n, i);
      const attrS = effectAt(await attributeNodesFromStates(ctx, clean, run, small, metric, { method: 'attrib' }), name, n, i);
      expect(Math.abs(attrS - exactS)).toBeLessThan(0.03 * Math.abs(exactS) + 1e-6);
    }
  });

  it('ig effects of the last residual sum to the real total effect (IG completeness)', async () => {
    const { clean, patch, metric } = batchOf(examples);
    const a = await attributeNodes(ctx, clean, patch, metric, { method: 'ig', steps: 100 });
    const e = a.effects.get('resid_1')!;
    for (let b = 0; b < 3; b++) {
      let s = 0;
      for (let n = b * 4; n < b * 4 + 4; n++) {
        for (let q = e.act.ptr[n]; q < e.act.ptr[n + 1]; q++) s += e.act.val[q];
        s += e.resc[n];
      }
      expect(Math.abs(s - a.totalEffect![b])).toBeLessThan(0.03 * Math.abs(a.totalEffect![b]) + 1e-4);
    }
  });

  it('IG gradient averaging before projection equals the dense per-step feature gradients', async () => {
    const { clean, patch, metric } = batchOf(examples.slice(0, 2));
    const steps = 4;
    const a = await attributeNodes(ctx, clean, patch, metric, { method: 'ig', steps });
    const name = 'attn_1';
    const sae = ctx.saes.get(name)!;
    const xc = a.clean.states.get(name)!.x;
    const xp = a.patch!.states.get(name)!.x;
    const N = 8;
    // Straightforward: per step, the dense gradient over all F features, then average, then × Δf.
    const dense = new Float64Array(N * sae.f);
    for (let k = 0; k < steps; k++) {
      const x = Float32Array.from(xc, (v, q) => (1 - k / steps) * v + (k / steps) * xp[q]);
      const { hs, hL } = await forwardFrom(model, clean, a.clean.acts, name, new Tensor(x, [2, 4, D]));
      const g = await backwardTo(model, clean, hs, hL, name, metric, Tensor.from([1, 1], [1, 2]));
      for (let n = 0; n < N; n++)
        for (let i = 0; i < sae.f; i++) {
          let s = 0;
          for (let q = 0; q < D; q++) s += g.data[n * D + q] * sae.dec[i * D + q];
          dense[n * sae.f + i] += s / steps;
        }
    }
    const d = a.deltas.get(name)!;
    for (let n = 0; n < N; n++)
      for (let q = d.f.ptr[n]; q < d.f.ptr[n + 1]; q++) {
        const want = dense[n * sae.f + d.f.idx[q]] * d.f.val[q];
        expect(effectAt(a, name, n, d.f.idx[q])).toBeCloseTo(want, 5);
      }
  });
});

describe('edge attribution', () => {
  /** T_d(y) at token s of the single example: feature k → (ḡ·v_k)·f_k(y); error → ḡ·(y − x̂(y)). */
  function targetValue(sae: Sae, gbar: Float32Array, s: number, k: number, y: Float32Array): number {
    const row = y.subarray(s * D, (s + 1) * D);
    const g = gbar.subarray(s * D, (s + 1) * D);
    const f = new Float64Array(sae.f);
    for (let i = 0; i < sae.f; i++) {
      let pre = sae.bEnc[i];
      for (let q = 0; q < D; q++) pre += sae.enc[i * D + q] * (row[q] - sae.bDec[q]);
      f[i] = Math.max(pre, 0);
    }
    const gv = (i: number): number => {
      let t = 0;
      for (let q = 0; q < D; q++) t += g[q] * sae.dec[i * D + q];
      return t;
    };
    if (k < sae.f) return gv(k) * f[k];
    let t = 0;
    for (let q = 0; q < D; q++) {
      let xh = sae.bDec[q];
      for (let i = 0; i < sae.f; i++) xh += f[i] * sae.dec[i * D + q];
      t += g[q] * (row[q] - xh);
    }
    return t;
  }

  it('every block equals a brute-force finite-difference Jacobian through the same block', async () => {
    const ex = [examples[1]];
    const { clean, patch, metric } = batchOf(ex);
    const nodes = await attributeNodes(ctx, clean, patch, metric, { method: 'ig', steps: 5 });
    const thr = 0;
    const edges = await attributeEdges(ctx, clean, nodes, { nodeThreshold: thr, aggregation: 'none' });
    const S = 4;
    const acts = nodes.clean.acts;
    for (const blk of edgeBlocks(2, ctx.submodules)) {
      const up = ctx.saes.get(blk.up)!;
      const down = ctx.saes.get(blk.down)!;
      const l = Number(blk.down.split('_')[1]);
      const h = layerInput(acts, l);
      const yOf = async (xu: Float32Array): Promise<Float32Array> => {
        const X = new Tensor(xu, [1, S, D]);
        const sum = (a: Float32Array, b: Float32Array, c: Float32Array): Float32Array => a.map((v, q) => v + b[q] + c[q]);
        if (blk.via === 'attn') return (await model.attn(l, clean, X)).data;
        if (blk.via === 'mlp') return (await model.mlp(l, X)).data;
        if (blk.up.startsWith('mlp')) return sum(h.data, acts.get(`attn_${l}`)!.data, xu);
        if (blk.up.startsWith('attn')) return sum(h.data, xu, acts.get(`mlp_${l}`)!.data);
        return sum(xu, acts.get(`attn_${l}`)!.data, acts.get(`mlp_${l}`)!.data); // skip path
      };
      const xu = acts.get(blk.up)!.data;
      const gbar = nodes.grads.get(blk.down)!;
      const dUp = nodes.deltas.get(blk.up)!;
      const map = edges.get(`${blk.up}->${blk.down}`)!;
      const targets = downstreamTargets(ctx, nodes, blk.down, thr);
      let checked = 0;
      for (const t of targets.slice(0, 3)) {
        const sd = t.n;
        // Upstream nodes: active delta features at positions ≤ sd, and the error at sd.
        const cand: { su: number; j: number; dir: Float32Array; scale: number }[] = [];
        for (let su = 0; su <= sd; su++) {
          for (let q = dUp.f.ptr[su]; q < dUp.f.ptr[su + 1] && cand.length < 6; q++) {
            const j = dUp.f.idx[q];
            cand.push({ su, j, dir: up.dec.subarray(j * D, (j + 1) * D), scale: dUp.f.val[q] });
          }
        }
        const err = dUp.err.subarray(sd * D, (sd + 1) * D);
        cand.push({ su: sd, j: up.f, dir: err, scale: 1 });
        for (const c of cand) {
          const eps = 1e-3;
          const shifted = (sign: number): Float32Array => {
            const x = Float32Array.from(xu);
            for (let q = 0; q < D; q++) x[c.su * D + q] += sign * eps * c.dir[q];
            return x;
          };
          const fd = ((targetValue(down, gbar, sd, t.k, await yOf(shifted(1))) - targetValue(down, gbar, sd, t.k, await yOf(shifted(-1)))) / (2 * eps)) * c.scale;
          const key = ((sd * (down.f + 1) + t.k) * S + c.su) * (up.f + 1) + c.j;
          const got = map.get(key) ?? 0;
          expect(Math.abs(got - fd), `${blk.up}->${blk.down} down (${sd},${t.k}) up (${c.su},${c.j}): got ${got}, fd ${fd}`).toBeLessThan(2e-3 * Math.max(Math.abs(fd), 1e-2));
          checked++;
        }
      }
      expect(checked, `${blk.up}->${blk.down} checked some edges`).toBeGreaterThan(0);
    }
  });

  it('batched attention VJPs equal one backward pass per downstream node', async () => {
    const { clean, patch, metric } = batchOf(examples.slice(0, 2));
    const nodes = await attributeNodes(ctx, clean, patch, metric, { method: 'ig', steps: 3 });
    const batched = await attributeEdges(ctx, clean, nodes, { nodeThreshold: 0, aggregation: 'none' });
    const one = await attributeEdges(ctx, clean, nodes, { nodeThreshold: 0, aggregation: 'none', chunk: 1 });
    for (const [k, m] of batched) {
      expect(one.get(k)!.size).toBe(m.size);
      for (const [key, w] of m) expect(one.get(k)!.get(key)!).toBeCloseTo(w, 5);
    }
    // And the attention VJP of one target alone equals its row in a probe batch.
    const targets = downstreamTargets(ctx, nodes, 'attn_1', 0).filter((t) => t.n < 4);
    const sub = sliceBatch(clean, 0, 1);
    const hb = new Tensor(layerInput(nodes.clean.acts, 1).data.subarray(0, 4 * D), [1, 4, D]);
    const P = Math.min(targets.length, 5);
    const cot = new Float32Array(P * 4 * D);
    targets.slice(0, P).forEach((t, p) => cot.set(t.c, p * 4 * D + t.n * D));
    const all = await model.attnVjp(1, sub, hb, new Tensor(cot, [P, 1, 4, D]));
    for (let p = 0; p < P; p++) {
      const single = await model.attnVjp(1, sub, hb, new Tensor(cot.slice(p * 4 * D, (p + 1) * 4 * D), [1, 1, 4, D]));
      for (let q = 0; q < 4 * D; q++) expect(all.data[p * 4 * D + q]).toBeCloseTo(single.data[q], 5);
    }
  });

  it('the closed-form skip path equals the VJP of resid with attn and mlp stop-gradients', async () => {
    const c = model.cfg;
    const g = new Graph();
    const x = declareAttnInputs(g, c);
    const y = x.h.add(attnBlock(g, c, x).stopGrad()).add(mlpBlock(g, c, x.h).stopGrad());
    g.output('y', y);
    const [dh] = grad(g, [{ name: 'y', sym: y }], [x.h], { probe: 'P' });
    g.output('dh', dh!);
    const s = await sessions.get('test:skip', () => g);
    const b = model.batchFromIds([examples[0].clean]);
    const { acts } = await model.forward(b);
    const cot = Tensor.from(Array.from({ length: 2 * 4 * D }, (_, i) => Math.sin(i)), [2, 1, 4, D]);
    const names = ['ln1_w', 'ln1_b', 'qkv_w', 'qkv_b', 'dense_w', 'dense_b', 'ln2_w', 'ln2_b', 'fc_in_w', 'fc_in_b', 'fc_out_w', 'fc_out_b'];
    const p = 'gpt_neox.layers.1.';
    const hf: Record<string, string> = {
      ln1_w: 'input_layernorm.weight', ln1_b: 'input_layernorm.bias', qkv_w: 'attention.query_key_value.weight', qkv_b: 'attention.query_key_value.bias',
      dense_w: 'attention.dense.weight', dense_b: 'attention.dense.bias', ln2_w: 'post_attention_layernorm.weight', ln2_b: 'post_attention_layernorm.bias',
      fc_in_w: 'mlp.dense_h_to_4h.weight', fc_in_b: 'mlp.dense_h_to_4h.bias', fc_out_w: 'mlp.dense_4h_to_h.weight', fc_out_b: 'mlp.dense_4h_to_h.bias',
    };
    const out = await s.run({ h: acts.get('resid_0')!, bias: b.bias, cos: b.cos, sin: b.sin, d_y: cot, ...Object.fromEntries(names.map((n) => [n, model.weight(p + hf[n])])) });
    expect(Array.from(out.dh.data)).toEqual(Array.from(cot.data));
  });
});

describe('aggregation and batching', () => {
  const opts = { method: 'ig' as const, steps: 3, nodeThreshold: 0.01, nodesOnly: false };

  it("'sum' equals 'none' summed over positions, for nodes and edges", async () => {
    const sum = await discover(ctx, examples, { ...opts, aggregation: 'sum', batchSize: 3 });
    const none = await discover(ctx, examples, { ...opts, aggregation: 'none', batchSize: 3 });
    const S = 4;
    for (const name of ctx.submodules) {
      const F1 = ctx.saes.get(name)!.f + 1;
      const a = sum.effects.get(name)!;
      const b = none.effects.get(name)!;
      for (let i = 0; i < F1; i++) {
        let t = 0;
        for (let s = 0; s < S; s++) t += b[s * F1 + i];
        expect(a[i]).toBeCloseTo(t, 5);
      }
    }
    for (const [key, m] of sum.edges!) {
      const [up, down] = key.split('->');
      const Fu1 = ctx.saes.get(up)!.f + 1;
      const Fd1 = down === 'y' ? 1 : ctx.saes.get(down)!.f + 1;
      const folded = new Map<number, number>();
      for (const [k, w] of none.edges!.get(key)!) {
        let kk: number;
        if (down === 'y') kk = k % Fu1;
        else {
          const j = k % Fu1;
          const rest = Math.floor(k / Fu1);
          const kd = Math.floor(rest / S) % Fd1;
          kk = kd * Fu1 + j;
        }
        folded.set(kk, (folded.get(kk) ?? 0) + w);
      }
      for (const [k, w] of m) expect(folded.get(k) ?? 0).toBeCloseTo(w, 5);
    }
  });

  it('batch size does not change the result', async () => {
    const a = await discover(ctx, examples, { ...opts, aggregation: 'sum', batchSize: 3 });
    const b = await discover(ctx, examples, { ...opts, aggregation: 'sum', batchSize: 1 });
    for (const name of ctx.submodules) {
      const x = a.effects.get(name)!;
      const y = b.effects.get(name)!;
      for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(y[i], 5);
    }
    for (const [key, m] of a.edges!) for (const [k, w] of m) expect(b.edges!.get(key)!.get(k) ?? 0).toBeCloseTo(w, 5);
    expect(a.totalEffect!).toBeCloseTo(b.totalEffect!, 5);
  });

  it('neuron mode (identity SAEs) has no error nodes and its node effects are plain IG on neurons', async () => {
    const nctx: CircuitContext = { ...ctx, saes: identitySaeSet(ctx.submodules, D) };
    const r = await discover(nctx, examples.slice(0, 2), { ...opts, aggregation: 'sum', batchSize: 2 });
    for (const name of ctx.submodules) expect(r.effects.get(name)![D]).toBe(0);
    for (const [key, m] of r.edges!) {
      const [up, down] = key.split('->');
      for (const k of m.keys()) {
        expect(k % (D + 1), `${key}: upstream error`).not.toBe(D);
        if (down !== 'y') expect(Math.floor(k / (D + 1)), `${key}: downstream error`).not.toBe(D);
      }
      expect(nctx.saes.has(up), key).toBe(true);
    }
    // Plain IG on neurons: effect_i = Σ over tokens of the path-averaged ∂m/∂x_i · (x_patch − x_clean)_i.
    const { clean, patch, metric } = batchOf(examples.slice(0, 2));
    const a = await attributeNodes(nctx, clean, patch, metric, { method: 'ig', steps: 3 });
    let nonzero = 0;
    for (const name of ctx.submodules) {
      const g = a.grads.get(name)!;
      const xc = a.clean.states.get(name)!.x;
      const xp = a.patch!.states.get(name)!.x;
      const want = new Float64Array(D);
      for (let q = 0; q < g.length; q++) want[q % D] += g[q] * (xp[q] - xc[q]);
      const got = r.effects.get(name)!;
      for (let i = 0; i < D; i++) {
        expect(got[i], `${name}[${i}]`).toBeCloseTo(want[i], 4);
        if (want[i] !== 0) nonzero++;
      }
    }
    expect(nonzero).toBeGreaterThan(D); // the comparison is not between zeros
  });
});

export type { F32 };

describe('SAE quality on load', () => {
  it('measures variance explained and L0 like the plain reference (saes/encode-ref)', async () => {
    const { measureSaeQuality } = await import('../../src-main/circuits/sae-quality');
    const { saeQuality } = await import('../../src-main/saes/encode-ref');
    const b = model.batchFromIds(examples.map((e) => e.clean));
    const rows = await measureSaeQuality(ctx, b);
    const { acts } = await model.forward(b);
    for (const r of rows) {
      const want = saeQuality(ctx.saes.get(r.submodule)!, acts.get(r.submodule)!.data);
      expect(r.varianceExplained).toBeCloseTo(want.varianceExplained, 4);
      expect(r.meanL0).toBeCloseTo(want.meanL0, 5);
    }
  });

  it('taken from discovery\'s own clean and patch passes, equals a pass of its own on the same prefixes', async () => {
    const { measureSaeQuality, SaeQualityCollector } = await import('../../src-main/circuits/sae-quality');
    const chosen = new Set([0, 2]); // one in each of two batches
    const collector = new SaeQualityCollector(ctx, chosen);
    await discover(ctx, examples, { method: 'ig', steps: 2, aggregation: 'sum', nodeThreshold: 0.1, batchSize: 2, nodesOnly: true, onBatch: (b) => collector.add(b) });
    const got = collector.rows();
    const own = await measureSaeQuality(ctx, model.batchFromIds([...chosen].flatMap((i) => [examples[i].clean, examples[i].patch!])));
    expect(got.map((r) => r.submodule)).toEqual(own.map((r) => r.submodule));
    for (const [i, r] of got.entries()) {
      expect(r.tokens).toBe(own[i].tokens);
      expect(r.meanL0).toBeCloseTo(own[i].meanL0, 6);
      expect(r.varianceExplained).toBeCloseTo(own[i].varianceExplained, 5);
    }
  });
});
