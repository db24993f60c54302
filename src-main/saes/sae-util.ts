/** Helpers shared by the SAE loaders. */
import type { Sae } from './types';
import { nativeKernels } from '../engine/native-kernels';
import { assertFinite, firstNonFinite } from '../engine/finite';

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

/** Euclidean norm of each row of dec [F, D], in float64 (native kernel where built). */
export function decoderRowNorms(sae: Sae): Float64Array {
  const norms = new Float64Array(sae.f);
  if (nativeKernels) nativeKernels.rowNorms(sae.dec, sae.f, sae.d, norms);
  else rowNormsTs(sae.dec, sae.f, sae.d, norms);
  return norms;
}

/** TypeScript twin of the native rowNorms. */
export function rowNormsTs(mat: Float32Array, rows: number, cols: number, out: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const base = i * cols;
    for (let j = 0; j < cols; j++) {
      const v = mat[base + j]!;
      s += v * v;
    }
    out[i] = Math.sqrt(s);
  }
}

/**
 * Default tolerance for "decoder rows have unit norm": |‖v_i‖ − 1| ≤ 1e-5 + 1e-8, which is
 * torch.allclose's default, the check dictionary_learning's normalize_decoder uses. Unit-norm
 * rows stored in float32 are within ~1e-7 of 1, so anything beyond this was not normalized.
 */
export const DECODER_NORM_TOLERANCE = 1e-5;

/**
 * dictionary_learning's `normalize_decoder` (docs/sae-formats.md, decoder norms): if any
 * decoder row is not unit norm, divide every row by its norm and multiply the matching encoder
 * row and encoder bias (and JumpReLU threshold) by it. x̂ is unchanged; f_i is scaled by ‖v_i‖. Rows of norm 0 (dead
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

/** Refuses NaN / ±Inf in any of the named tensors of `source` (the names as stored in the file). */
export function checkFiniteWeights(source: string, tensors: [name: string, data: Float32Array, shape: readonly number[]][]): void {
  for (const [name, data, shape] of tensors) assertFinite(data, `${source}: tensor '${name}'`, shape);
}

/**
 * The same for a [rows, cols] matrix whose row norms are already known: a norm is finite
 * exactly when its row is (float32 squares cannot overflow a float64 sum), so only a row with
 * a non-finite norm is searched. `transposed`: the file stores the matrix as [cols, rows]
 * (e.g. decoder.weight [D, F]), and the message gives the position in the file's layout.
 */
export function checkFiniteRows(source: string, name: string, norms: Float64Array, mat: Float32Array, cols: number, transposed = false): void {
  const row = firstNonFinite(norms);
  if (row < 0) return;
  const col = Math.max(0, firstNonFinite(mat.subarray(row * cols, (row + 1) * cols)));
  const at = transposed ? `[${col}, ${row}]` : `[${row}, ${col}]`;
  throw new Error(`${source}: tensor '${name}' has non-finite values (first found: ${mat[row * cols + col]} at ${at})`);
}
