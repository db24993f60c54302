/**
 * Nodes and edges of a circuit as two compact blobs, so a 2 000-node / 20 000-edge circuit
 * saves and loads in milliseconds instead of parsing megabytes of JSON. A node is
 * (submodule index, feature, position, effect); an edge is two such keys and a weight. Ids are
 * rebuilt from the keys (docs/circuit-format.md's naming), so they cannot drift from the data.
 *
 * Layout (little-endian): u32 magic, u32 count, then one array per field (struct of arrays,
 * each aligned to its element size).
 */
import { nodeId, type CircuitEdge, type CircuitNode } from '../circuits/circuit-file';

const NODES_MAGIC = 0x31444e53; // 'SND1'
const EDGES_MAGIC = 0x31454453; // 'SDE1'
/** Submodule index of the metric node `y`. */
const Y = 0xffff;
const ERROR = -1;
const NO_POSITION = -1;

export interface NodeKey {
  submodule: string;
  feature: number | 'error';
  position?: number;
}

const NODE_ID = /^(.+)\/(\d+|error)(?:@(\d+))?$/;

/** `resid_2/31@4` → its key; `y` → null (the metric node). */
export function parseNodeId(id: string): NodeKey | null {
  if (id === 'y') return null;
  const m = NODE_ID.exec(id);
  if (!m) throw new Error(`malformed node id '${id}' (expected <submodule>/<feature|error>[@<position>])`);
  const key: NodeKey = { submodule: m[1], feature: m[2] === 'error' ? 'error' : Number(m[2]) };
  if (m[3] !== undefined) key.position = Number(m[3]);
  return key;
}

class Writer {
  private readonly parts: Buffer[] = [];
  private size = 0;
  constructor(magic: number, count: number) {
    this.u32([magic, count]);
  }
  private push(b: Buffer, align: number): void {
    const pad = (align - (this.size % align)) % align;
    if (pad) this.parts.push(Buffer.alloc(pad));
    this.parts.push(b);
    this.size += pad + b.length;
  }
  u32(v: ArrayLike<number>): void {
    this.push(Buffer.from(Uint32Array.from(v).buffer), 4);
  }
  u16(v: ArrayLike<number>): void {
    this.push(Buffer.from(Uint16Array.from(v).buffer), 2);
  }
  i32(v: ArrayLike<number>): void {
    this.push(Buffer.from(Int32Array.from(v).buffer), 4);
  }
  f64(v: ArrayLike<number>): void {
    this.push(Buffer.from(Float64Array.from(v).buffer), 8);
  }
  done(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}

class Reader {
  private at = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}
  private take(n: number, size: number): ArrayBuffer {
    this.at += (size - (this.at % size)) % size;
    const end = this.at + n * size;
    if (end > this.buf.length) throw new Error(`${this.what}: stored data is truncated`);
    // Copy: SQLite's buffer is not aligned for typed-array views.
    const out = new Uint8Array(this.buf.subarray(this.at, end)).buffer;
    this.at = end;
    return out;
  }
  u32(n: number): Uint32Array {
    return new Uint32Array(this.take(n, 4));
  }
  u16(n: number): Uint16Array {
    return new Uint16Array(this.take(n, 2));
  }
  i32(n: number): Int32Array {
    return new Int32Array(this.take(n, 4));
  }
  f64(n: number): Float64Array {
    return new Float64Array(this.take(n, 8));
  }
}

function indexer(submodules: readonly string[]): (name: string) => number {
  const at = new Map(submodules.map((s, i) => [s, i]));
  return (name) => {
    const i = at.get(name);
    if (i === undefined) throw new Error(`node on unknown submodule '${name}'`);
    return i;
  };
}

export function encodeNodes(nodes: readonly CircuitNode[], submodules: readonly string[]): Buffer {
  const sub = indexer(submodules);
  const w = new Writer(NODES_MAGIC, nodes.length);
  w.u16(nodes.map((n) => sub(n.submodule)));
  w.i32(nodes.map((n) => (n.feature === 'error' ? ERROR : n.feature)));
  w.i32(nodes.map((n) => n.position ?? NO_POSITION));
  w.f64(nodes.map((n) => n.effect));
  return w.done();
}

export function decodeNodes(buf: Buffer, submodules: readonly string[]): CircuitNode[] {
  const r = new Reader(buf, 'circuit nodes');
  const [magic, count] = r.u32(2);
  if (magic !== NODES_MAGIC) throw new Error('circuit nodes: not a node blob');
  const sub = r.u16(count);
  const feat = r.i32(count);
  const pos = r.i32(count);
  const eff = r.f64(count);
  const out: CircuitNode[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const submodule = submodules[sub[i]];
    const feature = feat[i] === ERROR ? 'error' : feat[i];
    const id = nodeId(submodule, feature, pos[i] === NO_POSITION ? undefined : pos[i]);
    out[i] = pos[i] === NO_POSITION ? { id, submodule, feature, effect: eff[i] } : { id, submodule, feature, position: pos[i], effect: eff[i] };
  }
  return out;
}

export function encodeEdges(edges: readonly CircuitEdge[], submodules: readonly string[]): Buffer {
  const sub = indexer(submodules);
  const keys = (id: string): [number, number, number] => {
    const k = parseNodeId(id);
    if (!k) return [Y, 0, NO_POSITION];
    return [sub(k.submodule), k.feature === 'error' ? ERROR : k.feature, k.position ?? NO_POSITION];
  };
  const src = edges.map((e) => keys(e.source));
  const dst = edges.map((e) => keys(e.target));
  const w = new Writer(EDGES_MAGIC, edges.length);
  for (const side of [src, dst]) {
    w.u16(side.map((k) => k[0]));
    w.i32(side.map((k) => k[1]));
    w.i32(side.map((k) => k[2]));
  }
  w.f64(edges.map((e) => e.weight));
  return w.done();
}

export function decodeEdges(buf: Buffer, submodules: readonly string[]): CircuitEdge[] {
  const r = new Reader(buf, 'circuit edges');
  const [magic, count] = r.u32(2);
  if (magic !== EDGES_MAGIC) throw new Error('circuit edges: not an edge blob');
  const ends = [0, 1].map(() => ({ sub: r.u16(count), feat: r.i32(count), pos: r.i32(count) }));
  const weight = r.f64(count);
  const idAt = (e: (typeof ends)[0], i: number): string =>
    e.sub[i] === Y ? 'y' : nodeId(submodules[e.sub[i]], e.feat[i] === ERROR ? 'error' : e.feat[i], e.pos[i] === NO_POSITION ? undefined : e.pos[i]);
  const out: CircuitEdge[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { source: idAt(ends[0], i), target: idAt(ends[1], i), weight: weight[i] };
  return out;
}
