/**
 * Sparse feature rows (CSR): for each token row n, the active feature indices and values.
 * Features stay in this form after encoding; nothing downstream of the encoder is dense in F.
 */
export interface SparseRows {
  rows: number;
  /** [rows + 1] offsets into idx/val. */
  ptr: Int32Array;
  idx: Int32Array;
  val: Float32Array;
}

/** Nonzeros of a dense [rows, F] matrix. */
export function sparsify(dense: Float32Array, rows: number, F: number): SparseRows {
  let nnz = 0;
  for (let i = 0; i < dense.length; i++) if (dense[i] !== 0) nnz++;
  const ptr = new Int32Array(rows + 1);
  const idx = new Int32Array(nnz);
  const val = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * F;
    for (let i = 0; i < F; i++) {
      const v = dense[base + i];
      if (v !== 0) {
        idx[k] = i;
        val[k++] = v;
      }
    }
    ptr[r + 1] = k;
  }
  return { rows, ptr, idx, val };
}

/** CSR rows from sorted flat positions (row · F + feature) and their values. */
export function fromFlat(at: Int32Array, val: Float32Array, rows: number, F: number): SparseRows {
  const ptr = new Int32Array(rows + 1);
  const idx = new Int32Array(at.length);
  for (let k = 0; k < at.length; k++) {
    const r = Math.floor(at[k] / F);
    idx[k] = at[k] - r * F;
    ptr[r + 1]++;
  }
  for (let r = 0; r < rows; r++) ptr[r + 1] += ptr[r];
  return { rows, ptr, idx, val };
}

/** Rows of several CSR blocks stacked in order. */
export function concatRows(parts: SparseRows[]): SparseRows {
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const nnz = parts.reduce((n, p) => n + p.idx.length, 0);
  const ptr = new Int32Array(rows + 1);
  const idx = new Int32Array(nnz);
  const val = new Float32Array(nnz);
  let r0 = 0, k0 = 0;
  for (const p of parts) {
    for (let r = 1; r <= p.rows; r++) ptr[r0 + r] = k0 + p.ptr[r];
    idx.set(p.idx, k0);
    val.set(p.val, k0);
    r0 += p.rows;
    k0 += p.idx.length;
  }
  return { rows, ptr, idx, val };
}

export function emptyRows(rows: number): SparseRows {
  return { rows, ptr: new Int32Array(rows + 1), idx: new Int32Array(0), val: new Float32Array(0) };
}

/** Row r as a Map index → value. */
export function rowMap(s: SparseRows, r: number): Map<number, number> {
  const m = new Map<number, number>();
  for (let k = s.ptr[r]; k < s.ptr[r + 1]; k++) m.set(s.idx[k], s.val[k]);
  return m;
}

/** Per row: the sorted union of both patterns with b − a values (the delta of two states). */
export function subtractRows(b: SparseRows, a: SparseRows): SparseRows {
  const ptr = new Int32Array(a.rows + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < a.rows; r++) {
    let i = a.ptr[r], j = b.ptr[r];
    const ie = a.ptr[r + 1], je = b.ptr[r + 1];
    while (i < ie || j < je) {
      const ai = i < ie ? a.idx[i] : Infinity;
      const bj = j < je ? b.idx[j] : Infinity;
      if (ai === bj) {
        idx.push(ai);
        val.push(b.val[j++] - a.val[i++]);
      } else if (ai < bj) {
        idx.push(ai);
        val.push(-a.val[i++]);
      } else {
        idx.push(bj);
        val.push(b.val[j++]);
      }
    }
    ptr[r + 1] = idx.length;
  }
  return { rows: a.rows, ptr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
}

export function nnz(s: SparseRows): number {
  return s.ptr[s.rows];
}
