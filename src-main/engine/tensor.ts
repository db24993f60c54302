/**
 * A plain typed tensor: a flat typed array plus a row-major shape. This is what crosses the
 * boundary between the engine, the model code and the worker; ONNX sessions take and return it.
 */
export type DType = 'float32' | 'int32' | 'int64';
export type TensorData = Float32Array | Int32Array | BigInt64Array;

export class Tensor<D extends TensorData = TensorData> {
  constructor(
    readonly data: D,
    readonly shape: readonly number[],
  ) {
    const n = sizeOf(shape);
    if (n !== data.length) throw new Error(`Tensor: shape [${shape}] needs ${n} values, got ${data.length}`);
  }

  get dtype(): DType {
    if (this.data instanceof Float32Array) return 'float32';
    if (this.data instanceof Int32Array) return 'int32';
    return 'int64';
  }

  get size(): number {
    return this.data.length;
  }

  static zeros(shape: readonly number[]): Tensor<Float32Array> {
    return new Tensor(new Float32Array(sizeOf(shape)), shape);
  }

  static from(values: ArrayLike<number>, shape: readonly number[]): Tensor<Float32Array> {
    return new Tensor(Float32Array.from(values), shape);
  }

  reshape(shape: readonly number[]): Tensor<D> {
    return new Tensor(this.data, shape);
  }

  /** Value at a multi-index (for tests and small reads). */
  at(...idx: number[]): number {
    let off = 0;
    for (let i = 0; i < this.shape.length; i++) off = off * this.shape[i] + idx[i];
    return Number(this.data[off]);
  }
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}
