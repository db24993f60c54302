/**
 * The circuit interchange file (docs/circuit-format.md): what `sfc discover` writes, `sfc
 * evaluate` and the app read. Node ids follow the original: `resid_5/3036`, `resid_5/error`,
 * with `@<position>` appended in position-resolved circuits.
 */
import type { Aggregation } from './edges';
import type { NodeMethod } from './nodes';
import type { NodeTotals } from './discover';

export const CIRCUIT_FORMAT = 'sfc-circuit';
export const CIRCUIT_VERSION = 1;

export interface CircuitNode {
  id: string;
  submodule: string;
  feature: number | 'error';
  position?: number;
  effect: number;
}

export interface CircuitEdge {
  source: string;
  target: string;
  weight: number;
}

export interface CircuitParameters {
  method: NodeMethod;
  steps: number;
  aggregation: Aggregation;
  nodeThreshold: number;
  edgeThreshold: number;
  keepAll: boolean;
  nodesOnly: boolean;
  examples: number;
  batchSize: number;
  seed: number;
  nopair: boolean;
  neurons: boolean;
}

export interface FileHash {
  path: string;
  sha256: string;
}

export interface CircuitFile {
  format: typeof CIRCUIT_FORMAT;
  version: number;
  createdAt: string;
  app: { name: string; version: string };
  parameters: CircuitParameters;
  provenance: { model: FileHash; saes: FileHash | { identity: true }; data: FileHash };
  submodules: { name: string; features: number; kind: string }[];
  /** Token strings of the first example's clean prefix (position-resolved circuits). */
  positions: string[] | null;
  examples: Record<string, unknown>[];
  /** Mean of m(patch) − m(clean) over examples; null without patches. */
  totalEffect: number | null;
  nodes: CircuitNode[];
  edges: CircuitEdge[] | null;
}

export function nodeId(submodule: string, feature: number | 'error', position?: number): string {
  return `${submodule}/${feature}${position === undefined ? '' : `@${position}`}`;
}

export interface SelectOptions {
  aggregation: Aggregation;
  nodeThreshold: number;
  edgeThreshold: number;
  keepAll: boolean;
  /** Number of features F per submodule. */
  features: Map<string, number>;
}

/** Mean effects → written nodes and edges (thresholds as documented in circuit-format.md). */
export function selectCircuit(t: NodeTotals, o: SelectOptions): { nodes: CircuitNode[]; edges: CircuitEdge[] | null } {
  const n = t.examples;
  const S = t.positions;
  const nodes: CircuitNode[] = [];
  const written = new Set<string>();
  const keepNode = (v: number): boolean => v !== 0 && (o.keepAll || Math.abs(v) > o.nodeThreshold);
  const keepEdge = (v: number): boolean => v !== 0 && (o.keepAll || Math.abs(v) > o.edgeThreshold);
  const idOf = (sub: string, F: number, flat: number): { id: string; feature: number | 'error'; position?: number } => {
    const position = o.aggregation === 'none' ? Math.floor(flat / (F + 1)) : undefined;
    const j = flat % (F + 1);
    const feature = j === F ? 'error' : j;
    return { id: nodeId(sub, feature, position), feature, position };
  };
  for (const [sub, sums] of t.effects) {
    const F = o.features.get(sub)!;
    sums.forEach((s, flat) => {
      const effect = s / n;
      if (!keepNode(effect)) return;
      const { id, feature, position } = idOf(sub, F, flat);
      nodes.push(position === undefined ? { id, submodule: sub, feature, effect } : { id, submodule: sub, feature, position, effect });
      written.add(id);
    });
  }
  if (!t.edges) return { nodes, edges: null };
  const edges: CircuitEdge[] = [];
  for (const [key, m] of t.edges) {
    const [up, down] = key.split('->');
    const Fu = o.features.get(up)!;
    const Fu1 = Fu + 1;
    for (const [k, sum] of m) {
      const weight = sum / n;
      if (!keepEdge(weight)) continue;
      let source: string, target: string;
      if (down === 'y') {
        source = idOf(up, Fu, k).id;
        target = 'y';
      } else {
        const Fd = o.features.get(down)!;
        if (o.aggregation === 'sum') {
          target = idOf(down, Fd, Math.floor(k / Fu1)).id;
          source = idOf(up, Fu, k % Fu1).id;
        } else {
          const j = k % Fu1;
          const rest = Math.floor(k / Fu1);
          const su = rest % S;
          const downFlat = Math.floor(rest / S); // sd·(Fd+1) + kd
          target = idOf(down, Fd, downFlat).id;
          source = idOf(up, Fu, su * Fu1 + j).id;
        }
      }
      if (!o.keepAll && (!written.has(source) || (target !== 'y' && !written.has(target)))) continue;
      edges.push({ source, target, weight });
    }
  }
  return { nodes, edges };
}

/** Checks a parsed circuit file and names the file in every complaint. */
export function validateCircuitFile(raw: unknown, file: string): CircuitFile {
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail('expected a JSON object');
  const c = raw as Partial<CircuitFile>;
  if (c.format !== CIRCUIT_FORMAT) fail(`not a circuit file (format ${JSON.stringify(c.format)}, expected "${CIRCUIT_FORMAT}")`);
  if (typeof c.version !== 'number' || c.version > CIRCUIT_VERSION) fail(`unsupported version ${c.version} (this app reads up to ${CIRCUIT_VERSION})`);
  if (!c.parameters || typeof c.parameters !== 'object') fail("missing 'parameters'");
  if (!Array.isArray(c.nodes)) fail("'nodes' must be a list");
  if (!Array.isArray(c.submodules)) fail("'submodules' must be a list");
  c.nodes!.forEach((n, i) => {
    if (typeof n?.id !== 'string' || typeof n.submodule !== 'string' || typeof n.effect !== 'number') fail(`node ${i} needs id, submodule and a numeric effect`);
    if (n.feature !== 'error' && !Number.isInteger(n.feature)) fail(`node ${n.id}: feature must be an integer or "error"`);
  });
  if (c.edges != null) {
    if (!Array.isArray(c.edges)) fail("'edges' must be a list or null");
    c.edges.forEach((e, i) => {
      if (typeof e?.source !== 'string' || typeof e.target !== 'string' || typeof e.weight !== 'number') fail(`edge ${i} needs source, target and a numeric weight`);
    });
  }
  return c as CircuitFile;
}
