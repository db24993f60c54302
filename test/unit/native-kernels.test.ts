/**
 * The C kernels (native/) against their TypeScript twins, which are plain loops anyone can read:
 * the transpose must match bit for bit (norms included, same summation order), decode and
 * projection to float32 rounding, row norms to float64 rounding. Also: the addon is built where CI runs, bad arguments are
 * refused with a message, and mapped file ranges hold the file's bytes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canMapFiles, mapFileRange, nativeKernelStatus, nativeKernels } from '../../src-main/engine/native-kernels';
import { decodeRowsTs, projectTs } from '../../src-main/circuits/sae-ops';
import { transposeBandTs } from '../../src-main/engine/transpose';
import { rowNormsTs } from '../../src-main/saes/sae-util';
import type { SparseRows } from '../../src-main/circuits/sparse';
import type { Sae } from '../../src-main/saes/types';
import { cleanupTempDirs, tempDir } from '../helpers/saes-fixtures';
import { mulberry32, randn } from '../helpers/random';

afterAll(cleanupTempDirs);

const k = nativeKernels!;
const built = process.platform === 'linux' || process.platform === 'darwin';

function randomArray(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => randn(r));
}

/** CSR rows with `per` distinct sorted features each (some rows empty). */
function randomRows(rows: number, F: number, per: number, seed: number): SparseRows {
  const r = mulberry32(seed);
  const idx: number[] = [], val: number[] = [];
  const ptr = new Int32Array(rows + 1);
  for (let i = 0; i < rows; i++) {
    const n = i % 5 === 3 ? 0 : per;
    const s = new Set<number>();
    while (s.size < n) s.add(Math.floor(r() * F));
    for (const f of [...s].sort((a, b) => a - b)) idx.push(f), val.push(r() * 3);
    ptr[i + 1] = idx.length;
  }
  return { rows, ptr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
}

const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.runIf(built)('native kernels', () => {
  it('are built on this platform (npm ci builds them)', () => {
    expect(nativeKernels, nativeKernelStatus).not.toBeNull();
  });

  it('transposeBand equals the TypeScript transpose bit for bit, norms included', () => {
    // Widths and bands that are and are not multiples of the 8 × 8 tile; the last is big enough
    // (a band of at least 2^20 values) to be split between two threads.
    for (const [R, C, B] of [[64, 1000, 64], [37, 29, 16], [130, 41, 9], [8, 8, 8], [5, 3, 64], [150, 16_389, 64]] as const) {
      const src = randomArray(R * C, R * 1000 + C);
      const outN = new Float32Array(R * C).fill(NaN), outT = new Float32Array(R * C).fill(NaN);
      const ssN = new Float64Array(C), ssT = new Float64Array(C);
      for (let r0 = 0; r0 < R; r0 += B) {
        const n = Math.min(B, R - r0);
        k.transposeBand(src.subarray(r0 * C), outN, ssN, r0, n, R, C);
        transposeBandTs(src.subarray(r0 * C), outT, ssT, r0, n, R, C);
      }
      expect(bits(outN).equals(bits(outT)), `[${R}, ${C}] band ${B}`).toBe(true);
      expect(bits(ssN).equals(bits(ssT)), `norms [${R}, ${C}] band ${B}`).toBe(true);
      // And it is the transpose.
      for (let r = 0; r < R; r += 7) for (let c = 0; c < C; c += 5) expect(outN[c * R + r]).toBe(src[r * C + c]);
    }
  });

  it('decodeRows and projectRows equal the TypeScript loops to float32 rounding', () => {
    for (const [F, D, per] of [[300, 64, 20], [97, 13, 7], [4096, 512, 130]] as const) {
      const sae = { kind: 'relu', d: D, f: F, dec: randomArray(F * D, F + D), bDec: randomArray(D, 7) } as unknown as Sae;
      const f = randomRows(11, F, per, F);
      const want = new Float32Array(f.rows * D), got = new Float32Array(f.rows * D);
      decodeRowsTs(sae.dec, sae.bDec, f, D, want);
      k.decodeRows(sae.dec, sae.bDec, f.ptr, f.idx, f.val, f.rows, D, got);
      const scale = Math.max(...want.map(Math.abs));
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-6 * scale);
      const noBias = new Float32Array(f.rows * D);
      k.decodeRows(sae.dec, null, f.ptr, f.idx, f.val, f.rows, D, noBias);
      for (let i = 0; i < want.length; i++) expect(Math.abs(noBias[i]! + sae.bDec[i % D]! - got[i]!)).toBeLessThanOrEqual(1e-6 * scale);

      const g = randomArray(f.rows * D, 99);
      const pWant = new Float32Array(f.idx.length), pGot = new Float32Array(f.idx.length);
      projectTs(sae, g, f, 0, pWant);
      k.projectRows(sae.dec, g, f.ptr, f.idx, f.rows, D, pGot);
      const pScale = Math.max(...pWant.map(Math.abs));
      for (let i = 0; i < pWant.length; i++) expect(Math.abs(pGot[i]! - pWant[i]!)).toBeLessThanOrEqual(1e-6 * pScale);
    }
  });

  it('rowNorms equals the TypeScript norms to float64 rounding', () => {
    for (const [rows, cols] of [[100, 512], [37, 13], [3, 1]] as const) {
      const m = randomArray(rows * cols, rows + cols);
      const want = new Float64Array(rows), got = new Float64Array(rows);
      rowNormsTs(m, rows, cols, want);
      k.rowNorms(m, rows, cols, got);
      for (let i = 0; i < rows; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-12 * want[i]!);
    }
  });

  it('refuses arguments that would read or write out of bounds, naming the kernel', () => {
    expect(() => k.rowNorms(new Float32Array(10), 3, 4, new Float64Array(3))).toThrow(/rowNorms: sizes do not match/);
    const dec = new Float32Array(10 * 4);
    const ptr = Int32Array.from([0, 2]);
    expect(() => k.decodeRows(dec, null, ptr, Int32Array.from([1, 10]), new Float32Array(2), 1, 4, new Float32Array(4))).toThrow(/decodeRows: feature index out of range/);
    expect(() => k.decodeRows(dec, null, ptr, Int32Array.from([1, 2]), new Float32Array(2), 1, 4, new Float32Array(3))).toThrow(/decodeRows: sizes do not match/);
    expect(() => k.projectRows(dec, new Float32Array(4), Int32Array.from([0, 3]), Int32Array.from([1, 2]), 1, 4, new Float32Array(2))).toThrow(/projectRows: ptr is not a valid CSR/);
    expect(() => k.projectRows(dec, new Float64Array(4) as unknown as Float32Array, ptr, Int32Array.from([1, 2]), 1, 4, new Float32Array(2))).toThrow(/projectRows: expected g: Float32Array/);
    expect(() => k.transposeBand(new Float32Array(6), new Float32Array(6), new Float64Array(3), 1, 2, 2, 3)).toThrow(/transposeBand: sizes do not match/);
  });

  it('mapRange maps the bytes of a file range, and gives null where it cannot', () => {
    expect(canMapFiles()).toBe(true);
    const dir = tempDir('map');
    const path = join(dir, 'bytes.bin');
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 31) & 255);
    writeFileSync(path, bytes);
    for (const [off, len] of [[0, 10_000], [4097, 123], [9_999, 1]]) {
      const ab = k.mapRange(path, off, len)!;
      expect(ab.byteLength).toBe(len);
      expect(bits(new Uint8Array(ab)).equals(bits(bytes.subarray(off, off + len)))).toBe(true);
      new Uint8Array(ab)[0] ^= 255; // copy-on-write: the file does not change
    }
    expect(k.mapRange(path, 9_000, 2_000)).toBeNull();
    // Every reader maps through mapFileRange, which SFC_MAP=0 turns off.
    expect(mapFileRange(path, 0, 10)).not.toBeNull();
    process.env.SFC_MAP = '0';
    try {
      expect(mapFileRange(path, 0, 10)).toBeNull();
    } finally {
      delete process.env.SFC_MAP;
    }
    expect(k.mapRange(join(dir, 'missing.bin'), 0, 1)).toBeNull();
    expect(k.mapRange(path, 0, 10_000)).not.toBeNull();
    expect(bits(new Uint8Array(k.mapRange(path, 0, 10_000)!)).equals(bits(bytes))).toBe(true);
  });
});
