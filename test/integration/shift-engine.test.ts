/**
 * SHIFT's engine parts on a small random GPT-NeoX with random SAEs, each against a plain dense
 * float64 computation on the reference model (test/reference/gptneox64.ts): the probe metric
 * (mean pooling over real tokens of a left-padded batch), its gradient at every hook point
 * (central finite differences), the zero-ablation hook, and zero-ablation IG with the probe metric
 * (its effects add up to the metric change of zeroing a whole submodule, the IG path's endpoints).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src-main/engine/session';
import { loadNeoxFolder } from '../../src-main/models/load';
import type { NeoxModel } from '../../src-main/models/neox-model';
import { SaeOps } from '../../src-main/circuits/sae-ops';
import { type CircuitContext, observe } from '../../src-main/circuits/state';
import { probeMetric } from '../../src-main/circuits/discover';
import { pathGradient } from '../../src-main/circuits/nodes';
import { pooledResiduals } from '../../src-main/circuits/probe';
import { type FeatureRef, discoverClassifierFeatures, meanAblationRun, probeContext, zeroAblationRun } from '../../src-main/circuits/shift';
import { identitySaeSet } from '../../src-main/saes/identity';
import type { SaeSet } from '../../src-main/saes/types';
import { type NeoxFolder, writeRandomNeoxFolder } from '../helpers/neox-folder';
import { randomSae, rms } from '../helpers/random-sae';
import { mulberry32, randn } from '../helpers/random';
import { gptNeoxForward64 } from '../reference/gptneox64';
import { decodeDense, encodeDense } from '../reference/ablation-dense';

let dir: string;
let folder: NeoxFolder;
let model: NeoxModel;
let base: CircuitContext;
const sessions = new SessionCache({ threads: 1 });
const D = 32;
const F = 48;
/** Sequences of different lengths: batches are left-padded. */
const seqs = [
  [3, 9, 14, 22, 7],
  [7, 30, 2],
  [15, 4, 40, 9, 11, 5],
  [21, 33],
  [1, 19, 27, 36, 8],
];
const labels = [0, 1, 1, 0, 1];
const r = mulberry32(77);
const probe = { weight: Float32Array.from({ length: D }, () => randn(r)), bias: 0.3 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-shift-engine-'));
  folder = writeRandomNeoxFolder(join(dir, 'm'), { seed: 31, layers: 2, hidden: D, heads: 4, intermediate: 64, rotaryPct: 0.25 });
  model = await loadNeoxFolder(folder.dir, sessions);
  const { acts } = await model.forward(model.batchFromIds(seqs.map((s) => s.slice(0, 2))));
  const saes: SaeSet = new Map();
  model.hookPoints.forEach((name, i) => saes.set(name, randomSae(D, F, 500 + i, { scale: (rms(acts.get(name)!.data) * Math.sqrt(D)) / 4 })));
  base = { model, saes, ops: new SaeOps(sessions), submodules: model.hookPoints };
});
afterAll(async () => {
  await sessions.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Left-padded ids and masks as the engine builds them. */
function padded(): { ids: number[][]; mask: number[][] } {
  const S = Math.max(...seqs.map((s) => s.length));
  return { ids: seqs.map((s) => [...new Array(S - s.length).fill(0), ...s]), mask: seqs.map((s) => [...new Array(S - s.length).fill(0), ...s.map(() => 1)]) };
}

/** Dense: the probe logit of every example from resid_layer, mean over real tokens, with an optional edit. */
function denseLogits(layer: number, edit?: (hook: string, b: number, x: Float64Array) => void): number[] {
  const { ids, mask } = padded();
  const out = gptNeoxForward64(folder.config, folder.weights, ids, mask, { edit });
  const S = ids[0].length;
  const h = out.hooks[`resid_${layer}`];
  return ids.map((_, b) => {
    let z = probe.bias;
    const n = mask[b].reduce((a, c) => a + c, 0);
    for (let s = 0; s < S; s++) {
      if (!mask[b][s]) continue;
      for (let d = 0; d < D; d++) z += (probe.weight[d] * h[(b * S + s) * D + d]) / n;
    }
    return z;
  });
}
const sign = (b: number) => (labels[b] === 0 ? 1 : -1);
const examples = () => seqs.map((ids, b) => ({ clean: ids, patch: null, cleanAnswer: -1, patchAnswer: null, label: labels[b] }));

describe.each([0, 1])('probe on resid_%i', (layer) => {
  it('its metric is ±(probe logit on the mean-pooled residual), padding excluded', async () => {
    const ctx = probeContext(base, probe, layer);
    expect(ctx.submodules).toEqual(model.hookPoints.slice(0, 1 + 3 * (layer + 1)));
    const batch = ctx.model.batchFromIds(seqs);
    const m = probeMetric(examples());
    const { h } = await ctx.model.forward(batch);
    const got = (await ctx.model.metric(batch, h, m.ids, m.coef)).data;
    const want = denseLogits(layer);
    want.forEach((z, b) => expect(got[b]).toBeCloseTo(sign(b) * z, 4));
  });

  it('its gradient at every hook point matches central finite differences of the dense model', async () => {
    const ctx = probeContext(base, probe, layer);
    const batch = ctx.model.batchFromIds(seqs);
    const metric = probeMetric(examples());
    const run = await observe(ctx, batch, metric);
    const S = batch.tokens.shape[1];
    const rr = mulberry32(5 + layer);
    let worst = 0;
    for (const name of ctx.submodules) {
      const g = await pathGradient(ctx, batch, run, name, run.acts.get(name)!, metric);
      for (let k = 0; k < 4; k++) {
        const b = Math.floor(rr() * seqs.length);
        const s = S - 1 - Math.floor(rr() * seqs[b].length); // a real token
        const d = Math.floor(rr() * D);
        const eps = 1e-4;
        const at = (delta: number) => denseLogits(layer, (hook, bb, x) => {
          if (hook === name && bb === b) x[s * D + d] += delta;
        })[b] * sign(b);
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        const got = g[(b * S + s) * D + d];
        worst = Math.max(worst, Math.abs(got - fd) / Math.max(1e-3, Math.abs(fd)));
        expect(got).toBeCloseTo(fd, 3);
      }
    }
    expect(worst).toBeLessThan(1e-2);
  });

  it('zero ablation of chosen features (error kept, later layers see the edit) matches the dense computation', async () => {
    const ctx = probeContext(base, probe, layer);
    // Features that are active somewhere, at every submodule of the probe.
    const feats: FeatureRef[] = ctx.submodules.flatMap((sub, i) => [{ submodule: sub, feature: (7 * i) % F }, { submodule: sub, feature: (7 * i + 11) % F }, { submodule: sub, feature: (7 * i + 23) % F }]);
    const pooled = await pooledResiduals(ctx.model, seqs, zeroAblationRun(ctx, feats), { batchSize: 5 });
    const ablated = new Map<string, Set<number>>();
    for (const f of feats) ablated.set(f.submodule, new Set([...(ablated.get(f.submodule) ?? []), f.feature]));
    const { ids, mask } = padded();
    const S = ids[0].length;
    const out = gptNeoxForward64(folder.config, folder.weights, ids, mask, {
      edit: (hook, _b, x) => {
        const chosen = ablated.get(hook);
        if (!chosen) return;
        const sae = ctx.saes.get(hook)!;
        for (let s = 0; s < S; s++) {
          const xs = x.subarray(s * D, (s + 1) * D);
          const f = encodeDense(sae, xs);
          const xhat = decodeDense(sae, f);
          for (const i of chosen) f[i] = 0;
          const y = decodeDense(sae, f);
          for (let j = 0; j < D; j++) xs[j] = y[j] + (xs[j] - xhat[j]);
        }
      },
    });
    const clean = await pooledResiduals(ctx.model, seqs, async (b) => (await ctx.model.forward(b)).h, { batchSize: 5 });
    let moved = 0;
    const h = out.hooks[`resid_${layer}`];
    seqs.forEach((sq, b) => {
      for (let d = 0; d < D; d++) {
        let want = 0;
        for (let s = S - sq.length; s < S; s++) want += h[(b * S + s) * D + d] / sq.length;
        expect(pooled[b * D + d]).toBeCloseTo(want, 4);
        moved = Math.max(moved, Math.abs(pooled[b * D + d] - clean[b * D + d]));
      }
    });
    expect(moved).toBeGreaterThan(1e-2); // the ablation changed something
  });

  it('mean ablation of chosen neurons (the neuron skyline: each set to its mean over the batch, later layers see the edit) matches the dense computation', async () => {
    const ctx = probeContext(base, probe, layer);
    const nctx: CircuitContext = { ...ctx, saes: identitySaeSet(ctx.submodules, D) };
    // Sequences of one length (no padding), so the dense reference sees the same positions.
    const eq = [seqs[0], seqs[4], seqs[2].slice(0, 5)];
    const neurons: FeatureRef[] = ctx.submodules.flatMap((sub, i) => [{ submodule: sub, feature: (5 * i) % D }, { submodule: sub, feature: (5 * i + 13) % D }]);
    const pooled = await pooledResiduals(nctx.model, eq, meanAblationRun(nctx, neurons), { batchSize: 3 });
    const S = 5;
    const ids = eq;
    const mask = eq.map((s) => s.map(() => 1));
    const clean = gptNeoxForward64(folder.config, folder.weights, ids, mask);
    const means = new Map<string, Map<number, number>>();
    for (const f of neurons) {
      const x = clean.hooks[f.submodule];
      let m = 0;
      for (let n = 0; n < eq.length * S; n++) m += x[n * D + f.feature] / (eq.length * S);
      means.set(f.submodule, (means.get(f.submodule) ?? new Map()).set(f.feature, m));
    }
    const out = gptNeoxForward64(folder.config, folder.weights, ids, mask, {
      edit: (hook, _b, x) => {
        const m = means.get(hook);
        if (!m) return;
        for (let s = 0; s < S; s++) for (const [i, v] of m) x[s * D + i] = v;
      },
    });
    const h = out.hooks[`resid_${layer}`];
    let moved = 0;
    eq.forEach((_, b) => {
      for (let d = 0; d < D; d++) {
        let want = 0;
        let was = 0;
        for (let s = 0; s < S; s++) (want += h[(b * S + s) * D + d] / S), (was += clean.hooks[`resid_${layer}`][(b * S + s) * D + d] / S);
        expect(pooled[b * D + d]).toBeCloseTo(want, 4);
        moved = Math.max(moved, Math.abs(want - was));
      }
    });
    expect(moved).toBeGreaterThan(1e-2);
    expect(() => meanAblationRun(ctx, neurons)).toThrow(/needs identity dictionaries/);
  });

  it('zero-ablation IG effects of a submodule add up to the dense left Riemann sum along the path to zero', async () => {
    const ctx = probeContext(base, probe, layer);
    const N = 10;
    const exs = seqs.map((ids, b) => ({ ids, label: labels[b] }));
    const { totals } = await discoverClassifierFeatures(ctx, exs, { steps: N, batchSize: 5, threshold: 0 });
    for (const name of ctx.submodules) {
      const sae = ctx.saes.get(name)!;
      // Patch = none: features and error zero, which decodes to b_dec; the hook moves to
      // (1 − α)·x + α·b_dec. Σ over features and error of the effects = (1/N) Σ_k dm/dα at α_k = k/N
      // (the dense derivative by central differences along the path).
      const at = (alpha: number) =>
        denseLogits(layer, (hook, _b, x) => {
          if (hook !== name) return;
          for (let i = 0; i < x.length; i++) x[i] = (1 - alpha) * x[i] + alpha * sae.bDec[i % D];
        }).map((z, b) => sign(b) * z);
      let want = 0;
      const h = 1e-4;
      for (let k = 0; k < N; k++) {
        const up = at(k / N + h);
        const down = at(k / N - h);
        want += up.reduce((a, z, b) => a + (z - down[b]) / (2 * h), 0) / N / seqs.length;
      }
      const got = totals.effects.get(name)!.reduce((a, v) => a + v, 0) / totals.examples;
      expect(Math.abs(got - want)).toBeLessThan(2e-3 * Math.max(1, Math.abs(want)));
    }
  });
});

it('a probe view refuses what it cannot be', () => {
  expect(() => model.withProbe({ layer: 2, weight: new Float32Array(D), bias: 0 })).toThrow(/probe layer 2 is outside the model's layers 0\.\.1/);
  expect(() => model.withProbe({ layer: 0, weight: new Float32Array(3), bias: 0 })).toThrow(/the probe has 3 weights but the model's residual stream has 32 dimensions/);
  expect(() => zeroAblationRun(probeContext(base, probe, 0), [{ submodule: 'resid_1', feature: 0 }])).toThrow(/ablation: resid_1\/0: submodule 'resid_1' is not one of the probe's submodules/);
  expect(() => zeroAblationRun(probeContext(base, probe, 0), [{ submodule: 'embed', feature: F }])).toThrow(/embed\/48: feature out of range \(embed has 48 features\)/);
});
