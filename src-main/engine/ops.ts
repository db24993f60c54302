/**
 * Every op in one table: shape inference, ONNX emission, float64 reference, and the VJP rule,
 * side by side (micrograd style).
 *
 * VJP convention: `g` is the cotangent of the op's output. With `probe`, g carries one extra
 * leading dimension (a batch of cotangents) and every returned input cotangent carries it too,
 * so many backward passes through the same forward state run as one. Rules only use broadcasting
 * ops, whose right alignment makes the extra leading axis free, plus explicit axis shifts where
 * an op names axes.
 */
import { type Attrs, type Dim, type ElemType, type Shape, type Sym, broadcastShapes, normAxis } from './graph';
import * as N from './nd64';

export interface OnnxSink {
  node(op: string, inputs: string[], outputs: string[], attrs?: Record<string, number | number[] | string>): void;
  int64(values: number[]): string;
  float(value: number): string;
  tmp(): string;
}

export interface OpDef {
  infer(x: readonly Sym[], a: Attrs): { shape: Dim[]; dtype: ElemType };
  onnx(e: OnnxSink, ins: string[], out: string, a: Attrs, node: Sym): void;
  eval(x: N.Nd[], a: Attrs, node: Sym): N.Nd;
  /** Cotangents for each input (null = no gradient flows there). */
  vjp(g: Sym, node: Sym, probe: boolean): (Sym | null)[];
}

const lead = (probe: boolean): number => (probe ? 1 : 0);

/** Sum a cotangent of shape [P?, ...out] down to [P?, ...target] (undo broadcasting). */
export function unbroadcast(g: Sym, target: Shape, probe: boolean): Sym {
  const L = lead(probe);
  const extra = g.rank - L - target.length;
  let r = g;
  if (extra > 0) r = r.sum(range(extra).map((i) => i + L), false);
  const ones = target.flatMap((d, i) => (d === 1 && r.shape[i + L] !== 1 ? [i + L] : []));
  if (ones.length) r = r.sum(ones, true);
  return r;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function elementwise(onnxOp: string, f: (x: number) => number, vjp: OpDef['vjp']): OpDef {
  return {
    infer: ([x]) => ({ shape: [...x.shape], dtype: x.dtype }),
    onnx: (e, ins, out) => e.node(onnxOp, ins, [out]),
    eval: ([x]) => N.unary(x, f),
    vjp,
  };
}

function binary(onnxOp: string, f: (x: number, y: number) => number, vjp: OpDef['vjp']): OpDef {
  return {
    infer: ([a, b]) => ({ shape: broadcastShapes(a.shape, b.shape, onnxOp), dtype: a.dtype }),
    onnx: (e, ins, out) => e.node(onnxOp, ins, [out]),
    eval: ([a, b]) => N.binary(a, b, f),
    vjp,
  };
}

/** Target shape for ONNX Reshape: a dim named like the input's dim at the same index is copied (0). */
export function reshapeTarget(from: Shape, to: Shape): number[] {
  let inferred = false;
  return to.map((d, i) => {
    if (typeof d === 'number') return d;
    if (from[i] === d) return 0;
    if (inferred) throw new Error(`reshape [${from}] -> [${to}]: more than one dim to infer`);
    inferred = true;
    return -1;
  });
}

function concreteReshape(inShape: number[], target: number[]): number[] {
  const out = target.map((d, i) => (d === 0 ? inShape[i] : d));
  const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const total = inShape.reduce((p, d) => p * d, 1);
  return out.map((d) => (d === -1 ? total / known : d));
}

export const OPS: Record<string, OpDef> = {
  Input: {
    infer: () => { throw new Error('Input is built by Graph.input'); },
    onnx: () => {},
    eval: () => { throw new Error('Input has no value'); },
    vjp: () => [],
  },
  Const: {
    infer: () => { throw new Error('Const is built by Graph.constant'); },
    onnx: () => {},
    eval: (_x, a, node) => N.nd(a.value as Float32Array, node.shape as number[]),
    vjp: () => [],
  },

  Add: binary('Add', (x, y) => x + y, (g, n, p) => [
    unbroadcast(g, n.inputs[0].shape, p),
    unbroadcast(g, n.inputs[1].shape, p),
  ]),
  Sub: binary('Sub', (x, y) => x - y, (g, n, p) => [
    unbroadcast(g, n.inputs[0].shape, p),
    unbroadcast(g.neg(), n.inputs[1].shape, p),
  ]),
  Mul: binary('Mul', (x, y) => x * y, (g, n, p) => [
    unbroadcast(g.mul(n.inputs[1]), n.inputs[0].shape, p),
    unbroadcast(g.mul(n.inputs[0]), n.inputs[1].shape, p),
  ]),
  Div: binary('Div', (x, y) => x / y, (g, n, p) => [
    unbroadcast(g.div(n.inputs[1]), n.inputs[0].shape, p),
    unbroadcast(g.mul(n).div(n.inputs[1]).neg(), n.inputs[1].shape, p),
  ]),

  Neg: elementwise('Neg', (x) => -x, (g) => [g.neg()]),
  Sqrt: elementwise('Sqrt', Math.sqrt, (g, n) => [g.mul(0.5).div(n)]),
  Exp: elementwise('Exp', Math.exp, (g, n) => [g.mul(n)]),
  Erf: elementwise('Erf', N.erf, (g, n) => {
    const x = n.inputs[0];
    return [g.mul(x.mul(x).neg().exp().mul(2 / Math.sqrt(Math.PI)))];
  }),
  Relu: elementwise('Relu', (x) => Math.max(x, 0), (g, n) => [g.mul(n.inputs[0].step())]),
  Step: {
    infer: ([x]) => ({ shape: [...x.shape], dtype: 'float32' }),
    onnx: (e, [x], out) => {
      const b = e.tmp();
      e.node('Greater', [x, e.float(0)], [b]);
      e.node('Cast', [b], [out], { to: 1 });
    },
    eval: ([x]) => N.unary(x, (v) => (v > 0 ? 1 : 0)),
    vjp: () => [null],
  },
  /**
   * Flat (row-major) positions of the nonzero entries, int32 [nnz]. Forward only: it lets an
   * SAE encoder hand back its few active features instead of a dense [N, F] matrix.
   */
  NonZeroFlat: {
    infer: () => ({ shape: ['nnz'], dtype: 'int32' }),
    onnx: (e, [x], out) => {
      const flat = e.tmp(), nz = e.tmp(), nz1 = e.tmp();
      e.node('Reshape', [x, e.int64([-1])], [flat]);
      e.node('NonZero', [flat], [nz]);
      e.node('Reshape', [nz, e.int64([-1])], [nz1]);
      e.node('Cast', [nz1], [out], { to: 6 });
    },
    eval: ([x]) => {
      const pos: number[] = [];
      x.data.forEach((v, i) => { if (v !== 0) pos.push(i); });
      return { data: Float64Array.from(pos), shape: [pos.length] };
    },
    vjp: () => [null],
  },
  /** x.flatten()[idx]: the values at NonZeroFlat's positions. Forward only. */
  GatherFlat: {
    infer: ([x, i]) => {
      if (i.dtype !== 'int32' && i.dtype !== 'int64') throw new Error('GatherFlat indices must be integers');
      return { shape: [...i.shape], dtype: x.dtype };
    },
    onnx: (e, [x, i], out) => {
      const flat = e.tmp();
      e.node('Reshape', [x, e.int64([-1])], [flat]);
      e.node('Gather', [flat, i], [out], { axis: 0 });
    },
    eval: ([x, i]) => ({ data: Float64Array.from(i.data, (k) => x.data[k]), shape: [...i.shape] }),
    vjp: () => [null, null],
  },
  StopGrad: {
    infer: ([x]) => ({ shape: [...x.shape], dtype: x.dtype }),
    onnx: (e, ins, out) => e.node('Identity', ins, [out]),
    eval: ([x]) => x,
    vjp: () => [null],
  },

  MatMul: {
    infer: ([a, b]) => {
      if (a.rank < 2 || b.rank < 2) throw new Error(`MatMul needs rank >= 2, got [${a.shape}] x [${b.shape}]`);
      const [m, k] = a.shape.slice(-2);
      const [k2, n] = b.shape.slice(-2);
      if (k !== k2) throw new Error(`MatMul: inner dims differ, [${a.shape}] x [${b.shape}]`);
      const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
      return { shape: [...batch, m, n], dtype: 'float32' };
    },
    onnx: (e, ins, out) => e.node('MatMul', ins, [out]),
    eval: ([a, b]) => N.matmul(a, b),
    vjp: (g, n, p) => {
      const [a, b] = n.inputs;
      const tr = (x: Sym): Sym => x.transpose([...range(x.rank - 2), x.rank - 1, x.rank - 2]);
      return [unbroadcast(g.matmul(tr(b)), a.shape, p), unbroadcast(tr(a).matmul(g), b.shape, p)];
    },
  },

  /** A · Bᵀ with B [N, K]: onnxruntime's Gemm(transB) reads B in place (no transposed copy). */
  MatMulNT: {
    infer: ([a, b]) => {
      if (b.rank !== 2 || a.rank < 2) throw new Error(`MatMulNT needs A of rank >= 2 and B of rank 2, got [${a.shape}] x [${b.shape}]ᵀ`);
      if (a.shape[a.rank - 1] !== b.shape[1]) throw new Error(`MatMulNT: inner dims differ, [${a.shape}] x [${b.shape}]ᵀ`);
      return { shape: [...a.shape.slice(0, -1), b.shape[0]], dtype: 'float32' };
    },
    onnx: (e, [a, b], out, _a, n) => {
      if (n.inputs[0].rank === 2) return e.node('Gemm', [a, b], [out], { transB: 1 });
      const t = e.tmp();
      e.node('Transpose', [b], [t], { perm: [1, 0] });
      e.node('MatMul', [a, t], [out]);
    },
    eval: ([a, b]) => N.matmul(a, N.transpose(b, [1, 0])),
    vjp: (g, n, p) => {
      const [a, b] = n.inputs;
      const gT = g.transpose([...range(g.rank - 2), g.rank - 1, g.rank - 2]);
      return [g.matmul(b), unbroadcast(gT.matmul(a), b.shape, p)];
    },
  },

  /** A · Wᵀ + b for a 2-D A (one Gemm, which onnxruntime can fuse with a following Relu). */
  LinearNT: {
    infer: ([a, w, b]) => {
      if (a.rank !== 2 || w.rank !== 2 || b.rank !== 1) throw new Error(`LinearNT needs A [N,K], W [M,K], b [M], got [${a.shape}], [${w.shape}], [${b.shape}]`);
      if (a.shape[1] !== w.shape[1] || b.shape[0] !== w.shape[0]) throw new Error(`LinearNT: shapes [${a.shape}], [${w.shape}], [${b.shape}] do not fit`);
      return { shape: [a.shape[0], w.shape[0]], dtype: 'float32' };
    },
    onnx: (e, ins, out) => e.node('Gemm', ins, [out], { transB: 1 }),
    eval: ([a, w, b]) => N.binary(N.matmul(a, N.transpose(w, [1, 0])), b, (x, y) => x + y),
    vjp: (g, n, p) => {
      const [a, w, b] = n.inputs;
      const gT = g.transpose([...range(g.rank - 2), g.rank - 1, g.rank - 2]);
      return [g.matmul(w), unbroadcast(gT.matmul(a), w.shape, p), unbroadcast(g, b.shape, p)];
    },
  },

  Softmax: {
    infer: ([x]) => ({ shape: [...x.shape], dtype: x.dtype }),
    onnx: (e, ins, out) => e.node('Softmax', ins, [out], { axis: -1 }),
    eval: ([x]) => N.softmax(x),
    vjp: (g, y) => [y.mul(g.sub(g.mul(y).sum([-1], true)))],
  },
  LogSoftmax: {
    infer: ([x]) => ({ shape: [...x.shape], dtype: x.dtype }),
    onnx: (e, ins, out) => e.node('LogSoftmax', ins, [out], { axis: -1 }),
    eval: ([x]) => N.unary(N.softmax(x), Math.log),
    vjp: (g, y) => [g.sub(y.exp().mul(g.sum([-1], true)))],
  },

  ReduceSum: reduceOp('ReduceSum', 'sum'),
  ReduceMean: reduceOp('ReduceMean', 'mean'),

  Reshape: {
    infer: ([x], a) => {
      reshapeTarget(x.shape, a.shape as Shape);
      return { shape: [...(a.shape as Shape)], dtype: x.dtype };
    },
    onnx: (e, [x], out, a, n) => e.node('Reshape', [x, e.int64(reshapeTarget(n.inputs[0].shape, a.shape as Shape))], [out]),
    eval: ([x], a, n) => ({
      data: x.data,
      shape: concreteReshape(x.shape, reshapeTarget(n.inputs[0].shape, a.shape as Shape)),
    }),
    vjp: (g, n, p) => [g.reshape(p ? [g.shape[0], ...n.inputs[0].shape] : n.inputs[0].shape)],
  },
  Transpose: {
    infer: ([x], a) => ({ shape: (a.perm as number[]).map((i) => x.shape[i]), dtype: x.dtype }),
    onnx: (e, ins, out, a) => e.node('Transpose', ins, [out], { perm: a.perm as number[] }),
    eval: ([x], a) => N.transpose(x, a.perm as number[]),
    vjp: (g, n, p) => {
      const perm = n.attrs.perm as number[];
      const inv = perm.map((_, i) => perm.indexOf(i));
      return [g.transpose(p ? [0, ...inv.map((i) => i + 1)] : inv)];
    },
  },
  Slice: {
    infer: ([x], a) => {
      const ax = normAxis(a.axis as number, x.rank);
      const d = x.shape[ax];
      const { start, end } = a as { start: number; end: number };
      if (typeof d !== 'number') throw new Error(`Slice needs a static axis, got [${x.shape}] axis ${ax}`);
      if (!(0 <= start && start < end && end <= d)) throw new Error(`Slice [${start}, ${end}) out of range for dim ${d}`);
      const shape = [...x.shape];
      shape[ax] = end - start;
      return { shape, dtype: x.dtype };
    },
    onnx: (e, [x], out, a, n) =>
      e.node('Slice', [x, e.int64([a.start as number]), e.int64([a.end as number]), e.int64([normAxis(a.axis as number, n.inputs[0].rank)])], [out]),
    eval: ([x], a) => N.slice(x, normAxis(a.axis as number, x.shape.length), a.start as number, a.end as number),
    vjp: (g, n, p) => {
      const x = n.inputs[0];
      const ax = normAxis(n.attrs.axis as number, x.rank);
      const before = n.attrs.start as number;
      const after = (x.shape[ax] as number) - (n.attrs.end as number);
      return [g.graph.apply('Pad', [g], { axis: ax + lead(p), before, after })];
    },
  },
  Pad: {
    infer: ([x], a) => {
      const shape = [...x.shape];
      const ax = a.axis as number;
      shape[ax] = (shape[ax] as number) + (a.before as number) + (a.after as number);
      return { shape, dtype: x.dtype };
    },
    // Full-rank pads, no `axes` input: onnxruntime's transpose optimizer mishandles Pad with axes.
    onnx: (e, [x], out, a, n) => {
      const r = n.inputs[0].rank;
      const pads = new Array<number>(2 * r).fill(0);
      pads[a.axis as number] = a.before as number;
      pads[r + (a.axis as number)] = a.after as number;
      e.node('Pad', [x, e.int64(pads)], [out]);
    },
    eval: ([x], a) => N.pad(x, a.axis as number, a.before as number, a.after as number),
    vjp: (g, n, p) => {
      const ax = (n.attrs.axis as number) + lead(p);
      const start = n.attrs.before as number;
      return [g.slice(ax, start, start + (n.inputs[0].shape[n.attrs.axis as number] as number))];
    },
  },
  Concat: {
    infer: (xs, a) => {
      const ax = normAxis(a.axis as number, xs[0].rank);
      const shape = [...xs[0].shape];
      let total = 0;
      for (const x of xs) {
        if (typeof x.shape[ax] !== 'number') throw new Error('Concat needs a static axis');
        total += x.shape[ax] as number;
      }
      shape[ax] = total;
      return { shape, dtype: xs[0].dtype };
    },
    onnx: (e, ins, out, a, n) => e.node('Concat', ins, [out], { axis: normAxis(a.axis as number, n.inputs[0].rank) }),
    eval: (xs, a) => N.concat(xs, normAxis(a.axis as number, xs[0].shape.length)),
    vjp: (g, n, p) => {
      const ax = normAxis(n.attrs.axis as number, n.inputs[0].rank);
      let off = 0;
      return n.inputs.map((x) => {
        const len = x.shape[ax] as number;
        off += len;
        return g.slice(ax + lead(p), off - len, off);
      });
    },
  },
  Gather: {
    infer: ([t, i]) => {
      if (i.dtype !== 'int32' && i.dtype !== 'int64') throw new Error('Gather indices must be integers');
      return { shape: [...i.shape, ...t.shape.slice(1)], dtype: t.dtype };
    },
    onnx: (e, ins, out) => e.node('Gather', ins, [out], { axis: 0 }),
    eval: ([t, idx]) => {
      const row = t.shape.slice(1).reduce((p, d) => p * d, 1);
      const data = new Float64Array(idx.data.length * row);
      idx.data.forEach((r, k) => data.set(t.data.subarray(r * row, (r + 1) * row), k * row));
      return { data, shape: [...idx.shape, ...t.shape.slice(1)] };
    },
    vjp: () => {
      throw new Error('Gather: no gradient with respect to the table; use a one-hot MatMul to train embeddings');
    },
  },
  /** Broadcast x up to the shape of `like` (used by reduction VJPs). */
  ExpandLike: {
    infer: ([x, like]) => ({ shape: broadcastShapes(x.shape, like.shape, 'ExpandLike'), dtype: x.dtype }),
    onnx: (e, [x, like], out) => {
      const s = e.tmp();
      e.node('Shape', [like], [s]);
      e.node('Expand', [x, s], [out]);
    },
    eval: ([x, like]) => N.expand(x, like.shape),
    vjp: (g, n, p) => [unbroadcast(g, n.inputs[0].shape, p), null],
  },
  Unsqueeze: {
    infer: ([x], a) => {
      const shape: Dim[] = [...x.shape];
      for (const ax of [...(a.axes as number[])].sort((u, v) => u - v)) shape.splice(ax, 0, 1);
      return { shape, dtype: x.dtype };
    },
    onnx: (e, [x], out, a) => e.node('Unsqueeze', [x, e.int64(a.axes as number[])], [out]),
    eval: ([x], a) => {
      const shape = [...x.shape];
      for (const ax of [...(a.axes as number[])].sort((u, v) => u - v)) shape.splice(ax, 0, 1);
      return { data: x.data, shape };
    },
    vjp: (g, n, p) => [g.sum((n.attrs.axes as number[]).map((q) => q + lead(p)), false)],
  },
};

function reduceOp(onnxOp: string, kind: 'sum' | 'mean'): OpDef {
  const axesOf = (x: Sym, a: Attrs): number[] => (a.axes as number[]).map((q) => normAxis(q, x.rank));
  return {
    infer: ([x], a) => {
      const axes = axesOf(x, a);
      if (!axes.length) throw new Error(`${onnxOp}: empty axes`);
      const shape = a.keepdims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
      return { shape, dtype: x.dtype };
    },
    onnx: (e, [x], out, a, n) => e.node(onnxOp, [x, e.int64(axesOf(n.inputs[0], a))], [out], { keepdims: a.keepdims ? 1 : 0 }),
    eval: ([x], a, n) => N.reduce(x, axesOf(n.inputs[0], a), !!a.keepdims, kind),
    vjp: (g, n, p) => {
      const x = n.inputs[0];
      const axes = axesOf(x, n.attrs);
      let k = n.attrs.keepdims ? g : g.graph.apply('Unsqueeze', [g], { axes: axes.map((q) => q + lead(p)) });
      if (kind === 'mean') {
        let count = 1;
        for (const q of axes) {
          const d = x.shape[q];
          if (typeof d !== 'number') throw new Error('ReduceMean gradient needs static reduced axes');
          count *= d;
        }
        k = k.mul(1 / count);
      }
      return [g.graph.apply('ExpandLike', [k, x])];
    },
  };
}
