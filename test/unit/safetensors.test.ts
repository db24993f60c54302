import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bf16BitsToFloat, floatToBf16Bits, floatToHalfBits, halfBitsToFloat, readSafetensors, roundToDtype, writeSafetensors,
} from '../../src-main/models/safetensors';
import { canMapFiles } from '../../src-main/engine/native-kernels';

const dir = mkdtempSync(join(tmpdir(), 'st-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A safetensors file from a header object and raw data bytes, exactly as given. */
function rawFile(name: string, header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): string {
  const path = join(dir, name);
  const h = Buffer.from(headerText ?? JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(path, Buffer.concat([len, h, data]));
  return path;
}

function header(path: string): { len: number; json: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> } {
  const b = readFileSync(path);
  const len = Number(b.readBigUInt64LE(0));
  return { len, json: JSON.parse(b.subarray(8, 8 + len).toString()) };
}

describe('half / bfloat16 conversions (hand-computed bit patterns)', () => {
  it('float16', () => {
    const cases: [number, number, number][] = [
      // value, half bits, value read back
      [1, 0x3c00, 1],
      [-2, 0xc000, -2],
      [65504, 0x7bff, 65504],
      [0.1, 0x2e66, 0.0999755859375],
      [1 / 3, 0x3555, 0.333251953125],
      [2 ** -24, 0x0001, 2 ** -24], // smallest subnormal
      [3e-8, 0x0001, 2 ** -24], // above half of it: rounds up
      [1e-8, 0x0000, 0], // below half of it: rounds to zero
      [6.1e-5, 0x03ff, 0x3ff * 2 ** -24], // largest subnormal region
      [70000, 0x7c00, Infinity],
      [-Infinity, 0xfc00, -Infinity],
      [1 + 2 ** -11, 0x3c00, 1], // tie: rounds to even mantissa 0
      [1 + 3 * 2 ** -11, 0x3c02, 1 + 2 * 2 ** -10], // tie: rounds to even mantissa 2
      [-0, 0x8000, -0],
    ];
    for (const [x, bits, back] of cases) {
      expect(floatToHalfBits(x), `bits of ${x}`).toBe(bits);
      expect(halfBitsToFloat(bits)).toBe(back);
    }
    expect(Number.isNaN(halfBitsToFloat(floatToHalfBits(NaN)))).toBe(true);
  });

  it('bfloat16', () => {
    const cases: [number, number, number][] = [
      [1, 0x3f80, 1],
      [-2, 0xc000, -2],
      [0.1, 0x3dcd, 0.10009765625], // f32 0x3DCCCCCD: low half 0xCCCD rounds up
      [1 / 3, 0x3eab, 0.333984375], // f32 0x3EAAAAAB
      [Math.PI, 0x4049, 3.140625], // f32 0x40490FDB: low half 0x0FDB rounds down
      [1 + 2 ** -8, 0x3f80, 1], // tie → even
      [1 + 3 * 2 ** -8, 0x3f82, 1 + 2 ** -6], // tie → even
    ];
    for (const [x, bits, back] of cases) {
      expect(floatToBf16Bits(x), `bits of ${x}`).toBe(bits);
      expect(bf16BitsToFloat(bits)).toBe(back);
    }
    expect(Number.isNaN(bf16BitsToFloat(floatToBf16Bits(NaN)))).toBe(true);
  });
});

describe('writeSafetensors / readSafetensors round trip', () => {
  const a = Float32Array.from([1, -2, 0.1, 1 / 3, 65504, 2 ** -24]);
  const b = Float32Array.from({ length: 12 }, (_, i) => i * 0.37 - 1.5);
  const c = Float32Array.from([3.5]);

  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    it(dtype, () => {
      const path = join(dir, `rt-${dtype}.safetensors`);
      writeSafetensors(path, {
        a: { shape: [2, 3], data: a, dtype },
        b: { shape: [3, 4], data: b, dtype },
        scalar: { shape: [], data: c, dtype },
      }, { format: 'pt' });
      const f = readSafetensors(path);
      expect(f.names().sort()).toEqual(['a', 'b', 'scalar']);
      expect(f.metadata).toEqual({ format: 'pt' });
      expect(f.info('b')).toEqual({ dtype, shape: [3, 4] });
      const ta = f.getTensor('a');
      expect(ta.shape).toEqual([2, 3]);
      expect(ta.dtype).toBe(dtype);
      expect(Array.from(ta.data)).toEqual(Array.from(roundToDtype(a, dtype)));
      expect(Array.from(f.getTensor('b').data)).toEqual(Array.from(roundToDtype(b, dtype)));
      expect(Array.from(f.getTensor('scalar').data)).toEqual([3.5]);
      if (dtype === 'F32') expect(Array.from(ta.data)).toEqual(Array.from(a));
      if (dtype === 'F16') expect(Array.from(ta.data)).toEqual([1, -2, 0.0999755859375, 0.333251953125, 65504, 2 ** -24]);
      if (dtype === 'BF16') expect(Array.from(ta.data.slice(0, 4))).toEqual([1, -2, 0.10009765625, 0.333984375]);
    });
  }

  it('stored bytes are the hand-computed half bits, data area 8-aligned, tensors packed without gaps', () => {
    const path = join(dir, 'layout.safetensors');
    writeSafetensors(path, {
      h: { shape: [3], data: Float32Array.from([1, -2, 0.1]), dtype: 'F16' },
      f: { shape: [3], data: Float32Array.from([1, 2, 3]) },
      g: { shape: [1], data: Float32Array.from([5]) },
    });
    const { len, json } = header(path);
    expect((8 + len) % 8).toBe(0);
    // wider dtypes first, so every tensor sits at a multiple of its element size
    expect(json.f.data_offsets).toEqual([0, 12]);
    expect(json.g.data_offsets).toEqual([12, 16]);
    expect(json.h.data_offsets).toEqual([16, 22]);
    const bytes = readFileSync(path).subarray(8 + len);
    expect(bytes.length).toBe(22);
    expect([bytes.readUInt16LE(16), bytes.readUInt16LE(18), bytes.readUInt16LE(20)]).toEqual([0x3c00, 0xc000, 0x2e66]);
  });

  it('reads files whose data area is not aligned (header written by someone else)', () => {
    const data = Buffer.alloc(8);
    data.writeFloatLE(1.25, 0);
    data.writeFloatLE(-7, 4);
    const path = rawFile('unaligned.safetensors', null, data, '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
    expect(header(path).len % 4).not.toBe(0);
    expect(Array.from(readSafetensors(path).getTensor('x').data)).toEqual([1.25, -7]);
  });

  it('getTransposed streams [R, C] into [C, R] for every dtype (more rows than one band)', () => {
    const R = 150, C = 7; // R spans three bands of 64 rows
    const w = Float32Array.from({ length: R * C }, (_, i) => Math.sin(i) * 3);
    for (const dtype of ['F32', 'F16'] as const) {
      const path = join(dir, `tr-${dtype}.safetensors`);
      writeSafetensors(path, { w: { shape: [R, C], data: w, dtype } });
      const f = readSafetensors(path);
      const plain = f.getTensor('w').data;
      const t = f.getTransposed('w');
      expect(t.shape).toEqual([C, R]);
      for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) expect(t.data[c * R + r]).toBe(plain[r * C + c]);
    }
    expect(() => readSafetensors(join(dir, 'tr-F32.safetensors')).getTransposed('nope')).toThrow(/no tensor 'nope'/);
  });

  it.runIf(canMapFiles())('getTensor with map gives a mapped float32 tensor with the same values; the unaligned file is read', () => {
    const path = join(dir, 'rt-F32.safetensors');
    const f = readSafetensors(path);
    const mapped = f.getTensor('b', { map: true });
    expect(mapped.mapped).toBe(true);
    expect(f.getTensor('b').mapped).toBeUndefined();
    expect(Array.from(mapped.data)).toEqual(Array.from(f.getTensor('b').data));
    mapped.data[0] = 1234; // copy-on-write: the file is not changed
    expect(f.getTensor('b').data[0]).not.toBe(1234);
    const unaligned = readSafetensors(join(dir, 'unaligned.safetensors')).getTensor('x', { map: true });
    expect(unaligned.mapped).toBeUndefined();
    expect(Array.from(unaligned.data)).toEqual([1.25, -7]);
    expect(readSafetensors(join(dir, 'rt-F16.safetensors')).getTensor('b', { map: true }).mapped).toBeUndefined();
  });

  it('converts integer and double tensors; rejects fp8 naming file, tensor and dtype', () => {
    const i64 = Buffer.alloc(16);
    i64.writeBigInt64LE(-3n, 0);
    i64.writeBigInt64LE(7n, 8);
    const f64 = Buffer.alloc(8);
    f64.writeDoubleLE(0.5, 0);
    const data = Buffer.concat([i64, f64, Buffer.from([1, 0, 200]), Buffer.from([0x38])]);
    const path = rawFile('dtypes.safetensors', {
      i: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
      d: { dtype: 'F64', shape: [1], data_offsets: [16, 24] },
      u: { dtype: 'U8', shape: [3], data_offsets: [24, 27] },
      e: { dtype: 'F8_E4M3', shape: [1], data_offsets: [27, 28] },
    }, data);
    const f = readSafetensors(path);
    expect(Array.from(f.getTensor('i').data)).toEqual([-3, 7]);
    expect(Array.from(f.getTensor('d').data)).toEqual([0.5]);
    expect(Array.from(f.getTensor('u').data)).toEqual([1, 0, 200]);
    expect(() => f.getTensor('e')).toThrow(/dtypes\.safetensors: tensor 'e': dtype F8_E4M3 cannot be converted/);
  });

  it('writer rejects data that does not match the shape', () => {
    expect(() => writeSafetensors(join(dir, 'bad.safetensors'), { w: { shape: [2, 2], data: new Float32Array(3) } }))
      .toThrow(/bad\.safetensors: tensor 'w': shape \[2,2\] needs 4 values, data has 3/);
  });
});

describe('corrupt files: the error names the file and the problem', () => {
  it('shorter than 8 bytes', () => {
    const path = join(dir, 'short.safetensors');
    writeFileSync(path, Buffer.from([1, 2, 3]));
    expect(() => readSafetensors(path)).toThrow(/short\.safetensors: file is 3 bytes, shorter than the 8-byte/);
  });

  it('header length beyond file end', () => {
    const path = join(dir, 'longhdr.safetensors');
    const b = Buffer.alloc(12);
    b.writeBigUInt64LE(1000n);
    writeFileSync(path, b);
    expect(() => readSafetensors(path)).toThrow(/longhdr\.safetensors: header length 1000 goes beyond the end of the file \(12 bytes\)/);
  });

  it('invalid JSON header', () => {
    const path = rawFile('badjson.safetensors', null, undefined, '{"x": [1, 2');
    expect(() => readSafetensors(path)).toThrow(/badjson\.safetensors: header is not valid JSON/);
    const arr = rawFile('arrjson.safetensors', [1, 2]);
    expect(() => readSafetensors(arr)).toThrow(/arrjson\.safetensors: header is not a JSON object/);
  });

  it('malformed entry and unknown dtype', () => {
    const p1 = rawFile('noshape.safetensors', { x: { dtype: 'F32', data_offsets: [0, 0] } });
    expect(() => readSafetensors(p1)).toThrow(/noshape\.safetensors: tensor 'x' has a malformed header entry/);
    const p2 = rawFile('q4.safetensors', { x: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1));
    expect(() => readSafetensors(p2)).toThrow(/q4\.safetensors: tensor 'x' has unknown dtype Q4/);
  });

  it('truncated file: data_offsets outside the data area', () => {
    const path = join(dir, 'trunc.safetensors');
    writeSafetensors(path, { w: { shape: [4, 4], data: new Float32Array(16) } });
    truncateSync(path, readFileSync(path).length - 10);
    expect(() => readSafetensors(path)).toThrow(/trunc\.safetensors: tensor 'w' data_offsets \[0, 64\] lie outside the data area \(54 bytes/);
  });

  it('data_offsets not matching shape × dtype size', () => {
    const path = rawFile('size.safetensors', { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(() => readSafetensors(path)).toThrow(/size\.safetensors: tensor 'w' has 8 bytes but shape \[2,2\] × F32 needs 16/);
  });

  it('tensors whose byte ranges overlap or leave gaps are refused, naming the file and tensors', () => {
    const f32 = (n: number) => ({ dtype: 'F32', shape: [n] });
    // Before, each of these was accepted (and 'b' read bytes of 'a', or bytes of nothing).
    const overlap = rawFile('overlap.safetensors', { a: { ...f32(2), data_offsets: [0, 8] }, b: { ...f32(2), data_offsets: [4, 12] } }, new Uint8Array(12));
    expect(() => readSafetensors(overlap)).toThrow("overlap.safetensors: tensors 'a' (data_offsets [0, 8]) and 'b' (data_offsets [4, 12]) overlap");
    const same = rawFile('same.safetensors', { a: { ...f32(2), data_offsets: [0, 8] }, b: { ...f32(2), data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(() => readSafetensors(same)).toThrow(/same\.safetensors: tensors 'a' .* and 'b' .* overlap/);
    const gap = rawFile('gap.safetensors', { a: { ...f32(1), data_offsets: [0, 4] }, b: { ...f32(1), data_offsets: [8, 12] } }, new Uint8Array(12));
    expect(() => readSafetensors(gap)).toThrow("gap.safetensors: bytes 4..8 of the data area belong to no tensor (a gap between tensors 'a' and 'b', 'b' starts at 8)");
    const lead = rawFile('lead.safetensors', { a: { ...f32(1), data_offsets: [4, 8] } }, new Uint8Array(8));
    expect(() => readSafetensors(lead)).toThrow("lead.safetensors: bytes 0..4 of the data area belong to no tensor (a gap before the first tensor, 'a' starts at 4)");
    const trail = rawFile('trail.safetensors', { a: { ...f32(1), data_offsets: [0, 4] } }, new Uint8Array(6));
    expect(() => readSafetensors(trail)).toThrow("trail.safetensors: the data area has 6 bytes but the last tensor 'a' ends at 4: 2 trailing bytes belong to no tensor");
    // Packed in any header order, and empty tensors, are fine.
    const ok = rawFile('ok.safetensors', { b: { ...f32(1), data_offsets: [4, 8] }, z: { ...f32(0), data_offsets: [4, 4] }, a: { ...f32(1), data_offsets: [0, 4] } }, new Uint8Array(8));
    expect(readSafetensors(ok).names().sort()).toEqual(['a', 'b', 'z']);
  });

  it('missing tensor', () => {
    const sub = mkdtempSync(join(dir, 'm-'));
    writeSafetensors(join(sub, 'model.safetensors'), { x: { shape: [1], data: new Float32Array(1) } });
    const f = readSafetensors(sub); // a folder works too
    expect(f.has('x')).toBe(true);
    expect(() => f.getTensor('gpt_neox.layers.0.attention.dense.weight'))
      .toThrow("model.safetensors: no tensor 'gpt_neox.layers.0.attention.dense.weight'");
    expect(() => f.info('nope')).toThrow(/model\.safetensors: no tensor 'nope'/);
  });

  it('missing file', () => {
    expect(() => readSafetensors(join(dir, 'absent.safetensors'))).toThrow(/absent\.safetensors: cannot open safetensors file \(ENOENT\)/);
  });
});

describe('sharded checkpoints', () => {
  function sharded(): string {
    const sub = mkdtempSync(join(dir, 'shard-'));
    writeSafetensors(join(sub, 'model-00001-of-00002.safetensors'), {
      a: { shape: [2], data: Float32Array.from([1, 2]) },
      b: { shape: [1], data: Float32Array.from([3]), dtype: 'BF16' },
    });
    writeSafetensors(join(sub, 'model-00002-of-00002.safetensors'), { c: { shape: [3], data: Float32Array.from([4, 5, 6]), dtype: 'F16' } });
    writeFileSync(join(sub, 'model.safetensors.index.json'), JSON.stringify({
      metadata: { total_size: 16 },
      weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' },
    }));
    return sub;
  }

  it('reads through the index (by folder or by index path)', () => {
    const sub = sharded();
    for (const f of [readSafetensors(sub), readSafetensors(join(sub, 'model.safetensors.index.json'))]) {
      expect(f.names().sort()).toEqual(['a', 'b', 'c']);
      expect(f.metadata).toEqual({ total_size: '16' });
      expect(Array.from(f.getTensor('a').data)).toEqual([1, 2]);
      expect(f.getTensor('b')).toMatchObject({ dtype: 'BF16', shape: [1] });
      expect(Array.from(f.getTensor('c').data)).toEqual([4, 5, 6]);
      expect(() => f.getTensor('d')).toThrow("model.safetensors.index.json: no tensor 'd'");
    }
  });

  it('missing shard file', () => {
    const sub = sharded();
    rmSync(join(sub, 'model-00002-of-00002.safetensors'));
    expect(() => readSafetensors(sub))
      .toThrow(/model\.safetensors\.index\.json: shard file 'model-00002-of-00002\.safetensors' \(holding tensor 'c'\) not found/);
  });

  it('index naming a tensor its shard lacks, bad index JSON', () => {
    const sub = sharded();
    const idx = join(sub, 'model.safetensors.index.json');
    const j = JSON.parse(readFileSync(idx, 'utf8'));
    j.weight_map.z = 'model-00002-of-00002.safetensors';
    writeFileSync(idx, JSON.stringify(j));
    expect(() => readSafetensors(sub).getTensor('z')).toThrow(/model-00002-of-00002\.safetensors: no tensor 'z'/);
    writeFileSync(idx, '{"weight_map": ');
    expect(() => readSafetensors(sub)).toThrow(/model\.safetensors\.index\.json: not valid JSON/);
    writeFileSync(idx, '{"metadata": {}}');
    expect(() => readSafetensors(sub)).toThrow(/model\.safetensors\.index\.json: missing or malformed "weight_map"/);
  });
});
