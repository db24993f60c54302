/**
 * Plain TypeScript reference encode/decode of a canonical SAE, in float64 arithmetic. It is the
 * independent computation the ONNX fast path is tested against, and is fine for a few rows; it
 * is not meant to be fast.
 *
 *   pre = enc · (x − bDec·[applyBDecToInput]) + bEnc
 *   f   = ReLU(pre)                       relu
 *       = ReLU(pre · 1[pre > threshold])  jumprelu
 *       = x                               identity
 *   x̂  = Σ_i f_i · dec[i] + bDec          (identity: x̂ = f)
 */
import type { Sae } from './types';

/** Active features of one row: ascending indices and their (non-zero) values. */
export interface SparseFeatures {
  indices: Int32Array;
  values: Float32Array;
}

function checkRows(sae: Sae, x: Float32Array): number {
  if (x.length % sae.d !== 0) throw new Error(`${sae.source}: activations have ${x.length} values, not a multiple of width ${sae.d}`);
  return x.length / sae.d;
}

/** Dense pre-activations and features of one row (float64). */
function encodeRow(sae: Sae, x: Float32Array, row: number, out: Float64Array): void {
  const { d, f } = sae;
  const xo = row * d;
  if (sae.kind === 'identity') {
    for (let j = 0; j < d; j++) out[j] = x[xo + j]!;
    return;
  }
  const xc = new Float64Array(d);
  for (let j = 0; j < d; j++) xc[j] = x[xo + j]! - (sae.applyBDecToInput ? sae.bDec[j]! : 0);
  for (let i = 0; i < f; i++) {
    let s = sae.bEnc[i]!;
    const base = i * d;
    for (let j = 0; j < d; j++) s += sae.enc[base + j]! * xc[j]!;
    if (sae.kind === 'jumprelu' && !(s > sae.threshold![i]!)) s = 0;
    out[i] = s > 0 ? s : 0;
  }
}

/** Features of each row of x [n, D]. Identity SAEs list the non-zero coordinates. */
export function encodeRef(sae: Sae, x: Float32Array): SparseFeatures[] {
  const n = checkRows(sae, x);
  const dense = new Float64Array(sae.f);
  const rows: SparseFeatures[] = [];
  for (let r = 0; r < n; r++) {
    encodeRow(sae, x, r, dense);
    const idx: number[] = [];
    for (let i = 0; i < sae.f; i++) if (dense[i] !== 0) idx.push(i);
    rows.push({ indices: Int32Array.from(idx), values: Float32Array.from(idx, (i) => dense[i]!) });
  }
  return rows;
}

/** Dense features [n, F]. */
export function encodeDenseRef(sae: Sae, x: Float32Array): Float32Array {
  const n = checkRows(sae, x);
  const out = new Float32Array(n * sae.f);
  const dense = new Float64Array(sae.f);
  for (let r = 0; r < n; r++) {
    encodeRow(sae, x, r, dense);
    out.set(dense, r * sae.f);
  }
  return out;
}

/** x̂ [n, D] from each row's active features. */
export function decodeRef(sae: Sae, rows: readonly SparseFeatures[]): Float32Array {
  const { d } = sae;
  const out = new Float32Array(rows.length * d);
  const acc = new Float64Array(d);
  rows.forEach((row, r) => {
    if (sae.kind === 'identity') acc.fill(0);
    else for (let j = 0; j < d; j++) acc[j] = sae.bDec[j]!;
    for (let k = 0; k < row.indices.length; k++) {
      const i = row.indices[k]!;
      const v = row.values[k]!;
      if (i < 0 || i >= sae.f) throw new Error(`${sae.source}: feature index ${i} out of range (F = ${sae.f})`);
      if (sae.kind === 'identity') acc[i]! += v;
      else for (let j = 0, base = i * d; j < d; j++) acc[j]! += v * sae.dec[base + j]!;
    }
    out.set(acc, r * d);
  });
  return out;
}

export interface SaeQuality {
  /** 1 − Σ_d Var(x − x̂)[d] / Σ_d Var(x)[d], variances over rows per dimension (dictionary_learning's frac_variance_explained). */
  varianceExplained: number;
  /** Mean number of active features per row. */
  meanL0: number;
  /** Fraction of the F features active on none of the rows. */
  deadFraction: number;
}

/**
 * Reconstruction quality on activations [N, D] (N ≥ 2). The variance is the trace of the
 * covariance, as dictionary_learning's `evaluate` computes it (t.var(x, dim=0).sum()); the
 * N − 1 normalisation cancels in the ratio.
 */
export function saeQuality(sae: Sae, activations: Float32Array): SaeQuality {
  const n = checkRows(sae, activations);
  if (n < 2) throw new Error(`saeQuality: need at least 2 activation rows, got ${n}`);
  const { d } = sae;
  const feats = encodeRef(sae, activations);
  const xHat = decodeRef(sae, feats);
  const active = new Uint8Array(sae.f);
  let l0 = 0;
  for (const row of feats) {
    l0 += row.indices.length;
    for (const i of row.indices) active[i] = 1;
  }
  // Two-pass per-dimension variances (numerically safe for activations with large means).
  const varianceSum = (get: (r: number, j: number) => number) => {
    let total = 0;
    for (let j = 0; j < d; j++) {
      let mean = 0;
      for (let r = 0; r < n; r++) mean += get(r, j);
      mean /= n;
      let ss = 0;
      for (let r = 0; r < n; r++) ss += (get(r, j) - mean) ** 2;
      total += ss / (n - 1);
    }
    return total;
  };
  const total = varianceSum((r, j) => activations[r * d + j]!);
  const residual = varianceSum((r, j) => activations[r * d + j]! - xHat[r * d + j]!);
  return {
    varianceExplained: 1 - residual / total,
    meanL0: l0 / n,
    deadFraction: active.reduce((a, b) => a + (b ? 0 : 1), 0) / sae.f,
  };
}
