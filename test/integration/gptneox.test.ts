/**
 * The engine's GPT-NeoX against the independent float64 reference (test/reference/gptneox64.ts):
 * forward at every hook point, left padding, batch = one-by-one, and the metric VJP to every
 * hook point against central finite differences of the reference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src-main/engine/session';
import { Tensor } from '../../src-main/engine/tensor';
import { loadNeoxFolder } from '../../src-main/models/load';
import type { NeoxModel } from '../../src-main/models/neox-model';
import { backwardTo, forwardFrom } from '../../src-main/circuits/walk';
import { type NeoxFolder, writeRandomNeoxFolder } from '../helpers/neox-folder';
import { gptNeoxForward64 } from '../reference/gptneox64';
import { mulberry32 } from '../helpers/random';

let dir: string;
let folder: NeoxFolder;
let model: NeoxModel;
const sessions = new SessionCache({ threads: 1 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-neox-'));
  folder = writeRandomNeoxFolder(join(dir, 'm'), { seed: 7, layers: 2 });
  model = await loadNeoxFolder(folder.dir, sessions);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function relClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i] - want[i]) > tol * Math.max(scale, 1e-6)) {
      throw new Error(`${what}[${i}]: got ${got[i]}, want ${want[i]} (scale ${scale})`);
    }
  }
}

const ids = [
  [3, 9, 14, 22, 5],
  [7, 30, 2],
  [11, 4, 40, 8],
];

describe('GPT-NeoX on the engine', () => {
  it('matches the float64 reference at every hook point and the logits, with left padding', async () => {
    const b = model.batchFromIds(ids);
    const S = b.tokens.shape[1];
    const { acts, h } = await model.forward(b);
    const padded = ids.map((r) => [...Array(S - r.length).fill(0), ...r]);
    const mask = ids.map((r) => [...Array(S - r.length).fill(0), ...r.map(() => 1)]);
    const ref = gptNeoxForward64(folder.config, folder.weights, padded, mask);
    const D = folder.config.hidden_size;
    for (const name of model.hookPoints) {
      const got = acts.get(name)!.data;
      ids.forEach((r, bi) => {
        const off = (bi * S + S - r.length) * D;
        relClose(got.subarray(off, (bi + 1) * S * D), ref.hooks[name].subarray(off, (bi + 1) * S * D), 1e-4, `${name} example ${bi}`);
      });
    }
    const V = folder.config.vocab_size;
    const logits = await model.logits(b, h);
    expect([...logits.shape]).toEqual([3, 1, V]);
    ids.forEach((_, bi) => {
      const want = ref.logits.subarray((bi * S + S - 1) * V, (bi * S + S) * V);
      relClose(logits.data.subarray(bi * V, (bi + 1) * V), want, 1e-4, `logits example ${bi}`);
    });
  });

  it('gives each example the same result in a batch as alone', async () => {
    const b = model.batchFromIds(ids);
    const { h } = await model.forward(b);
    const batched = await model.logits(b, h);
    const V = folder.config.vocab_size;
    for (const [bi, r] of ids.entries()) {
      const one = model.batchFromIds([r]);
      const alone = await model.logits(one, (await model.forward(one)).h);
      relClose(batched.data.subarray(bi * V, (bi + 1) * V), alone.data, 1e-5, `example ${bi}`);
    }
  });

  it('computes the metric only from the rows it needs, equal to the full logits', async () => {
    const b = model.batchFromIds(ids);
    const { h } = await model.forward(b);
    const logits = (await model.logits(b, h)).data;
    const V = folder.config.vocab_size;
    const pick = [[5, 9], [1, 2], [33, 7]];
    const m = await model.metric(b, h, new Tensor(Int32Array.from(pick.flat()), [3, 2]), Tensor.from([1, -1, 1, -1, 1, -1], [3, 2]));
    pick.forEach(([p, c], bi) => expect(m.data[bi]).toBeCloseTo(logits[bi * V + p] - logits[bi * V + c], 4));
  });

  it('VJP from the metric to every hook point matches central finite differences of the reference', async () => {
    const rnd = mulberry32(99);
    const b = model.batchFromIds(ids);
    const S = b.tokens.shape[1];
    const D = folder.config.hidden_size;
    const V = folder.config.vocab_size;
    const { acts } = await model.forward(b);
    const pick = [[5, 9], [1, 2], [33, 7]];
    const metric = { ids: new Tensor(Int32Array.from(pick.flat()), [3, 2]), coef: Tensor.from([1, -1, 1, -1, 1, -1], [3, 2]) };
    // Two probes: cotangents on the metric weight the examples differently.
    const cot = Tensor.from([1, 1, 1, 0.5, -2, 3], [2, 3]);
    const padded = ids.map((r) => [...Array(S - r.length).fill(0), ...r]);
    const mask = ids.map((r) => [...Array(S - r.length).fill(0), ...r.map(() => 1)]);
    const refMetric = (hook: string, idx: number, dx: number): number[] => {
      const out = gptNeoxForward64(folder.config, folder.weights, padded, mask, {
        edit: (name, bi, x) => {
          if (name === hook && Math.floor(idx / (S * D)) === bi) x[idx % (S * D)] += dx;
        },
      });
      return pick.map(([p, c], bi) => out.logits[(bi * S + S - 1) * V + p] - out.logits[(bi * S + S - 1) * V + c]);
    };
    for (const name of model.hookPoints) {
      const { hs, hL } = await forwardFrom(model, b, acts, name, acts.get(name)!);
      const g = await backwardTo(model, b, hs, hL, name, metric, cot);
      expect([...g.shape]).toEqual([2, 3, S, D]);
      // Check a few random real-token coordinates per hook point.
      for (let t = 0; t < 4; t++) {
        const bi = Math.floor(rnd() * 3);
        const s = S - 1 - Math.floor(rnd() * ids[bi].length);
        const idx = (bi * S + s) * D + Math.floor(rnd() * D);
        const h = 1e-4;
        const mp = refMetric(name, idx, h);
        const mm = refMetric(name, idx, -h);
        for (let p = 0; p < 2; p++) {
          let fd = 0;
          for (let e = 0; e < 3; e++) fd += (cot.data[p * 3 + e] * (mp[e] - mm[e])) / (2 * h);
          const got = g.data[p * 3 * S * D + idx];
          expect(Math.abs(got - fd), `${name} probe ${p} idx ${idx}: got ${got}, fd ${fd}`).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
        }
      }
    }
  });
});
