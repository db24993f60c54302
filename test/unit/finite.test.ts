/** The NaN / ±Infinity scan used on weights at load and on results before they are written. */
import { describe, expect, it } from 'vitest';
import { assertFinite, describeNonFinite, firstNonFinite } from '../../src-main/engine/finite';

describe('firstNonFinite', () => {
  it('finds NaN, +Inf and −Inf at every position of the unrolled loop and its tail', () => {
    for (const n of [1, 3, 4, 5, 8, 11]) {
      expect(firstNonFinite(new Float32Array(n).fill(1.5))).toBe(-1);
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (let at = 0; at < n; at++) {
          const a = new Float32Array(n).fill(-2.25);
          a[at] = bad;
          if (at + 1 < n) a[n - 1] = bad;
          expect(firstNonFinite(a), `n=${n} at=${at} ${bad}`).toBe(at);
        }
      }
    }
    // Largest finite, −0 and subnormals are finite.
    expect(firstNonFinite(Float32Array.from([3.4028234663852886e38, -0, 1e-45, -3.4028234663852886e38]))).toBe(-1);
    expect(firstNonFinite(Float64Array.from([1, 2, Number.MAX_VALUE, NaN]))).toBe(3);
  });

  it('describes the count and first position in the shape, and assertFinite names the thing', () => {
    const a = new Float32Array(12);
    a[7] = NaN;
    a[9] = Infinity;
    expect(describeNonFinite(a, [3, 4])).toBe('2 non-finite values (first: NaN at [1, 3])');
    expect(describeNonFinite(new Float32Array(3))).toBeNull();
    expect(() => assertFinite(a, "w.safetensors: tensor 'x'", [3, 4])).toThrow("w.safetensors: tensor 'x' has 2 non-finite values (first: NaN at [1, 3])");
  });
});

describe('assertFiniteTotals (the end of discovery)', () => {
  it('refuses NaN node effects, edge weights or total effect, naming what and where', async () => {
    const { assertFiniteTotals } = await import('../../src-main/circuits/discover');
    const ok = { effects: new Map([['resid_0', new Float64Array([0.5, -1, 0])]]), edges: new Map([['resid_0->y', new Map([[0, 0.5]])]]), totalEffect: 2, examples: 2, positions: 3 };
    expect(() => assertFiniteTotals(ok)).not.toThrow();
    const nanNodes = { ...ok, effects: new Map([['attn_1', new Float64Array([0, NaN, NaN])]]) };
    expect(() => assertFiniteTotals(nanNodes)).toThrow(/non-finite results \(node effects of attn_1: 2 non-finite values \(first: NaN at index 1\)\).*no circuit was written/);
    expect(() => assertFiniteTotals({ ...ok, totalEffect: NaN })).toThrow(/total effect m\(patch\) − m\(clean\) is NaN/);
    expect(() => assertFiniteTotals({ ...ok, edges: new Map([['embed->attn_0', new Map([[3, Infinity]])]]) })).toThrow(/edge weights embed->attn_0: 1 non-finite/);
  });
});
