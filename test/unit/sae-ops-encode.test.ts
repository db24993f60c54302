/**
 * SaeOps encoding shortcuts (circuits/sae-ops.ts): repeated rows are encoded once and give the
 * features of encoding every row; encodeSubset gives the dense encoder's values on the chosen
 * features, for ReLU and JumpReLU SAEs.
 */
import { describe, expect, it } from 'vitest';
import { SessionCache } from '../../src-main/engine/session';
import { SaeOps, uniqueRows } from '../../src-main/circuits/sae-ops';
import { randomSae } from '../helpers/random-sae';
import { mulberry32, randn } from '../helpers/random';

const D = 16;
const F = 40;
const ops = new SaeOps(new SessionCache({ threads: 1 }));
const rnd = mulberry32(9);
const row = (): Float32Array => Float32Array.from({ length: D }, () => randn(rnd));

/** Rows a, b, a, c, b, a (and a row equal to a but for -0 in place of 0). */
function repeated(): { x: Float32Array; rows: number } {
  const [a, b, c] = [row(), row(), row()];
  a[3] = 0;
  const negZero = Float32Array.from(a);
  negZero[3] = -0;
  const rows = [a, b, a, c, b, a, negZero];
  const x = new Float32Array(rows.length * D);
  rows.forEach((r, i) => x.set(r, i * D));
  return { x, rows: rows.length };
}

describe('uniqueRows', () => {
  it('maps every row to its first bitwise-equal row, and returns null when all differ', () => {
    const { x, rows } = repeated();
    const u = uniqueRows(x, rows, D)!;
    expect(u.rows).toBe(4); // a, b, c, and a with -0
    expect(Array.from(u.of)).toEqual([0, 1, 0, 2, 1, 0, 3]);
    for (let r = 0; r < rows; r++) expect(Array.from(u.x.subarray(u.of[r] * D, (u.of[r] + 1) * D))).toEqual(Array.from(x.subarray(r * D, (r + 1) * D)));
    expect(uniqueRows(Float32Array.from({ length: 3 * D }, () => randn(rnd)), 3, D)).toBeNull();
  });
});

describe('SaeOps.encode with repeated rows', () => {
  for (const kind of ['relu', 'jumprelu'] as const) {
    it(`${kind}: equals encoding each row alone`, async () => {
      const sae = randomSae(D, F, 3, { kind });
      const { x, rows } = repeated();
      const all = await ops.encode(sae, x, rows);
      expect(all.rows).toBe(rows);
      let active = 0;
      for (let r = 0; r < rows; r++) {
        const one = await ops.encode(sae, x.slice(r * D, (r + 1) * D), 1);
        const a = all.ptr[r];
        const b = all.ptr[r + 1];
        expect(Array.from(all.idx.subarray(a, b))).toEqual(Array.from(one.idx));
        Array.from(all.val.subarray(a, b)).forEach((v, k) => expect(v).toBeCloseTo(one.val[k], 6));
        active += b - a;
      }
      expect(active).toBeGreaterThan(rows); // features are active: the comparison is not between empty rows
    });

    it(`${kind}: encodeSubset gives the dense values on the chosen features`, async () => {
      const sae = randomSae(D, F, 4, { kind });
      const x = Float32Array.from({ length: 5 * D }, () => randn(rnd));
      const features = Int32Array.from([0, 3, 4, 17, 39]);
      const dense = await ops.encode(sae, x, 5);
      const sub = await ops.encodeSubset(sae, x, 5, features);
      let nonzero = 0;
      for (let r = 0; r < 5; r++) {
        const m = new Map<number, number>();
        for (let q = dense.ptr[r]; q < dense.ptr[r + 1]; q++) m.set(dense.idx[q], dense.val[q]);
        features.forEach((i, k) => {
          expect(sub[r * features.length + k]).toBeCloseTo(m.get(i) ?? 0, 5);
          if (sub[r * features.length + k] !== 0) nonzero++;
        });
      }
      expect(nonzero).toBeGreaterThan(0);
    });
  }
});
