/**
 * Writes a state_dict of float32 tensors as a file `torch.load` reads: the same zip layout,
 * pickle and alignment as `torch.save` (see torch-zip.ts). Used by our tests, the demo-model
 * trainer and the benchmark generator; it is the inverse of readTorchStateDict.
 *
 * The pickle follows what CPython's protocol-2 pickler emits for torch's state_dict (BINPUT
 * after each memoizable object, BINGET for repeated globals and strings), so the reader is
 * exercised on realistic bytes. `_metadata` (torch's per-module version info) is not written;
 * torch.load and load_state_dict do not need it.
 */
import { writeFileAtomic } from '../util/atomic-write';
import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';

export interface TensorIn {
  shape: readonly number[];
  data: Float32Array;
}

export interface TorchWriteOptions {
  /** Folder name inside the zip. torch uses the file's base name; we default to "archive". */
  archiveName?: string;
  /** Write zip64 records even when not needed (tests of the reader's zip64 path). */
  forceZip64?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Pickle (protocol 2)

class PickleWriter {
  private parts: number[] = [];
  private memo = new Map<string, number>();
  private n = 0;

  byte(...b: number[]) {
    this.parts.push(...b);
  }
  u32(v: number) {
    this.byte(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  put() {
    const i = this.n++;
    if (i < 256) this.byte(0x71, i); // BINPUT
    else this.byte(0x72), this.u32(i); // LONG_BINPUT
    return i;
  }
  get(i: number) {
    if (i < 256) this.byte(0x68, i); // BINGET
    else this.byte(0x6a), this.u32(i); // LONG_BINGET
  }
  /** Strings and globals are memoized by value, as CPython's pickler does by identity for interned ones. */
  private memoized(key: string, emit: () => void) {
    const hit = this.memo.get(key);
    if (hit !== undefined) return this.get(hit);
    emit();
    this.memo.set(key, this.put());
  }
  str(s: string) {
    this.memoized(`s:${s}`, () => {
      const b = new TextEncoder().encode(s);
      this.byte(0x58); // BINUNICODE
      this.u32(b.length);
      this.byte(...b);
    });
  }
  global(module: string, name: string) {
    this.memoized(`g:${module}.${name}`, () => {
      this.byte(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`)); // GLOBAL
    });
  }
  int(v: number) {
    if (!Number.isInteger(v)) throw new Error(`not an integer: ${v}`);
    if (v >= 0 && v < 256) this.byte(0x4b, v); // BININT1
    else if (v >= 0 && v < 65536) this.byte(0x4d, v & 0xff, v >> 8); // BININT2
    else if (v >= -(2 ** 31) && v < 2 ** 31) this.byte(0x4a), this.u32(v >>> 0); // BININT
    else {
      // LONG1: minimal little-endian two's complement
      let x = BigInt(v);
      const bytes: number[] = [];
      while (true) {
        bytes.push(Number(x & 0xffn));
        x >>= 8n;
        const signBit = (bytes[bytes.length - 1]! & 0x80) !== 0;
        if ((x === 0n && !signBit) || (x === -1n && signBit)) break;
      }
      this.byte(0x8a, bytes.length, ...bytes);
    }
  }
  /** A tuple of ints, the way CPython writes it (TUPLE1..3 or MARK … TUPLE, then BINPUT). */
  intTuple(vs: readonly number[]) {
    if (vs.length === 0) return this.byte(0x29); // EMPTY_TUPLE (not memoized)
    if (vs.length > 3) this.byte(0x28); // MARK
    for (const v of vs) this.int(v);
    this.byte(vs.length === 1 ? 0x85 : vs.length === 2 ? 0x86 : vs.length === 3 ? 0x87 : 0x74);
    this.put();
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function stateDictPickle(entries: [string, TensorIn][]): Uint8Array {
  const w = new PickleWriter();
  w.byte(0x80, 2); // PROTO 2
  w.global('collections', 'OrderedDict');
  w.byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE → OrderedDict()
  w.put();
  const setitems = entries.length > 1;
  if (setitems) w.byte(0x28); // MARK
  entries.forEach(([key, t], i) => {
    w.str(key);
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.byte(0x28); // MARK: args tuple
    // storage: persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
    w.byte(0x28);
    w.str('storage');
    w.global('torch', 'FloatStorage');
    w.str(String(i));
    w.str('cpu');
    w.int(t.data.length);
    w.byte(0x74); // TUPLE
    w.put();
    w.byte(0x51); // BINPERSID
    w.int(0); // storage offset
    w.intTuple(t.shape);
    w.intTuple(contiguousStrides(t.shape));
    w.byte(0x89); // NEWFALSE: requires_grad
    w.global('collections', 'OrderedDict'); // backward_hooks = OrderedDict()
    w.byte(0x29, 0x52);
    w.put();
    w.byte(0x74); // TUPLE
    w.put();
    w.byte(0x52); // REDUCE
    w.put();
    if (!setitems) w.byte(0x73); // SETITEM
  });
  if (setitems) w.byte(0x75); // SETITEMS (CPython batches by 1000; one batch reads the same)
  w.byte(0x2e); // STOP
  return w.bytes();
}

function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) (s[i] = acc), (acc *= shape[i]!);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Zip (stored entries, data 64-byte aligned like torch's writer)

interface OutEntry {
  name: Uint8Array;
  data: Uint8Array;
  crc: number;
  offset: number;
}

const ALIGN = 64;

function le(n: number, bytes: number): number[] {
  const out: number[] = [];
  let x = BigInt(n);
  for (let i = 0; i < bytes; i++) (out.push(Number(x & 0xffn))), (x >>= 8n);
  return out;
}

/** The zip as a list of chunks; tensor data chunks are views, not copies. */
export function zipChunks(files: [string, Uint8Array][], forceZip64 = false): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const entries: OutEntry[] = [];
  let pos = 0;
  const push = (c: Uint8Array) => {
    chunks.push(c);
    pos += c.length;
  };
  for (const [name, data] of files) {
    const nameBytes = new TextEncoder().encode(name);
    const offset = pos;
    // Local header + 'FB' padding extra field so that the data starts on a 64-byte boundary.
    const fixed = 30 + nameBytes.length + 4;
    const pad = (ALIGN - ((offset + fixed) % ALIGN)) % ALIGN;
    const crc = crc32(data) >>> 0;
    const h = [
      ...le(0x04034b50, 4), ...le(forceZip64 ? 45 : 20, 2), ...le(0, 2), ...le(0, 2), ...le(0, 2), ...le(0x21, 2),
      ...le(crc, 4), ...le(data.length, 4), ...le(data.length, 4), ...le(nameBytes.length, 2), ...le(4 + pad, 2),
      ...nameBytes, 0x46, 0x42, ...le(pad, 2), ...new Array<number>(pad).fill(0x5a),
    ];
    if (data.length >= 0xffffffff) throw new Error(`zip entry ${name} is 4 GB or larger, which this writer does not support`);
    push(Uint8Array.from(h));
    push(data);
    entries.push({ name: nameBytes, data, crc, offset });
  }
  const cdStart = pos;
  for (const e of entries) {
    const big = forceZip64 || e.offset >= 0xffffffff;
    const extra = big ? [...le(1, 2), ...le(8, 2), ...le(e.offset, 8)] : [];
    push(
      Uint8Array.from([
        ...le(0x02014b50, 4), ...le(big ? 45 : 20, 2), ...le(big ? 45 : 20, 2), ...le(0, 2), ...le(0, 2), ...le(0, 2),
        ...le(0x21, 2), ...le(e.crc, 4), ...le(e.data.length, 4), ...le(e.data.length, 4), ...le(e.name.length, 2),
        ...le(extra.length, 2), ...le(0, 2), ...le(0, 2), ...le(0, 2), ...le(0, 4), ...le(big ? 0xffffffff : e.offset, 4),
        ...e.name, ...extra,
      ]),
    );
  }
  const cdSize = pos - cdStart;
  const zip64 = forceZip64 || cdStart >= 0xffffffff || entries.length >= 0xffff;
  if (zip64) {
    const rec = pos;
    push(
      Uint8Array.from([
        ...le(0x06064b50, 4), ...le(44, 8), ...le(45, 2), ...le(45, 2), ...le(0, 4), ...le(0, 4),
        ...le(entries.length, 8), ...le(entries.length, 8), ...le(cdSize, 8), ...le(cdStart, 8),
      ]),
    );
    push(Uint8Array.from([...le(0x07064b50, 4), ...le(0, 4), ...le(rec, 8), ...le(1, 4)]));
  }
  const sat = (v: number, max: number) => (zip64 ? max : v);
  push(
    Uint8Array.from([
      ...le(0x06054b50, 4), ...le(0, 2), ...le(0, 2), ...le(sat(entries.length, 0xffff), 2), ...le(sat(entries.length, 0xffff), 2),
      ...le(sat(cdSize, 0xffffffff), 4), ...le(sat(cdStart, 0xffffffff), 4), ...le(0, 2),
    ]),
  );
  return chunks;
}

function normalize(tensors: Map<string, TensorIn> | Record<string, TensorIn>): [string, TensorIn][] {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [k, t] of list) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`tensor '${k}': shape [${t.shape}] needs ${n} values, has ${t.data.length}`);
  }
  return list;
}

function torchChunks(tensors: Map<string, TensorIn> | Record<string, TensorIn>, opts: TorchWriteOptions): Uint8Array[] {
  // Raw float32 bytes are written as the platform lays them out; torch files say "little".
  if (endianness() !== 'LE') throw new Error('writing torch files needs a little-endian machine');
  const list = normalize(tensors);
  const prefix = `${opts.archiveName ?? 'archive'}/`;
  const enc = new TextEncoder();
  const files: [string, Uint8Array][] = [
    [`${prefix}data.pkl`, stateDictPickle(list)],
    [`${prefix}byteorder`, enc.encode('little')],
    ...list.map(([, t], i): [string, Uint8Array] => [`${prefix}data/${i}`, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]),
    [`${prefix}version`, enc.encode('3\n')],
  ];
  return zipChunks(files, opts.forceZip64);
}

/** The bytes of a torch.save file holding this state_dict (float32 tensors, in the given order). */
export function torchSaveBytes(tensors: Map<string, TensorIn> | Record<string, TensorIn>, opts: TorchWriteOptions = {}): Uint8Array {
  const chunks = torchChunks(tensors, opts);
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let p = 0;
  for (const c of chunks) out.set(c, p), (p += c.length);
  return out;
}

/** Writes the file atomically (util/atomic-write.ts), so a crash never leaves half a file. */
export function writeTorchFile(path: string, tensors: Map<string, TensorIn> | Record<string, TensorIn>, opts: TorchWriteOptions = {}): void {
  writeFileAtomic(path, torchChunks(tensors, opts));
}
