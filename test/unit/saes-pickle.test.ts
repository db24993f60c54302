import { describe, expect, it } from 'vitest';
import { pyGlobal, unpickle } from '../../src-main/saes/pickle';

const globals = new Map([
  ['collections.OrderedDict', pyGlobal('collections', 'OrderedDict', () => new Map())],
  ['torch.FloatStorage', pyGlobal('torch', 'FloatStorage')],
]);
const load = (bytes: Uint8Array, persistentLoad?: (pid: unknown) => unknown) => unpickle(bytes, { what: 'f.pt: data.pkl', globals, persistentLoad });
const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('unpickle', () => {
  it('reads protocol-4 opcodes (checked against CPython: pickle.loads gives the object in the comment)', () => {
    // {'ints': [7, 300, -5, -128, 2**64], 'misc': (None, True, False), 'f': 2.5, 'od': OrderedDict(),
    //  'again': <the same list as 'ints'>, 'bytes': b'abc', 'one': ([1], (('u', 'é'), ('é',)))}
    const bytes = hex([
      '8004 9597000000 00000000', // PROTO 4, FRAME 151
      '7d 94 28', // EMPTY_DICT, MEMOIZE 0, MARK
      '8c04 696e7473 94', // SHORT_BINUNICODE 'ints', MEMOIZE 1
      '5d 94 28', // EMPTY_LIST, MEMOIZE 2, MARK
      '4b07 4d2c01 4afbffffff', // BININT1 7, BININT2 300, BININT -5
      '8a0180', // LONG1 -128
      '8a09 000000000000000001', // LONG1 2**64
      '65', // APPENDS
      '8c04 6d697363 94', // 'misc', MEMOIZE 3
      '4e 88 89 87 94', // NONE, NEWTRUE, NEWFALSE, TUPLE3, MEMOIZE 4
      '8c01 66 94', // 'f', MEMOIZE 5
      '47 4004000000000000', // BINFLOAT 2.5 (big-endian)
      '8c02 6f64', // 'od'
      '8c0b 636f6c6c656374696f6e73', // 'collections'
      '8c0b 4f726465726564446963 74', // 'OrderedDict'
      '93 94 29 52 94', // STACK_GLOBAL, MEMOIZE 6, EMPTY_TUPLE, REDUCE, MEMOIZE 7
      '8c05 616761696e 6802', // 'again', BINGET 2
      '8c05 6279746573 4303 616263', // 'bytes', SHORT_BINBYTES b'abc'
      '8c03 6f6e65 5d 4b01 61', // 'one', EMPTY_LIST, BININT1 1, APPEND
      '8c01 75 8c02 c3a9', // 'u', 'é' (UTF-8)
      '72 e8030000 86', // LONG_BINPUT 1000, TUPLE2
      '6a e8030000 85 86 86', // LONG_BINGET 1000, TUPLE1, TUPLE2, TUPLE2
      '75 2e', // SETITEMS, STOP
    ].join(''));
    const d = load(bytes) as Map<string, unknown>;
    expect([...d.keys()]).toEqual(['ints', 'misc', 'f', 'od', 'again', 'bytes', 'one']);
    expect(d.get('ints')).toEqual([7, 300, -5, -128, 2n ** 64n]);
    expect(d.get('misc')).toEqual([null, true, false]);
    expect(d.get('f')).toBe(2.5);
    expect(d.get('od')).toEqual(new Map());
    expect(d.get('again')).toBe(d.get('ints'));
    expect(d.get('bytes')).toEqual(Uint8Array.from([97, 98, 99]));
    expect(d.get('one')).toEqual([[1], [['u', 'é'], ['é']]]);
  });

  it('hands persistent ids to persistentLoad', () => {
    // PROTO 2, MARK, 'storage', GLOBAL torch.FloatStorage, TUPLE, BINPERSID, STOP
    const bytes = Uint8Array.from([0x80, 2, 0x28, 0x58, 7, 0, 0, 0, ...Buffer.from('storage'), 0x63, ...Buffer.from('torch\nFloatStorage\n'), 0x74, 0x51, 0x2e]);
    const seen: unknown[] = [];
    expect(load(bytes, (pid) => (seen.push(pid), 'loaded'))).toBe('loaded');
    expect((seen[0] as unknown[])[0]).toBe('storage');
    expect(() => load(bytes)).toThrow('f.pt: data.pkl: persistent id found but no persistent_load is available');
  });

  it('errors name the file, the opcode or global, and the offset', () => {
    expect(() => load(Uint8Array.from([0x80, 2, 0x63, ...Buffer.from('builtins\neval\n'), 0x2e]))).toThrow(
      'f.pt: data.pkl: unsupported pickle global builtins.eval (pickle byte 2)',
    );
    expect(() => load(Uint8Array.from([0x80, 2, 0x4e, 0x90, 0x2e]))).toThrow('unsupported pickle opcode 0x90 (ADDITEMS) (pickle byte 3)');
    expect(() => load(Uint8Array.from([0x80, 2, 0xff]))).toThrow('unsupported pickle opcode 0xff');
    expect(() => load(Uint8Array.from([0x80, 2, 0x68, 5, 0x2e]))).toThrow('memo key 5 not found');
    expect(() => load(Uint8Array.from([0x80, 2, 0x52]))).toThrow('pickle stack underflow');
    expect(() => load(Uint8Array.from([0x80, 2, 0x58, 10, 0, 0, 0, 65]))).toThrow('f.pt: data.pkl: pickle truncated');
    expect(() => load(Uint8Array.from([0x80, 2, 0x4e]))).toThrow('pickle truncated');
    // Calling something that is allow-listed only as a value (a storage type) is refused.
    expect(() => load(Uint8Array.from([0x80, 2, 0x63, ...Buffer.from('torch\nFloatStorage\n'), 0x29, 0x52, 0x2e]))).toThrow(
      'REDUCE on torch.FloatStorage, which cannot be called here',
    );
  });
});
