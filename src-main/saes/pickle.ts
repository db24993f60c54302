/**
 * A small Python unpickler: enough of protocols 2–5 for what `torch.save` writes (state_dicts,
 * and later the original's circuit files). It never executes anything: every GLOBAL must be in
 * the table the caller passes, so a file cannot make us run code, and anything unexpected fails
 * with a message naming the file, the opcode or global, and the byte offset.
 *
 * Value mapping: None → null, bool → boolean, int → number (bigint beyond 2^53), float → number,
 * str → string, bytes → Uint8Array, list and tuple → array, dict → Map.
 */

/** A resolved GLOBAL. `call` makes it usable with REDUCE / NEWOBJ; without it, it is only a value (e.g. a storage type). */
export interface PyGlobal {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
  call?: (args: unknown[]) => unknown;
}

export interface UnpickleOptions {
  /** Name used in error messages, e.g. "ae.pt: archive/data.pkl". */
  what: string;
  /** The allow-list: `module.name` → global. Anything else is an error. */
  globals: ReadonlyMap<string, PyGlobal>;
  /** BINPERSID handler (torch uses it for storages). */
  persistentLoad?: (pid: unknown) => unknown;
}

export function pyGlobal(module: string, name: string, call?: (args: unknown[]) => unknown): PyGlobal {
  return { kind: 'global', module, name, call };
}

export function isPyGlobal(v: unknown): v is PyGlobal {
  return typeof v === 'object' && v !== null && (v as PyGlobal).kind === 'global';
}

/** Attributes set by BUILD on an object we represent natively (e.g. OrderedDict._metadata). */
export const pyState = new WeakMap<object, unknown>();

const OPNAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1',
  0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const fail = (msg: string, at: number): never => {
    throw new Error(`${opts.what}: ${msg} (pickle byte ${at})`);
  };
  let pos = 0;
  let opAt = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) fail(`pickle truncated (needed ${n} more bytes, ${bytes.length - pos} left)`, opAt);
  };
  const u8 = () => (need(1), bytes[pos++]!);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length too large', opAt);
    return Number(v);
  };
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const str = (n: number) => {
    try {
      return utf8.decode(take(n));
    } catch (e) {
      return fail(`invalid UTF-8 in string (${(e as Error).message})`, opAt);
    }
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('pickle truncated (unterminated line)', opAt);
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };

  const stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let cur = stack;
  const pop = () => {
    if (cur.length === 0) fail('pickle stack underflow', opAt);
    return cur.pop();
  };
  const top = () => {
    if (cur.length === 0) fail('pickle stack underflow', opAt);
    return cur[cur.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = cur;
    const prev = metastack.pop();
    if (!prev) fail('MARK expected but not found', opAt);
    cur = prev!;
    return items;
  };
  const get = (i: number) => {
    if (!memo.has(i)) fail(`memo key ${i} not found`, opAt);
    return memo.get(i);
  };
  const findGlobal = (module: string, name: string): PyGlobal => {
    const g = opts.globals.get(`${module}.${name}`);
    if (!g) fail(`unsupported pickle global ${module}.${name}`, opAt);
    return g!;
  };
  const call = (fn: unknown, args: unknown, op: string): unknown => {
    if (!isPyGlobal(fn) || !fn.call) {
      return fail(`${op} on ${isPyGlobal(fn) ? `${fn.module}.${fn.name}` : typeof fn}, which cannot be called here`, opAt);
    }
    if (!Array.isArray(args)) fail(`${op} arguments are not a tuple`, opAt);
    try {
      return fn.call(args as unknown[]);
    } catch (e) {
      return fail(`${fn.module}.${fn.name}: ${(e as Error).message}`, opAt);
    }
  };
  const setItems = (d: unknown, kv: unknown[]) => {
    if (!(d instanceof Map)) fail('SETITEM(S) on something that is not a dict', opAt);
    for (let i = 0; i + 1 < kv.length; i += 2) (d as Map<unknown, unknown>).set(kv[i], kv[i + 1]);
  };
  const appendItems = (l: unknown, items: unknown[]) => {
    if (!Array.isArray(l)) fail('APPEND(S) on something that is not a list', opAt);
    (l as unknown[]).push(...items);
  };

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO n
        if (u8() > 5) fail('pickle protocol newer than 5', opAt);
        break;
      case 0x95: // FRAME len: framing is only a read-ahead hint
        pos += 8;
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        metastack.push(cur);
        cur = [];
        break;
      case 0x7d: // EMPTY_DICT
        cur.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        cur.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        cur.push([]);
        break;
      case 0x4e: // NONE
        cur.push(null);
        break;
      case 0x88: // NEWTRUE
        cur.push(true);
        break;
      case 0x89: // NEWFALSE
        cur.push(false);
        break;
      case 0x4a: // BININT
        cur.push(i32());
        break;
      case 0x4b: // BININT1
        cur.push(u8());
        break;
      case 0x4d: // BININT2
        cur.push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4: little-endian two's complement of n bytes
        const n = op === 0x8a ? u8() : u32();
        const b = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        cur.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT: big-endian double
        need(8);
        cur.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        cur.push(str(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        cur.push(str(u8()));
        break;
      case 0x8d: // BINUNICODE8
        cur.push(str(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str; torch files written by Python 2)
        cur.push(new TextDecoder('latin1').decode(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        cur.push(new TextDecoder('latin1').decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        cur.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        cur.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        cur.push(take(u64()).slice());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        cur.push(get(u8()));
        break;
      case 0x6a: // LONG_BINGET
        cur.push(get(u32()));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        cur.push(findGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings', opAt);
        cur.push(findGlobal(module as string, name as string));
        break;
      }
      case 0x74: {
        // TUPLE
        const items = popMark();
        cur.push(items);
        break;
      }
      case 0x85: // TUPLE1
        cur.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        cur.push([a, b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        cur.push([a, b, c]);
        break;
      }
      case 0x6c: {
        // LIST
        const items = popMark();
        cur.push(items);
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        cur.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('persistent id found but no persistent_load is available', opAt);
        try {
          cur.push(opts.persistentLoad!(pid));
        } catch (e) {
          fail((e as Error).message, opAt);
        }
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        cur.push(call(fn, args, 'REDUCE'));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args); we treat it like a call of an allow-listed global
        const args = pop();
        const cls = pop();
        cur.push(call(cls, args, 'NEWOBJ'));
        break;
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state). Kept aside; nothing we read depends on it yet.
        const state = pop();
        const obj = top();
        if (typeof obj !== 'object' || obj === null) fail('BUILD on a non-object', opAt);
        pyState.set(obj as object, state);
        break;
      }
      case 0x30: // POP
        if (cur.length > 0) cur.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        cur.push(top());
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}${OPNAMES[op] ? ` (${OPNAMES[op]})` : ''}`, opAt);
    }
  }
}
