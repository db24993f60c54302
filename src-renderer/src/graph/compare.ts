/**
 * The compare view's graph: A's nodes plus the nodes only B has, laid out with A's lanes and
 * token columns, each marked as in both / only A / only B; edges carry the weight change
 * B − A (zero for unchanged edges, drawn neutral). Nodes match on (submodule, feature,
 * position) as in src-main/view/compare.ts.
 */
import { METRIC_NODE, nodeKey } from '../../../src-main/view';
import type { CircuitEdge, CircuitLike, CircuitNode } from '../../../src-main/view/types';
import type { CompareStatus } from './model';

export interface CompareGraph {
  circuit: CircuitLike;
  status: Map<string, CompareStatus>;
}

export function compareGraph(a: CircuitLike, b: CircuitLike, sets: { both: { key: string }[]; onlyA: { key: string }[]; onlyB: { key: string }[] }): CompareGraph {
  const statusByKey = new Map<string, CompareStatus>();
  for (const n of sets.both) statusByKey.set(n.key, 'both');
  for (const n of sets.onlyA) statusByKey.set(n.key, 'onlyA');
  for (const n of sets.onlyB) statusByKey.set(n.key, 'onlyB');

  const nodes: CircuitNode[] = [];
  const idOfKey = new Map<string, string>();
  const status = new Map<string, CompareStatus>();
  for (const n of a.nodes) {
    const k = nodeKey(n);
    const st = statusByKey.get(k);
    if (!st) continue;
    nodes.push(n);
    idOfKey.set(k, n.id);
    status.set(n.id, st);
  }
  for (const n of b.nodes) {
    const k = nodeKey(n);
    if (idOfKey.has(k) || statusByKey.get(k) !== 'onlyB') continue;
    nodes.push(n);
    idOfKey.set(k, n.id);
    status.set(n.id, 'onlyB');
  }
  const byId = (c: CircuitLike): Map<string, string | null> => {
    const m = new Map<string, string | null>();
    for (const n of c.nodes) m.set(n.id, idOfKey.get(nodeKey(n)) ?? null);
    m.set(METRIC_NODE, METRIC_NODE);
    return m;
  };
  const ta = byId(a);
  const tb = byId(b);
  const edges = new Map<string, CircuitEdge & { wa: number; wb: number }>();
  for (const e of a.edges ?? []) {
    const s = ta.get(e.source);
    const t = ta.get(e.target);
    if (!s || !t) continue;
    edges.set(`${s}->${t}`, { source: s, target: t, weight: 0, wa: e.weight, wb: 0 });
  }
  for (const e of b.edges ?? []) {
    const s = tb.get(e.source);
    const t = tb.get(e.target);
    if (!s || !t) continue;
    const k = `${s}->${t}`;
    const prev = edges.get(k);
    if (prev) prev.wb = e.weight;
    else edges.set(k, { source: s, target: t, weight: 0, wa: 0, wb: e.weight });
  }
  const out: CircuitEdge[] = [...edges.values()].map((e) => ({ source: e.source, target: e.target, weight: e.wb - e.wa }));
  return { circuit: { submodules: a.submodules, positions: a.positions, nodes, edges: out }, status };
}
