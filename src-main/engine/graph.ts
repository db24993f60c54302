/**
 * The graph DSL: symbolic tensors (`Sym`) built into a `Graph`. Shapes carry numbers for static
 * dimensions and names ('B', 'S', 'P', ...) for symbolic ones, which become ONNX dim_params.
 *
 * Ops live in ops.ts (forward shape, ONNX emission, float64 reference, VJP rule side by side);
 * reverse-mode autodiff is autodiff.ts; ONNX emission is onnx.ts.
 */
import { OPS } from './ops';

export type Dim = number | string;
export type Shape = readonly Dim[];
export type ElemType = 'float32' | 'int32' | 'int64' | 'bool';
export type Attrs = Record<string, unknown>;

export class Sym {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly op: string,
    readonly inputs: readonly Sym[],
    readonly attrs: Attrs,
    readonly shape: Shape,
    readonly dtype: ElemType,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  private lift(o: Sym | number): Sym {
    return typeof o === 'number' ? this.graph.scalar(o) : o;
  }
  add(o: Sym | number): Sym { return this.graph.apply('Add', [this, this.lift(o)]); }
  sub(o: Sym | number): Sym { return this.graph.apply('Sub', [this, this.lift(o)]); }
  mul(o: Sym | number): Sym { return this.graph.apply('Mul', [this, this.lift(o)]); }
  div(o: Sym | number): Sym { return this.graph.apply('Div', [this, this.lift(o)]); }
  neg(): Sym { return this.graph.apply('Neg', [this]); }
  sqrt(): Sym { return this.graph.apply('Sqrt', [this]); }
  exp(): Sym { return this.graph.apply('Exp', [this]); }
  erf(): Sym { return this.graph.apply('Erf', [this]); }
  relu(): Sym { return this.graph.apply('Relu', [this]); }
  /** 1 where x > 0, else 0 (float); no gradient. */
  step(): Sym { return this.graph.apply('Step', [this]); }
  matmul(o: Sym): Sym { return this.graph.apply('MatMul', [this, o]); }
  /** this · oᵀ for a 2-D o (an HF Linear weight or SAE encoder rows). */
  matmulT(o: Sym): Sym { return this.graph.apply('MatMulNT', [this, o]); }
  /** this · wᵀ + b for a 2-D this (a single Gemm). */
  linearT(w: Sym, b: Sym): Sym { return this.graph.apply('LinearNT', [this, w, b]); }
  softmax(): Sym { return this.graph.apply('Softmax', [this]); }
  logSoftmax(): Sym { return this.graph.apply('LogSoftmax', [this]); }
  sum(axes: number[], keepdims = true): Sym { return this.graph.apply('ReduceSum', [this], { axes, keepdims }); }
  mean(axes: number[], keepdims = true): Sym { return this.graph.apply('ReduceMean', [this], { axes, keepdims }); }
  reshape(shape: Shape): Sym { return this.graph.apply('Reshape', [this], { shape }); }
  transpose(perm: number[]): Sym { return this.graph.apply('Transpose', [this], { perm }); }
  slice(axis: number, start: number, end: number): Sym {
    return this.graph.apply('Slice', [this], { axis, start, end });
  }
  stopGrad(): Sym { return this.graph.apply('StopGrad', [this]); }
  /** Flat positions of the nonzero entries (int32, forward only). */
  nonzeroFlat(): Sym { return this.graph.apply('NonZeroFlat', [this]); }
  /** Values at flat positions (forward only). */
  gatherFlat(idx: Sym): Sym { return this.graph.apply('GatherFlat', [this, idx]); }
  /** Exact GELU, 0.5·x·(1+erf(x/√2)), as Pythia uses. */
  gelu(): Sym { return this.mul(0.5).mul(this.mul(Math.SQRT1_2).erf().add(1)); }
}

export class Graph {
  readonly nodes: Sym[] = [];
  readonly inputs: Sym[] = [];
  readonly outputs: { name: string; sym: Sym }[] = [];
  private readonly scalars = new Map<number, Sym>();

  input(name: string, dtype: ElemType, shape: Shape): Sym {
    if (this.inputs.some((s) => s.attrs.name === name)) throw new Error(`graph input '${name}' declared twice`);
    const s = this.push('Input', [], { name }, shape, dtype);
    this.inputs.push(s);
    return s;
  }

  /** A float32 constant, stored as an ONNX initializer. */
  constant(value: Float32Array | Int32Array, shape: readonly number[]): Sym {
    const dtype: ElemType = value instanceof Int32Array ? 'int32' : 'float32';
    return this.push('Const', [], { value }, [...shape], dtype);
  }

  scalar(v: number): Sym {
    let s = this.scalars.get(v);
    if (!s) {
      s = this.constant(Float32Array.of(v), []);
      this.scalars.set(v, s);
    }
    return s;
  }

  apply(op: string, inputs: Sym[], attrs: Attrs = {}): Sym {
    const def = OPS[op];
    if (!def) throw new Error(`unknown op '${op}'`);
    for (const x of inputs) if (x.graph !== this) throw new Error(`op ${op}: input from another graph`);
    const { shape, dtype } = def.infer(inputs, attrs);
    return this.push(op, inputs, attrs, shape, dtype);
  }

  output(name: string, sym: Sym): void {
    if (this.outputs.some((o) => o.name === name)) throw new Error(`graph output '${name}' declared twice`);
    this.outputs.push({ name, sym });
  }

  private push(op: string, inputs: Sym[], attrs: Attrs, shape: Shape, dtype: ElemType): Sym {
    const s = new Sym(this, this.nodes.length, op, inputs, attrs, shape, dtype);
    this.nodes.push(s);
    return s;
  }
}

export function concat(xs: Sym[], axis: number): Sym {
  return xs[0].graph.apply('Concat', xs, { axis });
}

/** Rows of `table` picked by integer `indices` (embedding lookup). */
export function gather(table: Sym, indices: Sym): Sym {
  return table.graph.apply('Gather', [table, indices]);
}

/** numpy broadcasting of two shapes; symbolic dims must match by name unless one side is 1. */
export function broadcastShapes(a: Shape, b: Shape, what = 'broadcast'): Dim[] {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const da = i < r - a.length ? 1 : a[i - (r - a.length)];
    const db = i < r - b.length ? 1 : b[i - (r - b.length)];
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new Error(`${what}: shapes [${a}] and [${b}] do not broadcast`);
  }
  return out;
}

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}
