/**
 * Matrix transposes for loading weights stored in the other layout (decoders in ae.pt, encoders
 * in SAELens files). Loading is memory-bound, so the transpose that arrives band by band from a
 * file is the one that matters; its kernel is native where the addon is built.
 */
import { nativeKernels } from './native-kernels';

/**
 * The transpose [cols, rows] of a [rows, cols] matrix that arrives in bands of consecutive rows,
 * with the Euclidean norm of each output row summed on the way: loading is memory-bound, so
 * the decoder-norm check costs no extra sweep over the weights. transposeStreamed feeds it bands
 * straight from a file; transposeWithRowNorms feeds it a matrix already in memory.
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

/**
 * The transpose of a little-endian float32 [rows, cols] matrix stored row-major somewhere
 * (a file), read band by band through one buffer: `readRows(r0, into)` fills `into` with the
 * bytes of rows r0 … r0 + into.length / (4·cols) − 1. The stored layout is never held whole.
 */
export function transposeStreamed(rows: number, cols: number, readRows: (r0: number, into: Uint8Array) => void): { out: Float32Array; norms: Float64Array } {
  const t = new RowNormTransposer(rows, cols);
  const B = RowNormTransposer.BAND;
  const band = new Float32Array(Math.min(B, rows) * cols);
  for (let r0 = 0; r0 < rows; r0 += B) {
    const k = Math.min(B, rows - r0);
    readRows(r0, new Uint8Array(band.buffer, 0, k * cols * 4));
    t.add(band, r0, k);
  }
  return t.finish();
}
