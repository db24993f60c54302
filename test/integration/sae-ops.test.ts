/**
 * The engine's SAE encoder (one Gemm, active features read out inside onnxruntime as flat
 * positions) against the plain float64 reference encoder, and the CSR helpers it relies on.
 */
import { describe, expect, it } from 'vitest';
import { SessionCache } from '../../src-main/engine/session';
import { SaeOps } from '../../src-main/circuits/sae-ops';
import { concatRows, fromFlat, sparsify } from '../../src-main/circuits/sparse';
import { decodeRef, encodeRef } from '../../src-main/saes/encode-ref';
import { randomSae } from '../helpers/random-sae';
import { mulberry32, randn } from '../helpers/random';

const ops = new SaeOps(new SessionCache());

function randomRows(rows: number, d: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: rows * d }, () => randn(r));
}

describe('SaeOps.encode', () => {
  for (const kind of ['relu', 'jumprelu'] as const) {
    it(`${kind}: same active features and values as the float64 reference`, async () => {
      const d = 24, f = 96, rows = 13;
      const sae = randomSae(d, f, 7, { kind });
      const x = randomRows(rows, d, 3);
      x.fill(0, 5 * d, 6 * d); // a row near b_dec: few or no active features
      const got = await ops.encode(sae, x, rows);
      const want = encodeRef(sae, x);
      expect(got.rows).toBe(rows);
      let active = 0;
      for (let r = 0; r < rows; r++) {
        const idx = Array.from(got.idx.subarray(got.ptr[r], got.ptr[r + 1]));
        expect(idx).toEqual(Array.from(want[r].indices));
        const val = got.val.subarray(got.ptr[r], got.ptr[r + 1]);
        val.forEach((v, k) => expect(v).toBeCloseTo(want[r].values[k], 5));
        active += idx.length;
      }
      expect(active).toBeGreaterThan(rows); // the test means something: features do fire
    });
  }
});

describe('SaeOps.decode', () => {
  it('equals the reference decoder, with an empty row', async () => {
    const d = 24, f = 96, rows = 13;
    const sae = randomSae(d, f, 8);
    const x = randomRows(rows, d, 4);
    x.fill(0, 2 * d, 3 * d);
    const got = ops.decode(sae, await ops.encode(sae, x, rows));
    const want = decodeRef(sae, encodeRef(sae, x));
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
  });
});

describe('CSR helpers', () => {
  it('fromFlat and concatRows agree with sparsify of the dense matrix', () => {
    const rows = 7, F = 11;
    const r = mulberry32(5);
    const dense = Float32Array.from({ length: rows * F }, () => (r() < 0.3 ? randn(r) : 0));
    dense.fill(0, 2 * F, 3 * F); // an empty row
    const want = sparsify(dense, rows, F);
    const at: number[] = [];
    dense.forEach((v, i) => { if (v !== 0) at.push(i); });
    const flat = fromFlat(Int32Array.from(at), Float32Array.from(at, (i) => dense[i]), rows, F);
    expect(flat).toEqual(want);
    const top = sparsify(dense.subarray(0, 3 * F), 3, F);
    const bottom = sparsify(dense.subarray(3 * F), rows - 3, F);
    expect(concatRows([top, bottom])).toEqual(want);
  });
});
