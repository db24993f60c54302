/**
 * Plain float64 n-d arrays: the reference arithmetic the engine is checked against. Slow and
 * obvious on purpose; nothing here is on a hot path.
 */
import { sizeOf, stridesOf } from './tensor';

export interface Nd {
  data: Float64Array;
  shape: number[];
}

export const nd = (data: ArrayLike<number>, shape: number[]): Nd => {
  if (data.length !== sizeOf(shape)) throw new Error(`nd: ${data.length} values for shape [${shape}]`);
  return { data: Float64Array.from(data), shape: [...shape] };
};

export function broadcastShape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[i - (r - a.length)] ?? 1;
    const db = b[i - (r - b.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`nd64: [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Flat index into `shape` (right-aligned, size-1 dims broadcast) for each index of `out`. */
function broadcastIndex(shape: number[], out: number[]): Int32Array {
  const n = sizeOf(out);
  const idx = new Int32Array(n);
  const st = stridesOf(shape);
  const off = out.length - shape.length;
  const outSt = stridesOf(out);
  for (let k = 0; k < n; k++) {
    let rem = k;
    let f = 0;
    for (let i = 0; i < out.length; i++) {
      const c = Math.floor(rem / outSt[i]);
      rem -= c * outSt[i];
      const j = i - off;
      if (j >= 0 && shape[j] !== 1) f += c * st[j];
    }
    idx[k] = f;
  }
  return idx;
}

export function binary(a: Nd, b: Nd, f: (x: number, y: number) => number): Nd {
  const shape = broadcastShape(a.shape, b.shape);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const data = new Float64Array(ia.length);
  for (let k = 0; k < data.length; k++) data[k] = f(a.data[ia[k]], b.data[ib[k]]);
  return { data, shape };
}

export function unary(a: Nd, f: (x: number) => number): Nd {
  return { data: a.data.map(f), shape: [...a.shape] };
}

export function expand(a: Nd, shape: number[]): Nd {
  const out = broadcastShape(a.shape, shape);
  const ia = broadcastIndex(a.shape, out);
  return { data: Float64Array.from(ia, (i) => a.data[i]), shape: out };
}

export function matmul(a: Nd, b: Nd): Nd {
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) throw new Error(`nd64 matmul: [${a.shape}] x [${b.shape}]`);
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const ea = expand(a, [...batch, m, k]);
  const eb = expand(b, [...batch, k, n]);
  const nb = sizeOf(batch);
  const data = new Float64Array(nb * m * n);
  for (let t = 0; t < nb; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += ea.data[t * m * k + i * k + q] * eb.data[t * k * n + q * n + j];
        data[t * m * n + i * n + j] = s;
      }
  return { data, shape: [...batch, m, n] };
}

export function transpose(a: Nd, perm: number[]): Nd {
  const shape = perm.map((p) => a.shape[p]);
  const inSt = stridesOf(a.shape);
  const outSt = stridesOf(shape);
  const data = new Float64Array(a.data.length);
  for (let k = 0; k < data.length; k++) {
    let rem = k;
    let f = 0;
    for (let i = 0; i < shape.length; i++) {
      const c = Math.floor(rem / outSt[i]);
      rem -= c * outSt[i];
      f += c * inSt[perm[i]];
    }
    data[k] = a.data[f];
  }
  return { data, shape };
}

export function reduce(a: Nd, axes: number[], keepdims: boolean, kind: 'sum' | 'mean' | 'max'): Nd {
  const ax = new Set(axes.map((x) => (x < 0 ? x + a.shape.length : x)));
  const keepShape = a.shape.map((d, i) => (ax.has(i) ? 1 : d));
  const outSt = stridesOf(keepShape);
  const inSt = stridesOf(a.shape);
  const n = sizeOf(keepShape);
  const data = new Float64Array(n).fill(kind === 'max' ? -Infinity : 0);
  for (let k = 0; k < a.data.length; k++) {
    let rem = k;
    let f = 0;
    for (let i = 0; i < a.shape.length; i++) {
      const c = Math.floor(rem / inSt[i]);
      rem -= c * inSt[i];
      if (!ax.has(i)) f += c * outSt[i];
    }
    data[f] = kind === 'max' ? Math.max(data[f], a.data[k]) : data[f] + a.data[k];
  }
  if (kind === 'mean') {
    const cnt = a.data.length / n;
    for (let i = 0; i < n; i++) data[i] /= cnt;
  }
  return { data, shape: keepdims ? keepShape : a.shape.filter((_, i) => !ax.has(i)) };
}

/** Copy of the block [start, end) along `axis`. */
export function slice(a: Nd, axis: number, start: number, end: number): Nd {
  const shape = [...a.shape];
  shape[axis] = end - start;
  const outer = sizeOf(a.shape.slice(0, axis));
  const inner = sizeOf(a.shape.slice(axis + 1));
  const data = new Float64Array(sizeOf(shape));
  let o = 0;
  for (let i = 0; i < outer; i++)
    for (let j = start; j < end; j++)
      for (let q = 0; q < inner; q++) data[o++] = a.data[(i * a.shape[axis] + j) * inner + q];
  return { data, shape };
}

export function concat(xs: Nd[], axis: number): Nd {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const data = new Float64Array(sizeOf(shape));
  let o = 0;
  for (let i = 0; i < outer; i++)
    for (const x of xs) {
      const len = x.shape[axis] * inner;
      data.set(x.data.subarray(i * len, (i + 1) * len), o);
      o += len;
    }
  return { data, shape };
}

export function pad(a: Nd, axis: number, before: number, after: number): Nd {
  const z = (n: number): Nd => {
    const s = [...a.shape];
    s[axis] = n;
    return { data: new Float64Array(sizeOf(s)), shape: s };
  };
  return concat([z(before), a, z(after)], axis);
}

export function softmax(a: Nd): Nd {
  const n = a.shape[a.shape.length - 1];
  const data = new Float64Array(a.data.length);
  for (let r = 0; r < a.data.length; r += n) {
    let mx = -Infinity;
    for (let j = 0; j < n; j++) mx = Math.max(mx, a.data[r + j]);
    let s = 0;
    for (let j = 0; j < n; j++) s += data[r + j] = Math.exp(a.data[r + j] - mx);
    for (let j = 0; j < n; j++) data[r + j] /= s;
  }
  return { data, shape: [...a.shape] };
}

/** erf to ~1e-14: Taylor series near 0, Lentz continued fraction for erfc in the tails. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(z) = exp(-z²)/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + ...))))
  const tiny = 1e-300;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = d === 0 ? tiny : 1 / d;
    c = ax + an / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}
