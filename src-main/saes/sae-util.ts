/** Helpers shared by the SAE loaders. */
import type { Sae } from './types';
import { nativeKernels } from '../engine/native-kernels';

/** What a loader produced, plus anything the user should be told (rescaling, choices made). */
export interface SaeLoadResult {
  sae: Sae;
  notes: string[];
}

/** A tensor as both readers return it. */
export interface LoadedTensor {
  shape: number[];
  data: Float32Array;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * [rows, cols] row-major → [cols, rows], in 32×32 tiles over int32 views (the same bits; no
 * float conversion): 16.7M elements in ~60 ms here.
 */
export function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const s = new Int32Array(src.buffer, src.byteOffset, src.length);
  const out = new Int32Array(rows * cols);
  const T = 32;
  for (let c0 = 0; c0 < cols; c0 += T) {
    const c1 = Math.min(cols, c0 + T);
    for (let r0 = 0; r0 < rows; r0 += T) {
      const r1 = Math.min(rows, r0 + T);
      for (let c = c0; c < c1; c++) {
        let o = c * rows + r0;
        let i = r0 * cols + c;
        for (let r = r0; r < r1; r++, o++, i += cols) out[o] = s[i]!;
      }
    }
  }
  return new Float32Array(out.buffer);
}

/**
 * The transpose [cols, rows] of a [rows, cols] matrix that arrives in bands of consecutive rows,
 * with the Euclidean norm of each output row summed on the way: loading is memory-bound, so
 * the decoder-norm check costs no extra sweep over the weights. The torch reader feeds it bands
 * straight from the file; transposeWithRowNorms feeds it a matrix already in memory.
 */
export class RowNormTransposer {
  /** Rows per band: 64 rows (8 MB at 32 768 wide) suit both kernels (16 is 1.5–3× slower). */
  static readonly BAND = 64;
  readonly out: Float32Array;
  private readonly sumSq: Float64Array;

  constructor(readonly rows: number, readonly cols: number) {
    this.out = new Float32Array(rows * cols);
    this.sumSq = new Float64Array(cols);
  }

  /** Source rows r0 … r0 + k − 1, row-major at the start of `band`. */
  add(band: Float32Array, r0: number, k: number): void {
    const { out, sumSq, rows: R, cols: C } = this;
    if (nativeKernels) nativeKernels.transposeBand(band, out, sumSq, r0, k, R, C);
    else transposeBandTs(band, out, sumSq, r0, k, R, C);
  }

  /** The transpose and its row norms (call once every row was added). */
  finish(): { out: Float32Array; norms: Float64Array } {
    return { out: this.out, norms: this.sumSq.map(Math.sqrt) };
  }
}

/** TypeScript twin of the native transposeBand (engine/native-kernels.ts). */
export function transposeBandTs(band: Float32Array, out: Float32Array, sumSq: Float64Array, r0: number, k: number, R: number, C: number): void {
  for (let c = 0; c < C; c++) {
    let o = c * R + r0;
    let ss = 0;
    for (let j = 0, i = c; j < k; j++, i += C, o++) {
      const v = band[i]!;
      out[o] = v;
      ss += v * v;
    }
    sumSq[c] += ss;
  }
}

/** [rows, cols] → [cols, rows] with the norms of the result's rows (see RowNormTransposer). */
export function transposeWithRowNorms(src: Float32Array, rows: number, cols: number): { out: Float32Array; norms: Float64Array } {
  const t = new RowNormTransposer(rows, cols);
  const B = RowNormTransposer.BAND;
  for (let r0 = 0; r0 < rows; r0 += B) t.add(src.subarray(r0 * cols), r0, Math.min(B, rows - r0));
  return t.finish();
}

/** Euclidean norm of each row of dec [F, D], in float64. */
export function decoderRowNorms(sae: Sae): Float64Array {
  const norms = new Float64Array(sae.f);
  const dec = sae.dec;
  for (let i = 0; i < sae.f; i++) {
    let s = 0;
    const base = i * sae.d;
    for (let j = 0; j < sae.d; j++) {
      const v = dec[base + j]!;
      s += v * v;
    }
    norms[i] = Math.sqrt(s);
  }
  return norms;
}

/**
 * Default tolerance for "decoder rows have unit norm": |‖v_i‖ − 1| ≤ 1e-5 + 1e-8, which is
 * torch.allclose's default, the check dictionary_learning's normalize_decoder uses. Unit-norm
 * rows stored in float32 are within ~1e-7 of 1, so anything beyond this was not normalized.
 */
export const DECODER_NORM_TOLERANCE = 1e-5;

/**
 * dictionary_learning's `normalize_decoder` (method.md §2.1): if any decoder row is not unit
 * norm, divide every row by its norm and multiply the matching encoder row and encoder bias
 * (and JumpReLU threshold) by it. x̂ is unchanged; f_i is scaled by ‖v_i‖. Rows of norm 0 (dead
 * features) are left alone rather than turned into NaN as torch would. Replaces the arrays of
 * `sae` with rescaled copies (the originals are not touched).
 * `rowNorms`: the decoder row norms when the caller already has them. Returns a note when it
 * rescaled, else null.
 */
export function normalizeDecoder(sae: Sae, tolerance = DECODER_NORM_TOLERANCE, rowNorms?: Float64Array): string | null {
  if (sae.kind === 'identity') return null;
  const norms = rowNorms ?? decoderRowNorms(sae);
  let worst = 0;
  for (const n of norms) if (n > 0) worst = Math.max(worst, Math.abs(n - 1));
  if (worst <= tolerance + 1e-8) return null;
  // Work on copies: the arrays may be views on a buffer the caller still owns.
  sae.enc = sae.enc.slice();
  sae.dec = sae.dec.slice();
  sae.bEnc = sae.bEnc.slice();
  if (sae.threshold) sae.threshold = sae.threshold.slice();
  let zero = 0;
  const { d } = sae;
  for (let i = 0; i < sae.f; i++) {
    const n = norms[i]!;
    if (n === 0) {
      zero++;
      continue;
    }
    for (let j = 0; j < d; j++) {
      sae.dec[i * d + j]! /= n;
      sae.enc[i * d + j]! *= n;
    }
    sae.bEnc[i]! *= n;
    if (sae.threshold) sae.threshold[i]! *= n;
  }
  return (
    `${sae.source}: decoder rows were not unit norm (largest |‖v‖ − 1| = ${worst.toExponential(2)}); ` +
    `rescaled them to unit norm and scaled encoder rows and biases to match (reconstructions unchanged, feature values scaled by ‖v_i‖)` +
    (zero ? `; ${zero} rows of norm 0 left as they are` : '')
  );
}

/** Consistency of a canonical SAE's arrays with its d and f; `source` names the file in errors. */
export function checkSaeArrays(sae: Sae): void {
  const { d, f, source } = sae;
  const want: [string, number, number][] =
    sae.kind === 'identity'
      ? [['bEnc', sae.bEnc.length, f], ['bDec', sae.bDec.length, d]]
      : [['enc', sae.enc.length, f * d], ['bEnc', sae.bEnc.length, f], ['dec', sae.dec.length, f * d], ['bDec', sae.bDec.length, d]];
  if (sae.kind === 'jumprelu') want.push(['threshold', sae.threshold?.length ?? 0, f]);
  for (const [name, got, expect] of want) {
    if (got !== expect) throw new Error(`${source}: ${name} has ${got} values, expected ${expect} (D = ${d}, F = ${f})`);
  }
}
