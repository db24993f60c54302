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
    const chunk = Math.max(1, Math.floor(MAX_FLAT / sae.f)); // int32 flat positions
    if (rows > chunk) {
      const parts: SparseRows[] = [];
      for (let r = 0; r < rows; r += chunk) {
        const n = Math.min(chunk, rows - r);
        parts.push(await this.encode(sae, x.subarray(r * sae.d, (r + n) * sae.d), n));
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
