/**
 * The demo SAE trainer (dictionary_learning recipe): the loss gradient against finite
 * differences of a plain float64 computation, recovery of a planted sparse dictionary,
 * unit-norm decoder columns, dead-feature resampling, invariance to the activation scale
 * (the folded-back normalisation), the ae.pt round trip through the normal SAE loader, and the
 * fast evaluation path against the plain reference encode/decode (saes/encode-ref.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reconstruct, saeMetrics } from '../../src-main/demo/evaluate';
import { Rng } from '../../src-main/demo/rng';
import { type AeState, type SaeTrainOptions, aeStateToSae, buildSaeTrainGraph, trainSae, writeAe } from '../../src-main/demo/train-sae';
import { SessionCache } from '../../src-main/engine/session';
import { Tensor } from '../../src-main/engine/tensor';
import { decodeRef, encodeRef, saeQuality } from '../../src-main/saes/encode-ref';
import { loadSaeSet } from '../../src-main/saes/load';

const sessions = new SessionCache({ threads: 1 });
const dirs: string[] = [];
afterAll(async () => {
  await sessions.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const randn = (r: Rng, n: number, s = 1) => Float32Array.from({ length: n }, () => s * r.normal());

/**
 * Rows that are sparse non-negative combinations (k of K planted unit directions, fixed by
 * `dict`) plus a fixed offset; `sample` seeds the draws.
 */
function planted(dict: number, sample: number, n: number, d: number, K: number, k: number, scale = 1) {
  let r = new Rng(dict);
  const dirs = Array.from({ length: K }, () => {
    const v = randn(r, d);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  const offset = randn(r, d, 0.5);
  r = new Rng(sample + 1000);
  const x = new Float32Array(n * d);
  for (let row = 0; row < n; row++) {
    for (let j = 0; j < d; j++) x[row * d + j] = offset[j]! * scale;
    for (let t = 0; t < k; t++) {
      const dir = dirs[r.int(K)]!;
      const a = (1 + 2 * r.next()) * scale;
      for (let j = 0; j < d; j++) x[row * d + j]! += a * dir[j]!;
    }
  }
  return x;
}

const base = (o: Partial<SaeTrainOptions> = {}): SaeTrainOptions => ({
  f: 48, l1: 0.3, lr: 3e-3, steps: 500, batch: 256, warmup: 20, sparsityWarmup: 50, decayStart: 400,
  resampleEvery: 100, deadWindow: 50, seed: 1, sessions, ...o,
});

describe('SAE loss gradient', () => {
  it('matches central finite differences of a plain float64 loss', async () => {
    const d = 5, f = 7, n = 6;
    const r = new Rng(3);
    const p = { x: randn(r, n * d), W_enc: randn(r, f * d, 0.7), b_enc: randn(r, f, 0.3), W_dec: randn(r, d * f, 0.7), b_dec: randn(r, d, 0.3) };
    const lambda = 0.37;
    const loss64 = (q: Record<string, ArrayLike<number>>) => {
      let total = 0;
      for (let row = 0; row < n; row++) {
        const feats = Array.from({ length: f }, (_, i) => {
          let s = q.b_enc![i]!;
          for (let j = 0; j < d; j++) s += q.W_enc![i * d + j]! * (q.x![row * d + j]! - q.b_dec![j]!);
          return Math.max(0, s);
        });
        for (let j = 0; j < d; j++) {
          let xh = q.b_dec![j]!;
          for (let i = 0; i < f; i++) xh += q.W_dec![j * f + i]! * feats[i]!;
          total += (q.x![row * d + j]! - xh) ** 2;
        }
        total += lambda * feats.reduce((a, b) => a + b, 0);
      }
      return total / n;
    };
    const s = await sessions.get('test-sae-grad', () => buildSaeTrainGraph(d, f));
    const out = await s.run({
      x: new Tensor(p.x, [n, d]), W_enc: new Tensor(p.W_enc, [f, d]), b_enc: new Tensor(p.b_enc, [f]),
      W_dec: new Tensor(p.W_dec, [d, f]), b_dec: new Tensor(p.b_dec, [d]),
      inv_n: new Tensor(Float32Array.of(1 / n), []), lambda: new Tensor(Float32Array.of(lambda), []), d_loss: new Tensor(Float32Array.of(1), []),
    });
    expect(out.loss!.data[0]).toBeCloseTo(loss64(p), 4);
    const q = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float64Array.from(v)]));
    for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec']) {
      const g = out[`grad:${name}`]!.data;
      for (let i = 0; i < g.length; i++) {
        const keep = q[name]![i]!;
        q[name]![i] = keep + 1e-6;
        const up = loss64(q);
        q[name]![i] = keep - 1e-6;
        const down = loss64(q);
        q[name]![i] = keep;
        expect(g[i], `${name}[${i}]`).toBeCloseTo((up - down) / 2e-6, 3);
      }
    }
  });
});

describe('SAE training', () => {
  it('recovers a planted sparse dictionary with unit-norm decoder columns', async () => {
    const d = 32;
    // Two of 24 planted directions per row: a good SAE needs about 2 features per row.
    const x = planted(1, 1, 6000, d, 24, 2);
    const held = planted(1, 2, 1000, d, 24, 2);
    const r = await trainSae(x, d, base({ l1: 1 }));
    const { state } = r;
    for (let i = 0; i < state.f; i++) {
      let ss = 0;
      for (let j = 0; j < d; j++) ss += state.decW[j * state.f + i]! ** 2;
      expect(Math.sqrt(ss)).toBeCloseTo(1, 5);
    }
    const q = saeQuality(aeStateToSae(state), held);
    expect(q.varianceExplained).toBeGreaterThan(0.93);
    expect(q.meanL0).toBeLessThan(4.5);
    expect(q.deadFraction).toBeLessThan(0.2);
  });

  it('resamples dead features and stays stable', async () => {
    const d = 8;
    // Only 3 planted directions for 32 features under a strong penalty: most features die.
    const x = planted(3, 1, 4000, d, 3, 1);
    const r = await trainSae(x, d, base({ f: 32, l1: 1, steps: 400, decayStart: 350 }));
    expect(r.resampled.length).toBeGreaterThan(0);
    expect(r.resampled.reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
    const q = saeQuality(aeStateToSae(r.state), planted(3, 2, 500, d, 3, 1));
    expect(q.varianceExplained).toBeGreaterThan(0.9);
  });

  it('does not depend on the activation scale (normalisation folded back into the biases)', async () => {
    const d = 16;
    const x = planted(5, 1, 3000, d, 24, 2);
    const o = base({ steps: 150, decayStart: 120 });
    const a = await trainSae(x, d, o);
    const b = await trainSae(x.map((v) => v * 1000), d, o);
    expect(b.scale * 1000).toBeCloseTo(a.scale, 4);
    const probe = planted(5, 2, 50, d, 24, 2);
    const ra = decodeRef(aeStateToSae(a.state), encodeRef(aeStateToSae(a.state), probe));
    const rb = decodeRef(aeStateToSae(b.state), encodeRef(aeStateToSae(b.state), probe.map((v) => v * 1000)));
    for (let i = 0; i < ra.length; i++) expect(rb[i]! / 1000).toBeCloseTo(ra[i]!, 2);
  });
});

describe('SAE files and evaluation', () => {
  it('writes ae.pt that the normal loader reads back exactly; the fast path matches the reference', async () => {
    const d = 16;
    const { state } = await trainSae(planted(7, 1, 2000, d, 24, 2), d, base({ steps: 100, decayStart: 80 }));
    const dir = mkdtempSync(join(tmpdir(), 'sfc-demo-sae-'));
    dirs.push(dir);
    writeAe(dir, 'embed', 'demo', state, { trainer: {} });
    writeAe(dir, 'resid_0', 'demo', state, { trainer: {} });
    const set = loadSaeSet(dir, { submodules: ['embed', 'resid_0'], d });
    const got = set.get('resid_0')!;
    const want = aeStateToSae(state);
    expect(got.source).toMatch(/resid_out_layer0[/\\]demo_48[/\\]ae\.pt$/);
    expect([got.kind, got.d, got.f, got.applyBDecToInput]).toEqual(['relu', d, 48, true]);
    for (const k of ['enc', 'bEnc', 'dec', 'bDec'] as const) expect(Array.from(got[k])).toEqual(Array.from(want[k]));

    const x = planted(7, 2, 300, d, 24, 2);
    const { xHat } = await reconstruct(sessions, got, x);
    const ref = decodeRef(got, encodeRef(got, x));
    for (let i = 0; i < ref.length; i++) expect(xHat[i]).toBeCloseTo(ref[i]!, 4);
    const m = await saeMetrics(sessions, got, x);
    const q = saeQuality(got, x);
    expect(m.varianceExplained).toBeCloseTo(q.varianceExplained, 5);
    expect(m.meanL0).toBeCloseTo(q.meanL0, 5);
    expect(m.deadFraction).toBeCloseTo(q.deadFraction, 10);
  });
});

// Keep the helper type in use for readers: an AeState is dictionary_learning's state_dict.
export type { AeState };
