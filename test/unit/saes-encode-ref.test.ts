import { describe, expect, it } from 'vitest';
import { decodeRef, encodeRef, saeQuality } from '../../src-main/saes/encode-ref';
import { identitySae } from '../../src-main/saes/identity';
import type { Sae } from '../../src-main/saes/types';
import { mulberry32 } from '../helpers/random';
import { randomArray, randomSae } from '../helpers/saes-fixtures';

/** D = 2, F = 3, small enough to do by hand. */
function tiny(over: Partial<Sae> = {}): Sae {
  return {
    kind: 'relu',
    d: 2,
    f: 3,
    enc: Float32Array.from([1, 0, 0, 1, 1, 1]),
    bEnc: Float32Array.from([0, -1, 0.5]),
    dec: Float32Array.from([1, 0, 0, 1, 0.6, 0.8]),
    bDec: Float32Array.from([1, 1]),
    applyBDecToInput: true,
    source: 'tiny',
    ...over,
  };
}

describe('reference encode/decode', () => {
  it('matches a hand computation', () => {
    // x = (2, 3); x − bDec = (1, 2); pre = (1, 2 − 1, 3 + 0.5) = (1, 1, 3.5)
    // x̂ = 1·(1, 0) + 1·(0, 1) + 3.5·(0.6, 0.8) + (1, 1) = (4.1, 4.8)
    const [row] = encodeRef(tiny(), Float32Array.from([2, 3]));
    expect([...row!.indices]).toEqual([0, 1, 2]);
    expect([...row!.values]).toEqual([1, 1, 3.5]);
    const xHat = decodeRef(tiny(), [row!]);
    expect(xHat[0]).toBeCloseTo(4.1, 6);
    expect(xHat[1]).toBeCloseTo(4.8, 6);
  });

  it('without applyBDecToInput the input is used as is', () => {
    // pre = (2, 3 − 1, 5.5)
    const [row] = encodeRef(tiny({ applyBDecToInput: false }), Float32Array.from([2, 3]));
    expect([...row!.values]).toEqual([2, 2, 5.5]);
  });

  it('ReLU drops negative pre-activations; JumpReLU also those at or below the threshold', () => {
    // x = (0, 0): x − bDec = (−1, −1); pre = (−1, −2, −1.5) → nothing fires
    expect(encodeRef(tiny(), Float32Array.from([0, 0]))[0]!.indices.length).toBe(0);
    // pre = (1, 1, 3.5) with thresholds (1.5, 1, 3): only feature 2 is strictly above
    const [row] = encodeRef(tiny({ kind: 'jumprelu', threshold: Float32Array.from([1.5, 1, 3]) }), Float32Array.from([2, 3]));
    expect([...row!.indices]).toEqual([2]);
    expect([...row!.values]).toEqual([3.5]);
  });

  it('identity: f = x, x̂ = x', () => {
    const id = identitySae(3);
    const x = Float32Array.from([1, 0, -2, 0, 0, 5]);
    const rows = encodeRef(id, x);
    expect(rows.map((r) => [...r.indices])).toEqual([[0, 2], [2]]);
    expect(decodeRef(id, rows)).toEqual(x);
  });

  it('rejects activations of the wrong width', () => {
    expect(() => encodeRef(tiny(), new Float32Array(3))).toThrow('tiny: activations have 3 values, not a multiple of width 2');
  });
});

describe('saeQuality', () => {
  it('identity explains everything', () => {
    const x = randomArray(mulberry32(1), 10 * 4);
    const q = saeQuality(identitySae(4), x);
    expect(q.varianceExplained).toBeCloseTo(1, 12);
    expect(q.meanL0).toBe(4);
    expect(q.deadFraction).toBe(0);
  });

  it('an SAE that never fires explains nothing, however large the offset, and is all dead', () => {
    // x̂ = bDec for every row, so x − x̂ has the same per-dimension variance as x: VE = 0 exactly.
    const sae = tiny({ bEnc: Float32Array.from([-1e6, -1e6, -1e6]) });
    const x = Float32Array.from({ length: 20 }, (_, i) => 1000 + Math.sin(i));
    const q = saeQuality(sae, x);
    expect(q.varianceExplained).toBeCloseTo(0, 9);
    expect(q.meanL0).toBe(0);
    expect(q.deadFraction).toBe(1);
  });

  it('matches a direct computation of 1 − Σ_d Var(x − x̂) / Σ_d Var(x)', () => {
    const sae = randomSae(2, 6, 20);
    const n = 12;
    const x = randomArray(mulberry32(3), n * 6, 2);
    const q = saeQuality(sae, x);
    const rows = encodeRef(sae, x);
    const xHat = decodeRef(sae, rows);
    // Population variance here (N instead of N − 1): the ratio is the same.
    const v = (f: (r: number, j: number) => number) => {
      let t = 0;
      for (let j = 0; j < 6; j++) {
        const vals = Array.from({ length: n }, (_, r) => f(r, j));
        const m = vals.reduce((a, b) => a + b) / n;
        t += vals.reduce((a, b) => a + (b - m) ** 2, 0) / n;
      }
      return t;
    };
    const expected = 1 - v((r, j) => x[r * 6 + j]! - xHat[r * 6 + j]!) / v((r, j) => x[r * 6 + j]!);
    expect(q.varianceExplained).toBeCloseTo(expected, 5);
    expect(q.meanL0).toBe(rows.reduce((a, r) => a + r.indices.length, 0) / n);
    const alive = new Set(rows.flatMap((r) => [...r.indices]));
    expect(q.deadFraction).toBe((20 - alive.size) / 20);
  });
});
