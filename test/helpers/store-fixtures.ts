/** Circuits for store tests: a synthetic circuit of any size, with ids built the way discovery builds them. */
import { CIRCUIT_FORMAT, CIRCUIT_VERSION, nodeId, type CircuitEdge, type CircuitFile, type CircuitNode } from '../../src-main/circuits/circuit-file';
import { mulberry32 } from './random';

export const SUBMODULES = ['embed', ...[0, 1, 2].flatMap((l) => [`attn_${l}`, `mlp_${l}`, `resid_${l}`])];

export function syntheticCircuit(o: { nodes: number; edges: number; features?: number; positions?: number | null; seed?: number; sha?: { model: string; saes: string; data: string } }): CircuitFile {
  const r = mulberry32(o.seed ?? 1);
  const F = o.features ?? 512;
  const P = o.positions ?? null;
  const seen = new Set<string>();
  const nodes: CircuitNode[] = [];
  while (nodes.length < o.nodes) {
    const submodule = SUBMODULES[Math.floor(r() * SUBMODULES.length)];
    const feature = r() < 0.05 ? 'error' : Math.floor(r() * F);
    const position = P === null ? undefined : Math.floor(r() * P);
    const id = nodeId(submodule, feature, position);
    if (seen.has(id)) continue;
    seen.add(id);
    const effect = (r() - 0.5) * 2 * 10 ** (-3 * r());
    nodes.push(position === undefined ? { id, submodule, feature, effect } : { id, submodule, feature, position, effect });
  }
  const edges: CircuitEdge[] = [];
  const pairs = new Set<string>();
  while (edges.length < o.edges) {
    const a = nodes[Math.floor(r() * nodes.length)];
    const toY = r() < 0.02;
    const b = toY ? null : nodes[Math.floor(r() * nodes.length)];
    const key = `${a.id}->${b ? b.id : 'y'}`;
    if ((b && b.id === a.id) || pairs.has(key)) continue;
    pairs.add(key);
    edges.push({ source: a.id, target: b ? b.id : 'y', weight: (r() - 0.5) * 0.1 });
  }
  const sha = o.sha ?? { model: 'a'.repeat(64), saes: 'b'.repeat(64), data: 'c'.repeat(64) };
  return {
    format: CIRCUIT_FORMAT,
    version: CIRCUIT_VERSION,
    createdAt: '2026-12-01T00:00:00.000Z',
    app: { name: 'sfc-workbench', version: 'test' },
    parameters: { method: 'ig', steps: 10, aggregation: P === null ? 'sum' : 'none', nodeThreshold: 0, edgeThreshold: 0, keepAll: true, nodesOnly: false, examples: 10, batchSize: 10, seed: 12, nopair: false, neurons: false },
    provenance: { model: { path: '/nowhere/model', sha256: sha.model }, saes: { path: '/nowhere/saes', sha256: sha.saes }, data: { path: '/nowhere/data.jsonl', sha256: sha.data } },
    submodules: SUBMODULES.map((name) => ({ name, features: F, kind: 'relu' })),
    positions: P === null ? null : Array.from({ length: P }, (_, i) => `t${i}`),
    examples: [],
    totalEffect: 1.5,
    nodes,
    edges,
  } as CircuitFile;
}
