/**
 * The optional C kernels in native/ (N-API, built by `npm ci` through `npm run build:native`).
 * Each has a TypeScript twin that callers use when the addon is missing (no compiler on the
 * machine) or disabled with SFC_NATIVE=0; the tests hold the two to the same answers.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeKernels {
  /** Band rows r0 … r0+k−1 of a [R, C] matrix into out [C, R]; sumSq[c] += Σ band[j, c]². */
  transposeBand(band: Float32Array, out: Float32Array, sumSq: Float64Array, r0: number, k: number, R: number, C: number): void;
  /** out [rows, D] = bDec + Σ val[k]·dec[idx[k]] over each CSR row. */
  decodeRows(dec: Float32Array, bDec: Float32Array | null, ptr: Int32Array, idx: Int32Array, val: Float32Array, rows: number, D: number, out: Float32Array): void;
  /** out[k] = g[row(k)] · dec[idx[k]] over the CSR pattern; g is [rows, D]. */
  projectRows(dec: Float32Array, g: Float32Array, ptr: Int32Array, idx: Int32Array, rows: number, D: number, out: Float32Array): void;
  /** out[i] = ‖mat[i]‖ for the rows of mat [rows, cols], summed in float64. */
  rowNorms(mat: Float32Array, rows: number, cols: number, out: Float64Array): void;
  /** length bytes of the file from offset, mapped copy-on-write; null where mapping is unavailable. */
  mapRange(path: string, offset: number, length: number): ArrayBuffer | null;
  /** Returns free heap pages to the system (glibc malloc_trim); true if any were. */
  trimMemory(): boolean;
}

const ADDON = join('native', 'build', 'Release', 'sfc_kernels.node');

/** The addon from the nearest folder above this file (sources or the app bundle) that has one. */
function findAddon(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, ADDON);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

function load(): { kernels: NativeKernels | null; status: string } {
  if (process.env.SFC_NATIVE === '0') return { kernels: null, status: 'TypeScript kernels (SFC_NATIVE=0)' };
  const path = findAddon();
  if (!path) return { kernels: null, status: `TypeScript kernels (no ${ADDON}: run \`npm run build:native\`)` };
  try {
    return { kernels: createRequire(import.meta.url)(path) as NativeKernels, status: `native kernels (${path})` };
  } catch (e) {
    return { kernels: null, status: `TypeScript kernels (${path} did not load: ${(e as Error).message})` };
  }
}

const loaded = load();

/** The C kernels, or null where the TypeScript twins must be used. */
export const nativeKernels: NativeKernels | null = loaded.kernels;
/** Which kernels run, for logs and the benchmark report. */
export const nativeKernelStatus: string = loaded.status;

/**
 * length bytes of the file from offset, mapped copy-on-write (docs/native.md), or null where
 * mapping is unavailable: no addon, SFC_MAP=0, or a runtime that forbids external buffers
 * (Electron's V8 sandbox). Every reader maps through here.
 */
export function mapFileRange(path: string, offset: number, length: number): ArrayBuffer | null {
  if (process.env.SFC_MAP === '0' || !nativeKernels) return null;
  return nativeKernels.mapRange(path, offset, length);
}

let canMap: boolean | undefined;

/** Whether mapFileRange works in this runtime (tried once, on this file). */
export function canMapFiles(): boolean {
  canMap ??= mapFileRange(fileURLToPath(import.meta.url), 0, 1) !== null;
  return canMap;
}

/**
 * Gives free heap pages back to the system between the phases of a discovery: onnxruntime
 * frees its per-run buffers to malloc, which keeps them resident (about 0.2 GiB at Pythia-70M
 * scale). A no-op without the addon or outside glibc.
 */
export function releaseFreeMemory(): void {
  nativeKernels?.trimMemory();
}
