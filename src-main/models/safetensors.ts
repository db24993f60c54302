/**
 * Safetensors reader and writer, by hand (format: 8-byte little-endian u64 header length N,
 * N bytes of JSON header, then the raw tensor data; data_offsets are relative to the data area).
 *
 * Reading is lazy: opening reads only the header(s) and validates every entry; a tensor's bytes
 * are read from disk (and converted to float32) only when getTensor asks for it. Each read lands
 * in a fresh ArrayBuffer, so an F32 tensor becomes a Float32Array view on exactly the bytes read
 * (no second copy, always aligned), and files larger than Node's 2 GiB readFile limit work.
 * Nothing is cached: the caller keeps what it needs.
 *
 * Sharded checkpoints (model.safetensors.index.json with a weight_map) look the same to callers.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { mapFileRange } from '../engine/native-kernels';
import { transposeStreamed, transposeWithRowNorms } from '../engine/transpose';
import { readFully } from '../util/read-fully';
import { writeFileAtomic } from '../util/atomic-write';

export type WritableDtype = 'F32' | 'F16' | 'BF16';

export interface TensorInfo {
  dtype: string;
  shape: number[];
}

export interface Tensor extends TensorInfo {
  /** Values converted to float32 (row-major, shape as given). */
  data: Float32Array;
  /** True when data is a mapping of the file rather than a copy (getTensor with `map`). */
  mapped?: boolean;
  /** getTransposed: the norms of the result's rows (summed in float64 during the transpose). */
  rowNorms?: Float64Array;
}

export interface SafetensorsFile {
  /** Path that was opened (a .safetensors file or an index.json). */
  readonly path: string;
  /** `__metadata__` of the file (for sharded checkpoints: the index's `metadata`, stringified). */
  readonly metadata: Record<string, string>;
  names(): string[];
  has(name: string): boolean;
  /** dtype and shape without reading data. Throws if the tensor is missing. */
  info(name: string): TensorInfo;
  /**
   * Reads and converts one tensor. Throws "<path>: no tensor '<name>'" if missing. `map`: a
   * float32 tensor may instead be a copy-on-write mapping of the file (docs/native.md).
   */
  getTensor(name: string, opts?: { map?: boolean }): Tensor;
  /**
   * A 2-D tensor [R, C] as its transpose [C, R]. Float32 data is streamed in bands of rows
   * straight into the transposed array, so the stored layout is never held in memory.
   */
  getTransposed(name: string): Tensor;
}

/** Byte size of one element for every dtype the safetensors spec defines. */
const ITEM_SIZE: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

/** Python's safetensors refuses headers above 100 MB; a larger value means a corrupt file. */
const MAX_HEADER = 100_000_000;

if (endianness() !== 'LE') {
  // Typed-array views use host byte order; safetensors is little-endian.
  throw new Error('safetensors: big-endian hosts are not supported');
}

// ---------------------------------------------------------------------------------------------
// float16 / bfloat16 <-> float32

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

let halfTable: Float32Array | null = null;
/** All 65536 half values, built once: decoding is then one lookup per element. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const man = h & 0x3ff;
    if (exp === 0) t[h] = sign * man * 2 ** -24; // zero and subnormals
    else if (exp === 31) t[h] = man ? NaN : sign * Infinity;
    else t[h] = sign * (1 + man / 1024) * 2 ** (exp - 15);
  }
  return (halfTable = t);
}

export function halfBitsToFloat(h: number): number {
  return halfToFloatTable()[h & 0xffff];
}

/** float32 → IEEE half bits, round to nearest even, overflow → ±Inf, NaN kept. */
export function floatToHalfBits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full 24-bit significand, rounding to nearest even.
    if (e < -10) return sign;
    const m = man | 0x800000;
    const shift = 14 - e;
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r; // a carry into the exponent field is the correct result
  }
  let r = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++; // carry may reach Inf: correct
  return sign | r;
}

export function bf16BitsToFloat(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** float32 → bfloat16 bits, round to nearest even, NaN kept quiet. */
export function floatToBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The float32 values a tensor will have after being stored as `dtype` and read back. */
export function roundToDtype(data: Float32Array, dtype: WritableDtype): Float32Array {
  if (dtype === 'F32') return data;
  const out = new Float32Array(data.length);
  if (dtype === 'F16') {
    const t = halfToFloatTable();
    for (let i = 0; i < data.length; i++) out[i] = t[floatToHalfBits(data[i])];
  } else {
    for (let i = 0; i < data.length; i++) out[i] = bf16BitsToFloat(floatToBf16Bits(data[i]));
  }
  return out;
}

/** Raw little-endian bytes (fresh, aligned buffer) → float32. */
function convert(bytes: Uint8Array, dtype: string, n: number, where: string): Float32Array {
  const buf = bytes.buffer;
  const off = bytes.byteOffset;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf, off, n);
    case 'F16': {
      const h = new Uint16Array(buf, off, n);
      const t = halfToFloatTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = t[h[i]];
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(buf, off, n);
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = h[i] << 16;
      return out;
    }
    // Integer and double tensors convert element-wise (exact for ints up to 2^24).
    case 'F64': return Float32Array.from(new Float64Array(buf, off, n));
    case 'I32': return Float32Array.from(new Int32Array(buf, off, n));
    case 'U32': return Float32Array.from(new Uint32Array(buf, off, n));
    case 'I16': return Float32Array.from(new Int16Array(buf, off, n));
    case 'U16': return Float32Array.from(new Uint16Array(buf, off, n));
    case 'I8': return Float32Array.from(new Int8Array(buf, off, n));
    case 'U8':
    case 'BOOL': return Float32Array.from(new Uint8Array(buf, off, n));
    case 'I64': return Float32Array.from(new BigInt64Array(buf, off, n), Number);
    case 'U64': return Float32Array.from(new BigUint64Array(buf, off, n), Number);
    default:
      throw new Error(`${where}: dtype ${dtype} cannot be converted to float32`);
  }
}

// ---------------------------------------------------------------------------------------------
// single file

interface Entry extends TensorInfo {
  begin: number;
  end: number;
}

function isDim(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}

function readHeader(path: string): { entries: Map<string, Entry>; metadata: Record<string, string>; dataStart: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`${path}: cannot open safetensors file (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw new Error(`${path}: file is ${size} bytes, shorter than the 8-byte safetensors header length`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(size - 8)) throw new Error(`${path}: header length ${n} goes beyond the end of the file (${size} bytes)`);
    if (n > BigInt(MAX_HEADER)) throw new Error(`${path}: header length ${n} is implausibly large (corrupt file?)`);
    const hlen = Number(n);
    const hbuf = Buffer.alloc(hlen);
    readSync(fd, hbuf, 0, hlen, 8);
    let header: unknown;
    try {
      header = JSON.parse(hbuf.toString('utf8'));
    } catch (e) {
      throw new Error(`${path}: header is not valid JSON (${(e as Error).message})`);
    }
    if (!header || typeof header !== 'object' || Array.isArray(header)) throw new Error(`${path}: header is not a JSON object`);
    const dataStart = 8 + hlen;
    const dataSize = size - dataStart;
    const entries = new Map<string, Entry>();
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        metadata = (v && typeof v === 'object' ? v : {}) as Record<string, string>;
        continue;
      }
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (!e || typeof e !== 'object' || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !e.shape.every(isDim)
        || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2 || !e.data_offsets.every(isDim)) {
        throw new Error(`${path}: tensor '${name}' has a malformed header entry (need dtype, shape, data_offsets)`);
      }
      const item = ITEM_SIZE[e.dtype];
      if (item === undefined) throw new Error(`${path}: tensor '${name}' has unknown dtype ${e.dtype}`);
      const [begin, end] = e.data_offsets as number[];
      if (begin > end || end > dataSize) {
        throw new Error(`${path}: tensor '${name}' data_offsets [${begin}, ${end}] lie outside the data area (${dataSize} bytes; truncated file?)`);
      }
      const shape = e.shape as number[];
      const want = shape.reduce((a, b) => a * b, 1) * item;
      if (end - begin !== want) {
        throw new Error(`${path}: tensor '${name}' has ${end - begin} bytes but shape [${shape}] × ${e.dtype} needs ${want}`);
      }
      entries.set(name, { dtype: e.dtype, shape, begin, end });
    }
    checkLayout(path, entries, dataSize);
    return { entries, metadata, dataStart };
  } finally {
    closeSync(fd);
  }
}

/**
 * The tensors must tile the data area exactly, as the reference reader requires: sorted by
 * offset, each starts where the previous one ends, the first at 0 and the last at the end.
 * Overlapping ranges would make two tensors share bytes (a write to one is a write to the
 * other in the producer's view), and gaps or trailing bytes mean the header does not describe
 * the file it came with.
 */
function checkLayout(path: string, entries: Map<string, Entry>, dataSize: number): void {
  const sorted = [...entries].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: string | null = null;
  const range = (e: Entry) => `[${e.begin}, ${e.end}]`;
  for (const [name, e] of sorted) {
    if (e.begin < at) {
      const p = entries.get(prev!)!;
      throw new Error(`${path}: tensors '${prev}' (data_offsets ${range(p)}) and '${name}' (data_offsets ${range(e)}) overlap`);
    }
    if (e.begin > at) {
      const where = prev === null ? 'before the first tensor' : `between tensors '${prev}' and '${name}'`;
      throw new Error(`${path}: bytes ${at}..${e.begin} of the data area belong to no tensor (a gap ${where}, '${name}' starts at ${e.begin})`);
    }
    at = e.end;
    prev = name;
  }
  if (at !== dataSize) {
    const after = prev === null ? 'the header lists no tensor' : `the last tensor '${prev}' ends at ${at}`;
    throw new Error(`${path}: the data area has ${dataSize} bytes but ${after}: ${dataSize - at} trailing bytes belong to no tensor`);
  }
}

function openFile(path: string): SafetensorsFile {
  const { entries, metadata, dataStart } = readHeader(path);
  const entry = (name: string): Entry => {
    const e = entries.get(name);
    if (!e) throw new Error(`${path}: no tensor '${name}'`);
    return e;
  };
  return {
    path,
    metadata,
    names: () => [...entries.keys()],
    has: (name) => entries.has(name),
    info: (name) => {
      const e = entry(name);
      return { dtype: e.dtype, shape: [...e.shape] };
    },
    getTensor: (name, opts = {}) => {
      const e = entry(name);
      const where = `${path}: tensor '${name}'`;
      if (!['F32', 'F16', 'BF16', 'F64', 'I64', 'U64', 'I32', 'U32', 'I16', 'U16', 'I8', 'U8', 'BOOL'].includes(e.dtype)) {
        throw new Error(`${where}: dtype ${e.dtype} cannot be converted to float32`);
      }
      const nbytes = e.end - e.begin;
      const n = nbytes / ITEM_SIZE[e.dtype];
      const at = dataStart + e.begin;
      if (opts.map && e.dtype === 'F32' && endianness() === 'LE' && at % 4 === 0 && nbytes > 0) {
        const ab = mapFileRange(path, at, nbytes);
        if (ab) return { dtype: e.dtype, shape: [...e.shape], data: new Float32Array(ab), mapped: true };
      }
      const bytes = new Uint8Array(nbytes);
      withFile(path, (fd) => readRange(fd, at, bytes, where));
      return { dtype: e.dtype, shape: [...e.shape], data: convert(bytes, e.dtype, n, where) };
    },
    getTransposed: (name) => {
      const e = entry(name);
      const where = `${path}: tensor '${name}'`;
      if (e.shape.length !== 2) throw new Error(`${where}: expected a 2-D tensor, found shape [${e.shape}]`);
      const [R, C] = e.shape as [number, number];
      let t: { out: Float32Array; norms: Float64Array };
      if (e.dtype === 'F32' && endianness() === 'LE' && R > 0 && C > 0) {
        t = withFile(path, (fd) => transposeStreamed(R, C, (r0, into) => readRange(fd, dataStart + e.begin + r0 * C * 4, into, where)));
      } else {
        const bytes = new Uint8Array(e.end - e.begin);
        withFile(path, (fd) => readRange(fd, dataStart + e.begin, bytes, where));
        t = transposeWithRowNorms(convert(bytes, e.dtype, R * C, where), R, C);
      }
      return { dtype: 'F32', shape: [C, R], data: t.out, rowNorms: t.norms };
    },
  };
}

/** Fills `into` with the file's bytes from `offset`. */
function readRange(fd: number, offset: number, into: Uint8Array, where: string): void {
  if (readFully(fd, into, offset) < into.length) throw new Error(`${where}: file ended early (truncated while open?)`);
}

function withFile<T>(path: string, f: (fd: number) => T): T {
  const fd = openSync(path, 'r');
  try {
    return f(fd);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// sharded checkpoint

function openIndex(path: string): SafetensorsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read safetensors index (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let index: { metadata?: Record<string, unknown>; weight_map?: Record<string, unknown> };
  try {
    index = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const wm = index?.weight_map;
  if (!wm || typeof wm !== 'object' || Object.values(wm).some((v) => typeof v !== 'string')) {
    throw new Error(`${path}: missing or malformed "weight_map" (tensor name → shard file)`);
  }
  const weightMap = wm as Record<string, string>;
  const dir = dirname(path);
  const shards = new Map<string, SafetensorsFile>();
  // Open every shard now: headers are small, and a missing shard should fail at load, not later.
  for (const [name, shard] of Object.entries(weightMap)) {
    if (shards.has(shard)) continue;
    const shardPath = join(dir, shard);
    if (!existsSync(shardPath)) throw new Error(`${path}: shard file '${shard}' (holding tensor '${name}') not found`);
    shards.set(shard, openFile(shardPath));
  }
  const shardOf = (name: string): SafetensorsFile => {
    if (!Object.hasOwn(weightMap, name)) throw new Error(`${path}: no tensor '${name}'`);
    return shards.get(weightMap[name])!; // getTensor on the shard names the shard file if the tensor is absent there
  };
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(index.metadata ?? {})) metadata[k] = String(v);
  return {
    path,
    metadata,
    names: () => Object.keys(weightMap),
    has: (name) => Object.hasOwn(weightMap, name),
    info: (name) => shardOf(name).info(name),
    getTensor: (name, opts) => shardOf(name).getTensor(name, opts),
    getTransposed: (name) => shardOf(name).getTransposed(name),
  };
}

/**
 * Opens a `.safetensors` file, a `*.safetensors.index.json`, or a folder holding
 * `model.safetensors` or `model.safetensors.index.json`.
 */
export function readSafetensors(path: string): SafetensorsFile {
  if (existsSync(path) && statSync(path).isDirectory()) {
    const single = join(path, 'model.safetensors');
    const index = join(path, 'model.safetensors.index.json');
    if (existsSync(single)) return openFile(single);
    if (existsSync(index)) return openIndex(index);
    throw new Error(`${path}: folder has neither model.safetensors nor model.safetensors.index.json`);
  }
  return basename(path).endsWith('.json') ? openIndex(path) : openFile(path);
}

// ---------------------------------------------------------------------------------------------
// writer

export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
  dtype?: WritableDtype;
}

function encode(data: Float32Array, dtype: WritableDtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bits = new Uint16Array(data.length);
  const f = dtype === 'F16' ? floatToHalfBits : floatToBf16Bits;
  for (let i = 0; i < data.length; i++) bits[i] = f(data[i]);
  return new Uint8Array(bits.buffer);
}

/**
 * Writes a safetensors file (atomically, util/atomic-write.ts). The data area starts 8-byte
 * aligned and tensors are packed without gaps, wider dtypes first, as Python's safetensors
 * does: the reference reader rejects gaps, and this order keeps every tensor aligned to its
 * element size.
 */
export function writeSafetensors(path: string, tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): void {
  const names = Object.keys(tensors).sort((a, b) => {
    const sa = ITEM_SIZE[tensors[a].dtype ?? 'F32'];
    const sb = ITEM_SIZE[tensors[b].dtype ?? 'F32'];
    return sb - sa || (a < b ? -1 : a > b ? 1 : 0);
  });
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const dtype = t.dtype ?? 'F32';
    if (!(dtype in { F32: 1, F16: 1, BF16: 1 })) throw new Error(`${path}: tensor '${name}': cannot write dtype ${dtype}`);
    if (!t.shape.every(isDim)) throw new Error(`${path}: tensor '${name}': bad shape [${t.shape}]`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`${path}: tensor '${name}': shape [${t.shape}] needs ${n} values, data has ${t.data.length}`);
    const blob = encode(t.data, dtype);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + blob.byteLength] };
    blobs.push(blob);
    offset += blob.byteLength;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8; // spaces keep the JSON valid and the data 8-aligned
  if (pad) json = Buffer.concat([json, Buffer.from(' '.repeat(pad))]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));

  writeFileAtomic(path, [len, json, ...blobs]);
}
