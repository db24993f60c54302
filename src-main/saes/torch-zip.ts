/**
 * Reads PyTorch `torch.save` files (the zip format of torch ≥ 1.6):
 *
 *   <prefix>/data.pkl        pickle (protocol 2) of the saved object; tensors are
 *                            torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)
 *                            with storages as persistent ids ('storage', torch.FloatStorage, key, location, numel)
 *   <prefix>/data/<key>      raw little-endian storage bytes, stored (not deflated), 64-byte aligned
 *   <prefix>/byteorder       "little" (absent in older files: little)
 *   <prefix>/version         "3\n"
 *
 * The file is read through a file descriptor: the central directory first, then each storage
 * straight into its own buffer, which becomes the tensor's Float32Array. So a 134 MB dictionary
 * costs 134 MB, never two copies, and files past 2 GB (zip64) work too. When reading from an
 * in-memory buffer, aligned float32 storages are views on it (no copy).
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import { isPyGlobal, pyGlobal, type PyGlobal, unpickle } from './pickle';
import { transposeStreamed, transposeWithRowNorms } from '../engine/transpose';
import { mapFileRange } from '../engine/native-kernels';
import { readFully } from '../util/read-fully';

// ---------------------------------------------------------------------------------------------
// Byte sources

export interface ByteSource {
  /** For messages. */
  readonly name: string;
  readonly size: number;
  /** Bytes [offset, offset+length). Buffer sources return a view; file sources a fresh buffer. */
  read(offset: number, length: number): Uint8Array;
  /** Fills `target` with the bytes from `offset` (for streaming reads into a reused buffer). */
  readInto(offset: number, target: Uint8Array): void;
  /**
   * Bytes [offset, offset+length) mapped from the file rather than read (copy-on-write, so the
   * file is never changed), or null where mapping is unavailable. Only file sources map.
   */
  mapRange?(offset: number, length: number): Uint8Array | null;
  close(): void;
}

export function bufferSource(bytes: Uint8Array, name: string): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    read(offset, length) {
      if (offset < 0 || offset + length > bytes.byteLength) throw new Error(`${name}: file truncated (wanted bytes ${offset}..${offset + length} of ${bytes.byteLength})`);
      return bytes.subarray(offset, offset + length);
    },
    readInto(offset, target) {
      target.set(this.read(offset, target.length));
    },
    close() {},
  };
}

/** `map`: let mapRange map weights (native addon; default true). */
export function fileSource(path: string, { map = true }: { map?: boolean } = {}): ByteSource {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`${path}: cannot open (${(e as Error).message})`);
  }
  const size = fstatSync(fd).size;
  return {
    name: path,
    size,
    read(offset, length) {
      // Own ArrayBuffer (byteOffset 0), so float32 data read here is always aligned. Not
      // zero-filled: every byte is read over.
      const out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
      this.readInto(offset, out);
      return out;
    },
    readInto(offset, target) {
      const length = target.length;
      if (offset < 0 || offset + length > size) throw new Error(`${path}: file truncated (wanted bytes ${offset}..${offset + length} of ${size})`);
      if (readFully(fd, target, offset) < length) throw new Error(`${path}: file truncated while reading`);
    },
    mapRange(offset, length) {
      const ab = map ? mapFileRange(path, offset, length) : null;
      return ab ? new Uint8Array(ab) : null;
    },
    close() {
      closeSync(fd);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Zip

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localHeaderOffset: number;
}

export interface ZipArchive {
  source: ByteSource;
  entries: Map<string, ZipEntry>;
  /** Entry names in central-directory order. */
  order: string[];
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(v: DataView, at: number, what: string): number {
  const x = v.getBigUint64(at, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what}: zip64 value too large`);
  return Number(x);
}

/** Parses the end-of-central-directory record (and its zip64 twin) and the central directory. */
export function openZip(source: ByteSource): ZipArchive {
  const name = source.name;
  const notZip = (why: string) => new Error(`${name}: not a zip archive (${why})`);
  if (source.size < 22) throw notZip(`only ${source.size} bytes`);
  // The EOCD record is the last 22 bytes plus an optional comment of up to 65535 bytes.
  const tailLen = Math.min(source.size, 22 + 0xffff);
  const tailStart = source.size - tailLen;
  const tail = source.read(tailStart, tailLen);
  const tv = dv(tail);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    const head = source.read(0, Math.min(source.size, 4));
    if (dv(head).getUint32(0, true) === SIG_LOCAL) throw new Error(`${name}: zip archive is truncated (no end-of-central-directory record)`);
    if (head[0] === 0x80 && head[1] === 0x02) {
      throw notZip('it looks like the legacy torch.save format of torch < 1.6, which is not supported; re-save it with a newer torch');
    }
    throw notZip('no end-of-central-directory record');
  }
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  // zip64: a locator sits right before the EOCD. torch (miniz with WRITE_ZIP64) always writes one.
  const locAbs = tailStart + eocd - 20;
  if (locAbs >= 0) {
    const loc = dv(source.read(locAbs, 20));
    if (loc.getUint32(0, true) === SIG_EOCD64_LOCATOR) {
      const rec64At = u64(loc, 8, name);
      if (rec64At + 56 > source.size) throw new Error(`${name}: zip archive is truncated or corrupt (bad zip64 locator)`);
      const r = dv(source.read(rec64At, 56));
      if (r.getUint32(0, true) !== SIG_EOCD64) throw new Error(`${name}: corrupt zip archive (zip64 end-of-central-directory record not found)`);
      count = u64(r, 32, name);
      cdSize = u64(r, 40, name);
      cdOffset = u64(r, 48, name);
    }
  }
  if (cdOffset + cdSize > source.size) throw new Error(`${name}: zip archive is truncated (central directory at ${cdOffset}+${cdSize}, file has ${source.size} bytes)`);
  const cd = source.read(cdOffset, cdSize);
  const cv = dv(cd);
  const dec = new TextDecoder('utf-8');
  const entries = new Map<string, ZipEntry>();
  const order: string[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cv.getUint32(p, true) !== SIG_CENTRAL) throw new Error(`${name}: corrupt zip archive (central directory entry ${i} is damaged)`);
    const flags = cv.getUint16(p + 8, true);
    const method = cv.getUint16(p + 10, true);
    const crc = cv.getUint32(p + 16, true);
    let compressedSize = cv.getUint32(p + 20, true);
    let size = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    let localHeaderOffset = cv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new Error(`${name}: corrupt zip archive (central directory entry ${i} overruns)`);
    const entryName = dec.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: present fields follow in a fixed order, only for those
    // whose 32-bit slot is saturated.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cv.getUint16(e, true);
      const len = cv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) (size = u64(cv, q, name)), (q += 8);
        if (compressedSize === 0xffffffff) (compressedSize = u64(cv, q, name)), (q += 8);
        if (localHeaderOffset === 0xffffffff) (localHeaderOffset = u64(cv, q, name)), (q += 8);
      }
      e += 4 + len;
    }
    if (flags & 1) throw new Error(`${name}: zip entry ${entryName} is encrypted`);
    entries.set(entryName, { name: entryName, method, compressedSize, size, crc, localHeaderOffset });
    order.push(entryName);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return { source, entries, order };
}

/** Where the entry's data starts: after its local header (whose extra field may differ from the central one). */
export function entryDataOffset(zip: ZipArchive, entry: ZipEntry): number {
  const at = entry.localHeaderOffset;
  if (at + 30 > zip.source.size) throw new Error(`${zip.source.name}: zip archive is truncated (entry ${entry.name})`);
  const h = dv(zip.source.read(at, 30));
  if (h.getUint32(0, true) !== SIG_LOCAL) throw new Error(`${zip.source.name}: corrupt zip archive (no local header for ${entry.name})`);
  const start = at + 30 + h.getUint16(26, true) + h.getUint16(28, true);
  if (start + entry.compressedSize > zip.source.size) {
    throw new Error(`${zip.source.name}: zip archive is truncated (entry ${entry.name} needs bytes up to ${start + entry.compressedSize}, file has ${zip.source.size})`);
  }
  return start;
}

/** The entry's uncompressed bytes. Stored entries come straight from the source. */
export function readEntry(zip: ZipArchive, entry: ZipEntry, verifyCrc = true): Uint8Array {
  const where = `${zip.source.name}: ${entry.name}`;
  const start = entryDataOffset(zip, entry);
  const raw = zip.source.read(start, entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) data = raw;
  else if (entry.method === 8) {
    try {
      data = inflateRawSync(raw);
    } catch (e) {
      throw new Error(`${where}: corrupt deflate data (${(e as Error).message})`);
    }
  } else throw new Error(`${where}: unsupported zip compression method ${entry.method}`);
  if (data.length !== entry.size) throw new Error(`${where}: size ${data.length}, central directory says ${entry.size}`);
  if (verifyCrc && crc32(data) >>> 0 !== entry.crc) throw new Error(`${where}: CRC mismatch (file is corrupt)`);
  return data;
}

// ---------------------------------------------------------------------------------------------
// torch.save

export type TorchDtype = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** One tensor, converted to float32 (same shape as the safetensors reader's tensors). */
export interface TorchTensor {
  /** The dtype stored in the file; `data` is always float32. */
  dtype: TorchDtype;
  shape: number[];
  data: Float32Array;
  /** For tensors read with `transposed`: the Euclidean norm of each row of `data` (float64). */
  rowNorms?: Float64Array;
}

export interface TorchLoadOptions {
  /** Extra allow-listed globals (`module.name`) for objects other than state_dicts. */
  globals?: Iterable<PyGlobal>;
  /** Verify entries' CRC-32 (native zlib, ~60 ms for a 134 MB dictionary). Default true. */
  verifyCrc?: boolean;
  /**
   * Only verify storages up to this many bytes (the pickle and small tensors are always
   * checked). Default DEFAULT_CRC_LIMIT; Infinity (or SFC_VERIFY_CRC=1) checks everything.
   */
  crcLimit?: number;
  /**
   * State-dict keys of 2-D tensors to return transposed (shape [C, R] for a stored [R, C]), with
   * their row norms. Float32 storages are streamed through a small buffer straight into the
   * transposed array, so the stored layout is never held in memory (readTorchStateDict only).
   */
  transposed?: readonly string[];
  /**
   * Map large float32 storages from the file instead of reading them (default true; needs the
   * native addon, and a runtime that allows external buffers: not Electron). Only where CRCs
   * are not checked anyway (above crcLimit), so the same bytes are trusted either way.
   */
  map?: boolean;
}

/**
 * Weight storages above this size are not CRC-checked on load, as torch.load does not check
 * them either: for 19 Pythia-70M dictionaries the checks cost ~1.2 s of CPU, a third of
 * loading. Sizes, shapes and decoder norms are still checked, and a truncated file still fails.
 */
export const DEFAULT_CRC_LIMIT = 16 * 2 ** 20;

function defaultCrcLimit(): number {
  return process.env.SFC_VERIFY_CRC === '1' ? Infinity : DEFAULT_CRC_LIMIT;
}

const STORAGE_DTYPES: Record<string, [TorchDtype, number]> = {
  FloatStorage: ['float32', 4],
  HalfStorage: ['float16', 2],
  BFloat16Storage: ['bfloat16', 2],
  DoubleStorage: ['float64', 8],
  LongStorage: ['int64', 8],
  IntStorage: ['int32', 4],
  ShortStorage: ['int16', 2],
  CharStorage: ['int8', 1],
  ByteStorage: ['uint8', 1],
  BoolStorage: ['bool', 1],
};

/** A storage as the pickle names it; `load` reads its bytes on first use. */
interface Storage {
  dtype: TorchDtype;
  numel: number;
  load(): Float32Array;
  /** For streaming reads: the zip, the entry, the file's byte order. */
  zip: ZipArchive;
  entry: ZipEntry;
  bigEndian: boolean;
  verifyCrc: boolean;
}

const TENSOR = Symbol('torch-tensor');
function isTensor(v: unknown): v is TorchTensor {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[TENSOR] === true;
}

export function isTorchTensor(v: unknown): v is TorchTensor {
  return isTensor(v);
}

/** IEEE half → float32 via the bit patterns (subnormals, inf and NaN included). */
export function halfToFloat32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const man = h & 0x3ff;
    if (exp === 0) out[i] = (sign ? -1 : 1) * man * 2 ** -24; // zero / subnormal
    else if (exp === 31) bits[i] = sign | 0x7f800000 | (man << 13);
    else bits[i] = sign | ((exp + 112) << 23) | (man << 13);
  }
  return out;
}

function storageToFloat32(bytes: Uint8Array, dtype: TorchDtype, numel: number, bigEndian: boolean): Float32Array {
  const elSize = Object.values(STORAGE_DTYPES).find(([d]) => d === dtype)![1];
  let b = bytes;
  if (bigEndian && elSize > 1) {
    b = Uint8Array.from(bytes); // swap on a copy: the source may be a view on someone's buffer
    for (let i = 0; i < b.length; i += elSize) b.subarray(i, i + elSize).reverse();
  }
  if (dtype === 'float32') {
    if (b.byteOffset % 4 === 0) return new Float32Array(b.buffer, b.byteOffset, numel);
    return new Float32Array(Uint8Array.from(b.subarray(0, numel * 4)).buffer);
  }
  const aligned = b.byteOffset % elSize === 0 ? b : Uint8Array.from(b);
  const buf = aligned.buffer;
  const off = aligned.byteOffset;
  switch (dtype) {
    case 'float16':
      return halfToFloat32(new Uint16Array(buf, off, numel));
    case 'bfloat16': {
      // bfloat16 is the top half of a float32.
      const src = new Uint16Array(buf, off, numel);
      const out = new Float32Array(numel);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < numel; i++) bits[i] = src[i]! << 16;
      return out;
    }
    case 'float64':
      return Float32Array.from(new Float64Array(buf, off, numel));
    case 'int64':
      return Float32Array.from(new BigInt64Array(buf, off, numel), (v) => Number(v));
    case 'int32':
      return Float32Array.from(new Int32Array(buf, off, numel));
    case 'int16':
      return Float32Array.from(new Int16Array(buf, off, numel));
    case 'int8':
      return Float32Array.from(new Int8Array(buf, off, numel));
    default:
      return Float32Array.from(new Uint8Array(buf, off, numel));
  }
}

/** A tensor whose data is read from its storage on first access. */
interface LazyTensor extends TorchTensor {
  storage: Storage;
  offset: number;
  strides: number[];
}

function rebuildTensor(storage: unknown, offset: unknown, size: unknown, stride: unknown): TorchTensor {
  const s = storage as Storage;
  if (!s || typeof s.load !== 'function') throw new Error('first argument is not a storage');
  if (typeof offset !== 'number' || !Array.isArray(size) || !Array.isArray(stride) || size.length !== stride.length) {
    throw new Error('bad (offset, size, stride) arguments');
  }
  const shape = size as number[];
  const strides = stride as number[];
  const numel = shape.reduce((a, b) => a * b, 1);
  let last = offset;
  for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * strides[i]!;
  if (numel > 0 && (offset < 0 || last >= s.numel)) throw new Error(`tensor of shape [${shape}] runs past its storage of ${s.numel} elements`);
  let data: Float32Array | null = null;
  const t = { dtype: s.dtype, shape: [...shape], [TENSOR]: true } as unknown as LazyTensor;
  Object.defineProperty(t, 'data', {
    enumerable: true,
    get: () => (data ??= tensorData(s.load(), offset, shape, strides)),
  });
  for (const [k, v] of [['storage', s], ['offset', offset], ['strides', strides]] as const) Object.defineProperty(t, k, { value: v, enumerable: false });
  return t;
}

function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  for (let i = shape.length - 1, expect = 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expect) return false;
    expect *= shape[i]!;
  }
  return true;
}

function tensorData(all: Float32Array, offset: number, shape: number[], strides: number[]): Float32Array {
  const numel = shape.reduce((a, b) => a * b, 1);
  if (isContiguous(shape, strides)) return all.subarray(offset, offset + numel); // a view, no copy
  // Strided (e.g. a saved transpose): gather into a fresh row-major buffer.
  const data = new Float32Array(numel);
  const idx = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < numel; n++) {
    let src = offset;
    for (let k = 0; k < shape.length; k++) src += idx[k]! * strides[k]!;
    data[n] = all[src]!;
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return data;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * A 2-D tensor [R, C] as its transpose [C, R] plus the row norms of the result. Contiguous
 * little-endian float32 in a stored (not deflated) entry is streamed in bands of stored rows
 * through one small buffer; anything else is read whole and transposed.
 */
function readTransposed(t: LazyTensor, where: string): TorchTensor {
  if (t.shape.length !== 2) throw new Error(`${where}: expected a 2-D tensor, found shape [${t.shape}]`);
  const [R, C] = t.shape as [number, number];
  const s = t.storage;
  const streamable = s.dtype === 'float32' && !s.bigEndian && LITTLE_ENDIAN_HOST && s.entry.method === 0 && !s.verifyCrc && isContiguous(t.shape, t.strides);
  let result: { out: Float32Array; norms: Float64Array };
  if (streamable) {
    const start = entryDataOffset(s.zip, s.entry) + t.offset * 4;
    result = transposeStreamed(R, C, (r0, into) => s.zip.source.readInto(start + r0 * C * 4, into));
  } else result = transposeWithRowNorms(t.data, R, C);
  return { dtype: t.dtype, shape: [C, R], data: result.out, rowNorms: result.norms, [TENSOR]: true } as TorchTensor;
}

/**
 * A stored little-endian float32 entry mapped from its file (see ByteSource.mapRange), so the
 * weights are used where the page cache already holds them: no read, no fresh memory to fault
 * in, no second copy. Null when it cannot be (the caller reads the bytes instead).
 */
function mappedEntry(zip: ZipArchive, entry: ZipEntry, dtype: TorchDtype, bigEndian: boolean, verifyCrc: boolean): Uint8Array | null {
  if (entry.method !== 0 || verifyCrc || dtype !== 'float32' || bigEndian || !LITTLE_ENDIAN_HOST || !zip.source.mapRange) return null;
  return zip.source.mapRange(entryDataOffset(zip, entry), entry.size);
}

function torchGlobals(extra: Iterable<PyGlobal> = []): Map<string, PyGlobal> {
  const list: PyGlobal[] = [
    // OrderedDict() with no args; its items arrive by SETITEMS, its _metadata by BUILD.
    pyGlobal('collections', 'OrderedDict', () => new Map()),
    pyGlobal('torch._utils', '_rebuild_tensor_v2', (a) => rebuildTensor(a[0], a[1], a[2], a[3])),
    pyGlobal('torch._utils', '_rebuild_tensor', (a) => rebuildTensor(a[0], a[1], a[2], a[3])),
    // nn.Parameter (only when state_dict(keep_vars=True) was saved): the data is what we want.
    pyGlobal('torch._utils', '_rebuild_parameter', (a) => a[0]),
    pyGlobal('torch._utils', '_rebuild_parameter_with_state', (a) => a[0]),
    ...Object.keys(STORAGE_DTYPES).map((n) => pyGlobal('torch', n)),
    ...extra,
  ];
  return new Map(list.map((g) => [`${g.module}.${g.name}`, g]));
}

/** Loads the object a torch.save file holds, with tensors as TorchTensor (all read). */
export function loadTorchObject(source: ByteSource, opts: TorchLoadOptions = {}): unknown {
  const obj = loadTorchObjectLazy(source, opts);
  materialize(obj, new Set());
  return obj;
}

/** Reads every tensor reachable from obj while the source is open. */
function materialize(obj: unknown, seen: Set<unknown>): void {
  if (typeof obj !== 'object' || obj === null || seen.has(obj)) return;
  seen.add(obj);
  if (isTensor(obj)) {
    void obj.data;
    return;
  }
  const values = obj instanceof Map ? obj.values() : Array.isArray(obj) ? obj.values() : Object.values(obj);
  for (const v of values) materialize(v, seen);
}

/** The unpickled object; tensors read their storage when first touched. */
function loadTorchObjectLazy(source: ByteSource, opts: TorchLoadOptions): unknown {
  const zip = openZip(source);
  const file = source.name;
  const verify = opts.verifyCrc ?? true;
  const pklName = zip.order.find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pklName) throw new Error(`${file}: not a torch.save file (the zip archive has no data.pkl; entries: ${zip.order.slice(0, 5).join(', ')}${zip.order.length > 5 ? ', …' : ''})`);
  const prefix = pklName.slice(0, pklName.length - 'data.pkl'.length);
  const byteorderEntry = zip.entries.get(`${prefix}byteorder`);
  let bigEndian = false;
  if (byteorderEntry) {
    const bo = new TextDecoder().decode(readEntry(zip, byteorderEntry, verify)).trim();
    if (bo !== 'little' && bo !== 'big') throw new Error(`${file}: unknown byteorder '${bo}'`);
    bigEndian = bo === 'big';
  }
  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new Error(`unsupported persistent id ${JSON.stringify(pid)}`);
    const [, type, key, , numel] = pid as [string, unknown, unknown, unknown, unknown];
    if (!isPyGlobal(type) || !(type.name in STORAGE_DTYPES)) throw new Error(`unsupported storage type ${isPyGlobal(type) ? `${type.module}.${type.name}` : String(type)}`);
    if (typeof key !== 'string' || typeof numel !== 'number') throw new Error('bad storage persistent id');
    const cached = storages.get(key);
    if (cached) return cached;
    const [dtype, elSize] = STORAGE_DTYPES[type.name]!;
    const entryName = `${prefix}data/${key}`;
    const entry = zip.entries.get(entryName);
    if (!entry) throw new Error(`storage entry ${entryName} is missing from the archive`);
    if (entry.size < numel * elSize) throw new Error(`storage ${entryName} has ${entry.size} bytes, needs ${numel * elSize} (${numel} × ${dtype})`);
    const verifyCrc = verify && entry.size <= (opts.crcLimit ?? defaultCrcLimit());
    let data: Float32Array | null = null;
    const storage: Storage = {
      dtype,
      numel,
      load: () => (data ??= storageToFloat32(mappedEntry(zip, entry, dtype, bigEndian, verifyCrc) ?? readEntry(zip, entry, verifyCrc), dtype, numel, bigEndian)),
      zip,
      entry,
      bigEndian,
      verifyCrc,
    };
    storages.set(key, storage);
    return storage;
  };
  const pklEntry = zip.entries.get(pklName)!;
  return unpickle(readEntry(zip, pklEntry, verify), {
    what: `${file}: ${pklName}`,
    globals: torchGlobals(opts.globals),
    persistentLoad,
  });
}

/** Reads a saved state_dict (a dict of tensors), keyed in file order. */
export function readTorchStateDict(source: ByteSource | string, opts: TorchLoadOptions = {}): Map<string, TorchTensor> {
  const src = typeof source === 'string' ? fileSource(source, { map: opts.map ?? true }) : source;
  try {
    const obj = loadTorchObjectLazy(src, opts);
    if (!(obj instanceof Map)) throw new Error(`${src.name}: expected a state_dict (a dict of tensors), found ${Array.isArray(obj) ? 'a list/tuple' : typeof obj}`);
    for (const [k, v] of obj) {
      if (typeof k !== 'string') throw new Error(`${src.name}: state_dict key ${String(k)} is not a string`);
      if (!isTensor(v)) throw new Error(`${src.name}: state_dict entry '${k}' is not a tensor`);
    }
    const transposed = new Set(opts.transposed ?? []);
    for (const [k, v] of obj as Map<string, LazyTensor>) {
      if (transposed.has(k)) obj.set(k, readTransposed(v, `${src.name}: '${k}'`));
      else void v.data;
    }
    // The unpickled OrderedDict itself, so pyState still finds its _metadata.
    return obj as Map<string, TorchTensor>;
  } finally {
    src.close();
  }
}

/**
 * Keys, dtypes and shapes of a saved state_dict, from its pickle alone: no storage is read, so
 * describing a 134 MB dictionary costs a few kB of I/O (`sfc inspect`, shapes at registration).
 */
export function readTorchShapes(path: string): Map<string, { dtype: TorchDtype; shape: number[] }> {
  const src = fileSource(path, { map: false });
  try {
    const obj = loadTorchObjectLazy(src, {});
    if (!(obj instanceof Map)) throw new Error(`${path}: expected a state_dict (a dict of tensors), found ${Array.isArray(obj) ? 'a list/tuple' : typeof obj}`);
    const out = new Map<string, { dtype: TorchDtype; shape: number[] }>();
    for (const [k, v] of obj) {
      if (typeof k !== 'string' || !isTensor(v)) throw new Error(`${path}: state_dict entry '${String(k)}' is not a tensor`);
      out.set(k, { dtype: v.dtype, shape: [...v.shape] });
    }
    return out;
  } finally {
    src.close();
  }
}

/** Convenience: state_dict of a torch.save file on disk. */
export function readTorchFile(path: string, opts: TorchLoadOptions = {}): Map<string, TorchTensor> {
  return readTorchStateDict(path, opts);
}
