/**
 * Graph → ONNX ModelProto bytes. A minimal protobuf writer for the handful of messages we need
 * (field numbers from onnx.proto); no protobuf dependency.
 */
import type { ElemType, Graph, Sym } from './graph';
import { OPS, type OnnxSink } from './ops';

export const OPSET = 18;
const IR_VERSION = 8;
const ELEM: Record<ElemType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

const UTF8 = new TextEncoder();

class Pb {
  private chunks: number[] = [];
  private bufs: Uint8Array[] = [];
  private flush(): void {
    if (this.chunks.length) {
      this.bufs.push(Uint8Array.from(this.chunks));
      this.chunks = [];
    }
  }
  private varint(v: number | bigint): void {
    // Most varints are small non-negative numbers (field tags, dims, lengths): no BigInt.
    if (typeof v === 'number' && v >= 0 && v <= 0x7fffffff && Number.isInteger(v)) {
      while (v >= 0x80) {
        this.chunks.push((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      this.chunks.push(v);
      return;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.chunks.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.chunks.push(Number(x));
  }
  int(field: number, v: number): this {
    this.varint((field << 3) | 0);
    this.varint(v);
    return this;
  }
  float(field: number, v: number): this {
    this.varint((field << 3) | 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.chunks.push(...b);
    return this;
  }
  bytes(field: number, data: Uint8Array): this {
    this.varint((field << 3) | 2);
    this.varint(data.length);
    this.flush();
    this.bufs.push(data);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, UTF8.encode(s));
  }
  msg(field: number, m: Pb): this {
    return this.bytes(field, m.finish());
  }
  finish(): Uint8Array {
    this.flush();
    const n = this.bufs.reduce((s, b) => s + b.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const b of this.bufs) {
      out.set(b, o);
      o += b.length;
    }
    return out;
  }
}

function tensorProto(name: string, dtype: ElemType, dims: number[], raw: Uint8Array): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  return t.int(2, ELEM[dtype]).str(8, name).bytes(9, raw);
}

/** Without a shape (null) onnxruntime infers it; outputs are declared that way. */
function valueInfo(name: string, dtype: ElemType, shape: readonly (number | string)[] | null): Pb {
  const tensorType = new Pb().int(1, ELEM[dtype]);
  if (shape) {
    const dims = new Pb();
    for (const d of shape) dims.msg(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().str(2, d));
    tensorType.msg(2, dims);
  }
  return new Pb().str(1, name).msg(2, new Pb().msg(1, tensorType));
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Emit the nodes needed by the graph's outputs. */
export function toOnnx(graph: Graph, name = 'sfc'): Uint8Array {
  if (!graph.outputs.length) throw new Error('graph has no outputs');
  const live = new Set<number>();
  const stack = graph.outputs.map((o) => o.sym);
  while (stack.length) {
    const s = stack.pop()!;
    if (live.has(s.id)) continue;
    live.add(s.id);
    stack.push(...s.inputs);
  }

  const g = new Pb().str(2, name);
  const names = new Map<number, string>();
  let tmpCount = 0;
  const nameOf = (s: Sym): string => names.get(s.id)!;
  const sink: OnnxSink = {
    node(op, inputs, outputs, attrs = {}) {
      const n = new Pb();
      for (const i of inputs) n.str(1, i);
      for (const o of outputs) n.str(2, o);
      n.str(4, op);
      for (const [k, v] of Object.entries(attrs)) {
        const a = new Pb().str(1, k);
        if (typeof v === 'string') a.bytes(4, new TextEncoder().encode(v)).int(20, 3);
        else if (Array.isArray(v)) {
          for (const x of v) a.int(8, x);
          a.int(20, 7);
        } else a.int(3, v).int(20, 2);
        n.msg(5, a);
      }
      g.msg(1, n);
    },
    int64(values) {
      const nm = `c${tmpCount++}`;
      g.msg(5, tensorProto(nm, 'int64', [values.length], bytesOf(BigInt64Array.from(values, BigInt))));
      return nm;
    },
    float(value) {
      const nm = `c${tmpCount++}`;
      g.msg(5, tensorProto(nm, 'float32', [], bytesOf(Float32Array.of(value))));
      return nm;
    },
    tmp: () => `t${tmpCount++}`,
  };

  for (const s of graph.inputs) {
    const nm = s.attrs.name as string;
    names.set(s.id, nm);
    if (live.has(s.id)) g.msg(11, valueInfo(nm, s.dtype, s.shape));
  }
  for (const s of graph.nodes) {
    if (!live.has(s.id) || s.op === 'Input') continue;
    const nm = `n${s.id}`;
    names.set(s.id, nm);
    if (s.op === 'Const') {
      g.msg(5, tensorProto(nm, s.dtype, s.shape as number[], bytesOf(s.attrs.value as Float32Array)));
      continue;
    }
    OPS[s.op].onnx(sink, s.inputs.map(nameOf), nm, s.attrs, s);
  }
  for (const o of graph.outputs) {
    sink.node('Identity', [nameOf(o.sym)], [o.name]);
    g.msg(12, valueInfo(o.name, o.sym.dtype, null));
  }

  return new Pb()
    .int(1, IR_VERSION)
    .str(2, 'sfc-workbench')
    .msg(7, g)
    .msg(8, new Pb().str(1, '').int(2, OPSET))
    .finish();
}
