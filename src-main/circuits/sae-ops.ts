/**
 * SAE arithmetic for the circuit code. The dense encoder MatMul (the method's compute floor)
 * runs in onnxruntime; decoding and gradient projection touch only active features, over the
 * CSR rows, in the C kernels of native/ (or their TypeScript twins below).
 */
import { Graph, type Sym } from '../engine/graph';
import type { SessionCache } from '../engine/session';
import { Tensor } from '../engine/tensor';
import type { Sae } from '../saes/types';
import { type SparseRows, concatRows, fromFlat, sparsify } from './sparse';
import { countFlops } from '../engine/profile';
import { nativeKernels } from '../engine/native-kernels';

/** Largest flat position an encoder call may produce (int32 indices). */
const MAX_FLAT = 2 ** 31 - 1;

export class SaeOps {
  constructor(private readonly sessions: SessionCache) {}

  /**
   * f = encode(x) for rows of x [rows, D], kept sparse. The session returns only the active
   * features (flat positions and values): the dense [rows, F] matrix never leaves onnxruntime,
   * which saves copying it out and scanning it in JavaScript.
   */
  async encode(sae: Sae, x: Float32Array, rows: number): Promise<SparseRows> {
    if (x.length !== rows * sae.d) throw new Error(`encode: ${x.length} values for ${rows}×${sae.d}`);
    if (sae.kind === 'identity') return sparsify(x, rows, sae.d);
    // Rows that are bit for bit equal encode to equal features: encode each once. Templated
    // data repeats contexts ("The" at position 0 of every agreement prefix, the same subject at
    // 1, ...), a third of the rows of the benchmark's ablated passes.
    const unique = uniqueRows(x, rows, sae.d);
    if (unique) {
      const f = await this.encodeRows(sae, unique.x, unique.rows);
      return expandRows(f, unique.of);
    }
    return this.encodeRows(sae, x, rows);
  }

  private async encodeRows(sae: Sae, x: Float32Array, rows: number): Promise<SparseRows> {
    const chunk = Math.max(1, Math.floor(MAX_FLAT / sae.f)); // int32 flat positions
    if (rows > chunk) {
      const parts: SparseRows[] = [];
      for (let r = 0; r < rows; r += chunk) {
        const n = Math.min(chunk, rows - r);
        parts.push(await this.encodeRows(sae, x.subarray(r * sae.d, (r + n) * sae.d), n));
      }
      return concatRows(parts);
    }
    countFlops(2 * rows * sae.d * sae.f);
    const key = `sae-encode:${sae.kind}:${sae.applyBDecToInput}:${sae.d}:${sae.f}`;
    const s = await this.sessions.get(key, () => {
      const g = new Graph();
      const xs = g.input('x', 'float32', ['N', sae.d]);
      const enc = g.input('enc', 'float32', [sae.f, sae.d]);
      const bEnc = g.input('b_enc', 'float32', [sae.f]);
      const bDec = g.input('b_dec', 'float32', [sae.d]);
      const centred = sae.applyBDecToInput ? xs.sub(bDec) : xs;
      const pre = centred.linearT(enc, bEnc);
      let f: Sym;
      if (sae.kind === 'jumprelu') {
        const thr = g.input('threshold', 'float32', [sae.f]);
        f = pre.mul(pre.sub(thr).step()).relu();
      } else f = pre.relu();
      const at = f.nonzeroFlat();
      g.output('at', at);
      g.output('val', f.gatherFlat(at));
      return g;
    });
    const feeds: Record<string, Tensor> = {
      x: new Tensor(x, [rows, sae.d]),
      enc: new Tensor(sae.enc, [sae.f, sae.d]),
      b_enc: new Tensor(sae.bEnc, [sae.f]),
      b_dec: new Tensor(sae.bDec, [sae.d]),
    };
    if (sae.kind === 'jumprelu') feeds.threshold = new Tensor(sae.threshold!, [sae.f]);
    const out = await s.run(feeds);
    return fromFlat(out.at.data as unknown as Int32Array, out.val.data as Float32Array, rows, sae.f);
  }

  /**
   * f_i(x) for a few features only: out [rows, K] = act(enc_sub · (x − b_dec) + b_enc_sub) for
   * the K features of `features`, in one Gemm over their gathered encoder rows (not for
   * identity SAEs). The same numbers as `encode` up to float32 rounding at K/F of its cost: the
   * ablated passes need a few hundred features where most of a circuit is kept
   * (circuits/ablated-runs.ts).
   */
  async encodeSubset(sae: Sae, x: Float32Array, rows: number, features: Int32Array): Promise<Float32Array> {
    if (sae.kind === 'identity') throw new Error('encodeSubset: identity SAEs have no encoder');
    const D = sae.d;
    const K = features.length;
    const enc = new Float32Array(K * D);
    const bEnc = new Float32Array(K);
    const thr = sae.threshold ? new Float32Array(K) : null;
    for (let k = 0; k < K; k++) {
      const i = features[k];
      enc.set(sae.enc.subarray(i * D, (i + 1) * D), k * D);
      bEnc[k] = sae.bEnc[i];
      if (thr) thr[k] = sae.threshold![i];
    }
    countFlops(2 * rows * D * K);
    const key = `sae-encode-subset:${sae.kind}:${sae.applyBDecToInput}:${D}`;
    const s = await this.sessions.get(key, () => {
      const g = new Graph();
      const xs = g.input('x', 'float32', ['N', D]);
      const w = g.input('enc', 'float32', ['K', D]);
      const b = g.input('b_enc', 'float32', ['K']);
      const bDec = g.input('b_dec', 'float32', [D]);
      const pre = (sae.applyBDecToInput ? xs.sub(bDec) : xs).linearT(w, b);
      let f: Sym;
      if (sae.kind === 'jumprelu') f = pre.mul(pre.sub(g.input('threshold', 'float32', ['K'])).step()).relu();
      else f = pre.relu();
      g.output('f', f);
      return g;
    });
    const feeds: Record<string, Tensor> = {
      x: new Tensor(x.subarray(0, rows * D), [rows, D]),
      enc: new Tensor(enc, [K, D]),
      b_enc: new Tensor(bEnc, [K]),
      b_dec: new Tensor(sae.bDec, [D]),
    };
    if (thr) feeds.threshold = new Tensor(thr, [K]);
    return (await s.run(feeds)).f.data;
  }

  /** x̂ = Σ f_i dec[i] + b_dec, [rows, D]. */
  decode(sae: Sae, f: SparseRows): Float32Array {
    const out = new Float32Array(f.rows * sae.d);
    if (sae.kind !== 'identity') decodeWith(sae.dec, sae.d, sae.bDec, f, out);
    else for (let r = 0; r < f.rows; r++) for (let k = f.ptr[r]; k < f.ptr[r + 1]; k++) out[r * sae.d + f.idx[k]] += f.val[k];
    return out;
  }

  /**
   * Gradient with respect to the features of a pattern: out[k] = g[row(k)] · v_{idx[k]}, where
   * g is [rows, D] (∂/∂x) — the IG rule ∂m/∂f_i = (∂m/∂x)·v_i on active features only.
   */
  project(sae: Sae, g: Float32Array, pattern: SparseRows, gOffset = 0): Float32Array {
    const out = new Float32Array(pattern.idx.length);
    countFlops(2 * sae.d * pattern.idx.length);
    projectInto(sae, g, pattern, gOffset, out);
    return out;
  }
}

/**
 * The distinct rows of x [rows, D] (bitwise: -0 ≠ 0, and a NaN row equals only an identical
 * NaN row) and, for each row, the index of its distinct row; null when every row is distinct.
 */
export function uniqueRows(x: Float32Array, rows: number, D: number): { x: Float32Array; rows: number; of: Int32Array } | null {
  const bits = new Int32Array(x.buffer, x.byteOffset, rows * D);
  const of = new Int32Array(rows);
  const firstOf = new Map<number, number[]>(); // hash → rows (distinct ones) with that hash
  const keep: number[] = [];
  for (let r = 0; r < rows; r++) {
    let h = 0x811c9dc5;
    for (let d = r * D, e = d + D; d < e; d++) h = Math.imul(h ^ bits[d], 0x01000193);
    const same = firstOf.get(h);
    let found = -1;
    if (same) {
      for (const u of same) {
        let eq = true;
        for (let d = 0; d < D && eq; d++) eq = bits[u * D + d] === bits[r * D + d];
        if (eq) {
          found = of[u];
          break;
        }
      }
    }
    if (found >= 0) of[r] = found;
    else {
      of[r] = keep.length;
      keep.push(r);
      if (same) same.push(r);
      else firstOf.set(h, [r]);
    }
  }
  if (keep.length === rows) return null;
  const ux = new Float32Array(keep.length * D);
  keep.forEach((r, i) => ux.set(x.subarray(r * D, (r + 1) * D), i * D));
  return { x: ux, rows: keep.length, of };
}

/** Rows of `f` repeated as `of` says: out row r = f row of[r]. */
function expandRows(f: SparseRows, of: Int32Array): SparseRows {
  const ptr = new Int32Array(of.length + 1);
  for (let r = 0; r < of.length; r++) ptr[r + 1] = ptr[r] + f.ptr[of[r] + 1] - f.ptr[of[r]];
  const idx = new Int32Array(ptr[of.length]);
  const val = new Float32Array(ptr[of.length]);
  for (let r = 0; r < of.length; r++) {
    const a = f.ptr[of[r]];
    const b = f.ptr[of[r] + 1];
    idx.set(f.idx.subarray(a, b), ptr[r]);
    val.set(f.val.subarray(a, b), ptr[r]);
  }
  return { rows: of.length, ptr, idx, val };
}

/** out[k] = g[gOffset + row(k)·D …] · v_{idx[k]} over the pattern: native where built. */
function projectInto(sae: Sae, g: Float32Array, pattern: SparseRows, gOffset: number, out: Float32Array): void {
  if (sae.kind !== 'identity' && nativeKernels) {
    const rowsG = g.subarray(gOffset, gOffset + pattern.rows * sae.d);
    nativeKernels.projectRows(sae.dec, rowsG, pattern.ptr, pattern.idx, pattern.rows, sae.d, out);
  } else projectTs(sae, g, pattern, gOffset, out);
}

const ONE_ROW = new Int32Array(2);
const NO_VALUES = new Float32Array(0);

/**
 * out[i] = g[gOffset … gOffset + D) · dec[idx[i]]: one row of g onto the given features (the
 * edge rule's projection of a cotangent onto the upstream active features).
 */
export function projectRow(sae: Sae, g: Float32Array, gOffset: number, idx: Int32Array, out: Float32Array): void {
  ONE_ROW[1] = idx.length;
  projectInto(sae, g, { rows: 1, ptr: ONE_ROW, idx, val: NO_VALUES }, gOffset, out);
}

/**
 * out [rows, D] = bias + Σ val[k]·rows[idx[k]] over each CSR row: the sparse decode with any
 * row matrix (edges decode through the encoder rows). Native where built.
 */
export function decodeWith(rows: Float32Array, D: number, bias: Float32Array | null, f: SparseRows, out: Float32Array): void {
  if (nativeKernels) nativeKernels.decodeRows(rows, bias, f.ptr, f.idx, f.val, f.rows, D, out);
  else decodeRowsTs(rows, bias, f, D, out);
}

/** TypeScript twin of the native decodeRows. */
export function decodeRowsTs(rows: Float32Array, bias: Float32Array | null, f: SparseRows, D: number, out: Float32Array): void {
  for (let r = 0; r < f.rows; r++) {
    const o = r * D;
    for (let d = 0; d < D; d++) out[o + d] = bias ? bias[d] : 0;
    for (let k = f.ptr[r]; k < f.ptr[r + 1]; k++) {
      const v = f.val[k];
      const row = f.idx[k] * D;
      for (let d = 0; d < D; d++) out[o + d] += v * rows[row + d];
    }
  }
}

/** TypeScript twin of the native projectRows (and the identity SAE's projection). */
export function projectTs(sae: Sae, g: Float32Array, pattern: SparseRows, gOffset: number, out: Float32Array): void {
  const D = sae.d;
  for (let r = 0; r < pattern.rows; r++) {
    const o = gOffset + r * D;
    for (let k = pattern.ptr[r]; k < pattern.ptr[r + 1]; k++) {
      const i = pattern.idx[k];
      if (sae.kind === 'identity') {
        out[k] = g[o + i];
        continue;
      }
      const row = i * D;
      let s = 0;
      for (let d = 0; d < D; d++) s += g[o + d] * sae.dec[row + d];
      out[k] = s;
    }
  }
}
