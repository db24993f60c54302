/**
 * NaN / ±Infinity detection for weights on load and for results before they are written. A
 * non-finite weight silently turns every downstream number into NaN (a 0-node circuit, "NaN%"
 * predictions), so loaders refuse it up front, naming the file and tensor.
 *
 * Cost: one pass of x·0 sums (0 for finite x, NaN for NaN and ±Inf), four independent sums so
 * the loop runs at memory speed; the exact position is looked for only when the sum says there
 * is one: 7–9 ms per 512 × 32 768 SAE matrix, about 0.2 s for Pythia-70M and its 19 SAEs
 * (docs/performance.md, measured on the benchmark fixture).
 */

/** Index of the first NaN or ±Infinity in `a`, or −1 when every value is finite. */
export function firstNonFinite(a: Float32Array | Float64Array): number {
  const n = a.length;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * 0;
    s1 += a[i + 1] * 0;
    s2 += a[i + 2] * 0;
    s3 += a[i + 3] * 0;
  }
  for (; i < n; i++) s0 += a[i] * 0;
  if (s0 + s1 + s2 + s3 === 0) return -1;
  for (let j = 0; j < n; j++) if (!Number.isFinite(a[j])) return j;
  return -1;
}

/** "3 non-finite values (first: NaN at [2, 7])", or null when `a` is all finite. */
export function describeNonFinite(a: Float32Array | Float64Array, shape?: readonly number[]): string | null {
  const first = firstNonFinite(a);
  if (first < 0) return null;
  let count = 0;
  for (let j = first; j < a.length; j++) if (!Number.isFinite(a[j])) count++;
  return `${count} non-finite value${count === 1 ? '' : 's'} (first: ${a[first]} at ${position(first, shape)})`;
}

/** Throws `<where> has N non-finite values (first: NaN at [r, c])` unless every value is finite. */
export function assertFinite(a: Float32Array | Float64Array, where: string, shape?: readonly number[]): void {
  const what = describeNonFinite(a, shape);
  if (what) throw new Error(`${where} has ${what}`);
}

/** Flat index → "[i, j, …]" for a row-major shape (or "index k" without one). */
function position(flat: number, shape?: readonly number[]): string {
  if (!shape || shape.length === 0) return `index ${flat}`;
  const idx: number[] = [];
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return `[${idx.join(', ')}]`;
}
