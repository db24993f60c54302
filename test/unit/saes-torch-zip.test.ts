import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pyState } from '../../src-main/saes/pickle';
import { type ByteSource, bufferSource, entryDataOffset, fileSource, halfToFloat32, openZip, readTorchFile, readTorchStateDict } from '../../src-main/saes/torch-zip';
import { canMapFiles } from '../../src-main/engine/native-kernels';
import { torchSaveBytes, writeTorchFile } from '../../src-main/saes/write-torch';
import { cleanupTempDirs, buildZip, tempDir } from '../helpers/saes-fixtures';

afterAll(cleanupTempDirs);

const s = (str: string) => [...Buffer.from(str, 'latin1')];
const u32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
const f32bytes = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);
/** Bitwise equality of float arrays (vitest's deep equality is slow on 200k elements). */
const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/**
 * data.pkl of `torch.save(OrderedDict(bias=torch.tensor([1., 2., 3.])))`, written out by hand from
 * the pickle spec in the order CPython's protocol-2 pickler emits it for torch:
 * OrderedDict.__reduce__ → (OrderedDict, (), {'_metadata': ...}, None, items), the tensor's
 * __reduce_ex__ → _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks) and
 * the storage as persistent id ('storage', torch.FloatStorage, '0', 'cpu', numel).
 */
const TORCH_BIAS_PKL = Uint8Array.from([
  0x80, 0x02, //                                   PROTO 2
  0x63, ...s('collections\nOrderedDict\n'), //     GLOBAL collections.OrderedDict
  0x71, 0, //                                      BINPUT 0
  0x29, //                                         EMPTY_TUPLE
  0x52, //                                         REDUCE → OrderedDict()
  0x71, 1, //                                      BINPUT 1
  0x58, ...u32(4), ...s('bias'), 0x71, 2, //       BINUNICODE 'bias', BINPUT 2
  0x63, ...s('torch._utils\n_rebuild_tensor_v2\n'), 0x71, 3, // GLOBAL, BINPUT 3
  0x28, //                                         MARK (arguments of _rebuild_tensor_v2)
  0x28, //                                           MARK (persistent id tuple)
  0x58, ...u32(7), ...s('storage'), 0x71, 4, //        'storage'
  0x63, ...s('torch\nFloatStorage\n'), 0x71, 5, //     GLOBAL torch.FloatStorage
  0x58, ...u32(1), ...s('0'), 0x71, 6, //              key '0' → archive/data/0
  0x58, ...u32(3), ...s('cpu'), 0x71, 7, //            location 'cpu'
  0x4b, 3, //                                          BININT1 3 (numel)
  0x74, 0x71, 8, //                                  TUPLE, BINPUT 8
  0x51, //                                           BINPERSID → the storage
  0x4b, 0, //                                        storage_offset 0
  0x4b, 3, 0x85, 0x71, 9, //                         size (3,): BININT1 3, TUPLE1, BINPUT 9
  0x4b, 1, 0x85, 0x71, 10, //                        stride (1,)
  0x89, //                                           requires_grad: NEWFALSE
  0x68, 0, 0x29, 0x52, 0x71, 11, //                  backward_hooks: BINGET 0 (OrderedDict), EMPTY_TUPLE, REDUCE
  0x74, 0x71, 12, //                               TUPLE (the 6 arguments), BINPUT 12
  0x52, 0x71, 13, //                               REDUCE → tensor, BINPUT 13
  0x73, //                                         SETITEM: sd['bias'] = tensor
  0x7d, 0x71, 14, //                               EMPTY_DICT: the state for BUILD
  0x58, ...u32(9), ...s('_metadata'), 0x71, 15, // '_metadata'
  0x68, 0, 0x29, 0x52, 0x71, 16, //                OrderedDict()
  0x58, ...u32(0), 0x71, 17, //                    ''
  0x7d, 0x71, 18, //                               {}
  0x58, ...u32(7), ...s('version'), 0x71, 19, //   'version'
  0x4b, 1, //                                      1
  0x73, 0x73, 0x73, //                             SETITEM ×3: {'version': 1}, ''→…, '_metadata'→…
  0x62, //                                         BUILD: sd.__setstate__(state)
  0x2e, //                                         STOP
]);

/** The same bytes as CPython 3's pickle.Pickler(protocol=2) produced them (checked by hand). */
const CPYTHON_HEX =
  '800263636f6c6c656374696f6e730a4f726465726564446963740a710029527101580400000062696173710263746f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a71032828580700000073746f72616765710463746f7263680a466c6f617453746f726167650a71055801000000307106580300000063707571074b03747108514b004b038571094b0185710a8968002952710b74710c52710d737d710e58090000005f6d65746164617461710f680029527110580000000071117d7112580700000076657273696f6e71134b01737373622e';

/** A one-tensor data.pkl with a chosen storage type, size, stride and offset (same opcodes as above). */
function tensorPkl(o: { storage: string; numel: number; offset?: number; size: number[]; stride: number[]; key?: string }): Uint8Array {
  const tuple = (xs: number[]) => [0x28, ...xs.flatMap((x) => [0x4b, x]), 0x74];
  return Uint8Array.from([
    0x80, 0x02, 0x63, ...s('collections\nOrderedDict\n'), 0x29, 0x52,
    0x58, ...u32(1), ...s('w'),
    0x63, ...s('torch._utils\n_rebuild_tensor_v2\n'),
    0x28, 0x28, 0x58, ...u32(7), ...s('storage'), 0x63, ...s(`torch\n${o.storage}\n`),
    0x58, ...u32((o.key ?? '0').length), ...s(o.key ?? '0'), 0x58, ...u32(3), ...s('cpu'), 0x4b, o.numel, 0x74, 0x51,
    0x4b, o.offset ?? 0, ...tuple(o.size), ...tuple(o.stride), 0x89, 0x29, 0x74, 0x52,
    0x73, 0x2e,
  ]);
}

const archive = (pkl: Uint8Array, data: Record<string, Uint8Array>, extra: [string, Uint8Array][] = []) =>
  buildZip([['ae/data.pkl', pkl], ...Object.entries(data).map(([k, v]): [string, Uint8Array] => [`ae/data/${k}`, v]), ['ae/version', Buffer.from('3\n')], ...extra]);

const read = (bytes: Uint8Array, name = 'dicts/embed/10_32768/ae.pt') => readTorchStateDict(bufferSource(bytes, name));

describe('torch.save reader on hand-built bytes', () => {
  it('the hand-written data.pkl matches what CPython writes', () => {
    expect(Buffer.from(TORCH_BIAS_PKL).toString('hex')).toBe(CPYTHON_HEX);
  });

  it('reads OrderedDict(bias=tensor([1, 2, 3])) and keeps _metadata from BUILD', () => {
    const sd = read(archive(TORCH_BIAS_PKL, { 0: f32bytes([1, 2, 3]) }));
    expect([...sd.keys()]).toEqual(['bias']);
    const t = sd.get('bias')!;
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([3]);
    expect([...t.data]).toEqual([1, 2, 3]);
    const state = pyState.get(sd) as Map<string, Map<string, Map<string, number>>>;
    expect(state.get('_metadata')!.get('')!.get('version')).toBe(1);
  });

  it('reads deflated entries too', () => {
    const sd = read(buildZip([['x/data.pkl', TORCH_BIAS_PKL], ['x/data/0', f32bytes([4, 5, 6])]], { deflate: true }));
    expect([...sd.get('bias')!.data]).toEqual([4, 5, 6]);
  });

  it('converts half and bfloat16 storages to float32', () => {
    const half = Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00]); // 1, -2, 0.33325, 2^-24, inf
    const sd = read(archive(tensorPkl({ storage: 'HalfStorage', numel: 5, size: [5], stride: [1] }), { 0: new Uint8Array(half.buffer) }));
    expect([...sd.get('w')!.data]).toEqual([1, -2, 0.333251953125, 2 ** -24, Infinity]);
    expect(sd.get('w')!.dtype).toBe('float16');
    const bf = Uint16Array.from([0x3f80, 0xc040, 0x3eaa]); // 1, -3, 0.33203125
    const sd2 = read(archive(tensorPkl({ storage: 'BFloat16Storage', numel: 3, size: [3], stride: [1] }), { 0: new Uint8Array(bf.buffer) }));
    expect([...sd2.get('w')!.data]).toEqual([1, -3, 0.33203125]);
  });

  it('half conversion handles every class of value', () => {
    expect([...halfToFloat32(Uint16Array.from([0x0000, 0x8000, 0x03ff, 0x0400, 0x7bff, 0xfc00]))]).toEqual([
      0, -0, 1023 * 2 ** -24, 2 ** -14, 65504, -Infinity,
    ]);
    expect(Number.isNaN(halfToFloat32(Uint16Array.from([0x7e00]))[0])).toBe(true);
  });

  it('gathers a non-contiguous (transposed) tensor and honours the storage offset', () => {
    // storage 0..6; tensor = storage[1:7].view(3, 2).T → shape (2, 3), stride (1, 2), offset 1
    const sd = read(archive(tensorPkl({ storage: 'FloatStorage', numel: 7, offset: 1, size: [2, 3], stride: [1, 2] }), { 0: f32bytes([0, 1, 2, 3, 4, 5, 6]) }));
    const t = sd.get('w')!;
    expect(t.shape).toEqual([2, 3]);
    expect([...t.data]).toEqual([1, 3, 5, 2, 4, 6]);
  });

  it('reads big-endian files', () => {
    const be = Buffer.alloc(8);
    be.writeFloatBE(1.5, 0);
    be.writeFloatBE(-2, 4);
    const sd = read(archive(tensorPkl({ storage: 'FloatStorage', numel: 2, size: [2], stride: [1] }), { 0: be }, [['ae/byteorder', Buffer.from('big')]]));
    expect([...sd.get('w')!.data]).toEqual([1.5, -2]);
  });
});

describe('torch.save writer ↔ reader', () => {
  const tensors = {
    bias: { shape: [5], data: Float32Array.from([1, 2, 3, 4, 5]) },
    'encoder.weight': { shape: [70000, 3], data: Float32Array.from({ length: 210000 }, (_, i) => Math.sin(i)) },
    scalar: { shape: [], data: Float32Array.from([42]) },
    'a.b.c': { shape: [2, 1, 3, 1], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
  };

  it('round-trips shapes, values and key order; data is 64-byte aligned and read as views', () => {
    const bytes = torchSaveBytes(tensors);
    const zip = openZip(bufferSource(bytes, 'mem'));
    expect(zip.order).toEqual(['archive/data.pkl', 'archive/byteorder', 'archive/data/0', 'archive/data/1', 'archive/data/2', 'archive/data/3', 'archive/version']);
    const sd = read(bytes);
    expect([...sd.keys()]).toEqual(Object.keys(tensors));
    for (const [k, t] of Object.entries(tensors)) {
      expect(sd.get(k)!.shape).toEqual(t.shape);
      expect(same(sd.get(k)!.data, t.data)).toBe(true);
      // No copy: the tensor is a view on the archive buffer, at a 64-byte aligned offset.
      expect(sd.get(k)!.data.buffer).toBe(bytes.buffer);
      expect((sd.get(k)!.data.byteOffset - bytes.byteOffset) % 64).toBe(0);
    }
  });

  it('reads zip64 archives', () => {
    const sd = read(torchSaveBytes(tensors, { forceZip64: true, archiveName: 'ae' }));
    expect(same(sd.get('encoder.weight')!.data, tensors['encoder.weight'].data)).toBe(true);
  });

  it('writes and reads files on disk (each storage its own buffer)', () => {
    const path = join(tempDir('rt'), 'ae.pt');
    writeTorchFile(path, tensors);
    const sd = readTorchFile(path);
    expect(same(sd.get('encoder.weight')!.data, tensors['encoder.weight'].data)).toBe(true);
    expect(sd.get('encoder.weight')!.data.buffer.byteLength).toBe(210000 * 4);
  });

  it('reads tensors transposed, streamed or whole, with row norms (checked against a plain transpose)', () => {
    const R = 150, C = 53; // R not a multiple of the 64-row band
    const w = new Float32Array(R * C).map((_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
    const path = join(tempDir('tr'), 'ae.pt');
    writeTorchFile(path, { b: { shape: [R], data: new Float32Array(R).fill(1) }, w: { shape: [R, C], data: w } });
    const plain = readTorchFile(path).get('w')!;
    // crcLimit 0: storages are not CRC-checked, so the stored entry is streamed in bands of 64
    // rows (3 band reads for 150 rows); default: small entries are CRC-checked, so it is read
    // whole and transposed (no band reads).
    for (const [opts, bandReads] of [[{ crcLimit: 0 }, 3], [{}, 0]] as const) {
      const src = bufferSource(readFileSync(path), path);
      let reads = 0;
      const counted = { ...src, readInto: (o: number, t: Uint8Array) => { reads++; src.readInto(o, t); } };
      const sd = readTorchStateDict(counted, { ...opts, transposed: ['w'] });
      expect(reads).toBe(bandReads);
      const t = sd.get('w')!;
      expect(t.shape).toEqual([C, R]);
      expect(sd.get('b')!.shape).toEqual([R]);
      for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) expect(t.data[c * R + r]).toBe(plain.data[r * C + c]);
      for (let c = 0; c < C; c++) {
        let ss = 0;
        for (let r = 0; r < R; r++) ss += plain.data[r * C + c] ** 2;
        expect(t.rowNorms![c]).toBeCloseTo(Math.sqrt(ss), 10);
      }
    }
  });

  it.runIf(canMapFiles())('maps unchecked float32 storages from the file instead of reading them, with the same values', () => {
    const w = new Float32Array(100_000).map((_, i) => Math.cos(i * 0.11));
    const path = join(tempDir('map'), 'ae.pt');
    writeTorchFile(path, { b: { shape: [3], data: Float32Array.from([1, 2, 3]) }, w: { shape: [200, 500], data: w } });
    const plain = readTorchFile(path, { map: false });
    for (const [opts, mapped] of [[{ crcLimit: 0 }, 2], [{ crcLimit: 0, map: false }, 0], [{}, 0]] as const) {
      const src = fileSource(path, { map: opts.map ?? true });
      let maps = 0, readBytes = 0;
      const counted: ByteSource = {
        ...src,
        read: (o, n) => ((readBytes += n), src.read(o, n)),
        mapRange: (o, n) => {
          const m = src.mapRange!(o, n);
          if (m) maps++;
          return m;
        },
      };
      const sd = readTorchStateDict(counted, opts);
      expect(maps, JSON.stringify(opts)).toBe(mapped);
      // Mapped: only the zip directory (the last 64 KiB at most) and the pickle were read.
      if (mapped) expect(readBytes).toBeLessThan(w.byteLength / 4);
      expect(same(sd.get('w')!.data, plain.get('w')!.data)).toBe(true);
      expect([...sd.get('b')!.data]).toEqual([1, 2, 3]);
    }
  });

  it('rejects a tensor whose data does not match its shape', () => {
    expect(() => torchSaveBytes({ x: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(/'x': shape \[2,2\] needs 4 values, has 3/);
  });
});

describe('torch.save reader errors name the file and the problem', () => {
  const name = 'dicts/mlp_out_layer3/10_32768/ae.pt';
  const good = () => torchSaveBytes({ bias: { shape: [3], data: Float32Array.from([1, 2, 3]) } });

  it('not a zip', () => {
    expect(() => read(Buffer.from('hello, this is certainly not a zip archive'), name)).toThrow(`${name}: not a zip archive`);
    expect(() => read(Buffer.from([0x80, 0x02, 0x8a, 0x0a, ...new Array(30).fill(0)]), name)).toThrow(/legacy torch.save format/);
  });

  it('truncated', () => {
    const b = good();
    expect(() => read(b.subarray(0, b.length - 30), name)).toThrow(`${name}: zip archive is truncated`);
    // End record intact, but bytes missing before it: the central directory now points past the end.
    const cut = Buffer.concat([b.subarray(0, 100), b.subarray(200)]);
    expect(() => read(cut, name)).toThrow(`${name}: zip archive is truncated`);
  });

  it('corrupt data (CRC)', () => {
    const b = Uint8Array.from(good());
    const zip = openZip(bufferSource(b, name));
    const e = zip.entries.get('archive/data/0')!;
    b[entryDataOffset(zip, e) + 1]! ^= 0xff;
    expect(() => read(b, name)).toThrow(`${name}: archive/data/0: CRC mismatch`);
  });

  it('missing data.pkl', () => {
    expect(() => read(buildZip([['ae/other.txt', Buffer.from('x')]]), name)).toThrow(`${name}: not a torch.save file (the zip archive has no data.pkl`);
  });

  it('storage entry missing', () => {
    expect(() => read(buildZip([['ae/data.pkl', TORCH_BIAS_PKL]]), name)).toThrow(`storage entry ae/data/0 is missing from the archive`);
    expect(() => read(buildZip([['ae/data.pkl', TORCH_BIAS_PKL]]), name)).toThrow(name);
  });

  it('storage too short', () => {
    expect(() => read(archive(TORCH_BIAS_PKL, { 0: f32bytes([1, 2]) }), name)).toThrow(/has 8 bytes, needs 12/);
  });

  it('unknown pickle global', () => {
    const evil = Uint8Array.from([0x80, 0x02, 0x63, ...s('os\nsystem\n'), 0x58, ...u32(2), ...s('ls'), 0x85, 0x52, 0x2e]);
    expect(() => read(archive(evil, {}), name)).toThrow(`${name}: ae/data.pkl: unsupported pickle global os.system`);
  });

  it('unknown pickle opcode', () => {
    expect(() => read(archive(Uint8Array.from([0x80, 0x02, 0x49, ...s('12\n'), 0x2e]), {}), name)).toThrow(/unsupported pickle opcode 0x49 \(INT\)/);
  });

  it('truncated pickle', () => {
    expect(() => read(archive(TORCH_BIAS_PKL.subarray(0, 60), { 0: f32bytes([1, 2, 3]) }), name)).toThrow(/pickle truncated/);
  });

  it('not a state_dict', () => {
    const list = Uint8Array.from([0x80, 0x02, 0x5d, 0x2e]); // []
    expect(() => read(archive(list, {}), name)).toThrow(`${name}: expected a state_dict`);
  });

  it('missing file', () => {
    expect(() => readTorchFile('/nonexistent/ae.pt')).toThrow('/nonexistent/ae.pt: cannot open');
  });

  it('a file on disk that was cut short', () => {
    const path = join(tempDir('cut'), 'ae.pt');
    writeTorchFile(path, { w: { shape: [1000], data: new Float32Array(1000) } });
    writeFileSync(path, readFileSync(path).subarray(0, 2000));
    expect(() => readTorchFile(path)).toThrow(`${path}: zip archive is truncated`);
  });
});
