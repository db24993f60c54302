/**
 * Compare two circuits (docs/figures.md §Compare): which nodes only one has, how much they
 * overlap, whether the shared nodes' effects agree, and which edges changed most. Nodes match on
 * (submodule, feature, position), not on their id strings, so two files that spell ids
 * differently still match.
 */
import { METRIC_NODE } from './names';
import type { CircuitLike } from './types';

export interface CompareOptions {
  /** A node takes part when |effect| > threshold in its circuit. */
  threshold: number;
  /** How many most-changed edges to return (default 20). */
  topEdges?: number;
}

export interface ComparedNode {
  /** `submodule/feature` with `@position` when the circuit is position-resolved. */
  key: string;
  submodule: string;
  feature: number | 'error';
  position: number | null;
  /** Effect in A / in B; null where the circuit lacks the node (or it is under the threshold). */
  effectA: number | null;
  effectB: number | null;
}

export interface ComparedEdge {
  source: string;
  target: string;
  /** Weight in A / B; 0 where that circuit has no such edge. */
  weightA: number;
  weightB: number;
  /** weightB − weightA. */
  delta: number;
  inA: boolean;
  inB: boolean;
}

export interface CircuitComparison {
  threshold: number;
  onlyA: ComparedNode[];
  onlyB: ComparedNode[];
  both: ComparedNode[];
  /** |A ∩ B| / |A ∪ B| over nodes above the threshold; null when both are empty. */
  jaccard: number | null;
  /** Pearson correlation of the shared nodes' effects; null with fewer than 2 or no variance. */
  correlation: number | null;
  /** Edges by |delta|, largest first (ties by key), at most topEdges. */
  changedEdges: ComparedEdge[];
  /** Things that make the comparison less meaningful (summed vs position-resolved, …). */
  warnings: string[];
}

type NodeLike = CircuitLike['nodes'][number];

export function nodeKey(n: Pick<NodeLike, 'submodule' | 'feature' | 'position'>): string {
  return `${n.submodule}/${n.feature}${n.position === undefined || n.position === null ? '' : `@${n.position}`}`;
}

/** Pearson's r; null when undefined (n < 2 or a constant series). */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  if (n < 2 || y.length !== n) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

export function compareCircuits(a: CircuitLike, b: CircuitLike, options: CompareOptions): CircuitComparison {
  const { threshold } = options;
  const topEdges = options.topEdges ?? 20;
  const warnings: string[] = [];
  const resolved = (c: CircuitLike): boolean => c.positions != null || c.nodes.some((n) => n.position !== undefined);
  if (resolved(a) !== resolved(b)) {
    warnings.push('one circuit is position-resolved and the other summed: no node can match; rediscover both with the same aggregation');
  } else if (a.positions && b.positions && a.positions.join('\u0000') !== b.positions.join('\u0000')) {
    warnings.push('the two circuits were read on different tokens; positions are matched by index');
  }

  const index = (c: CircuitLike): { kept: Map<string, NodeLike>; keyOf: Map<string, string> } => {
    const kept = new Map<string, NodeLike>();
    const keyOf = new Map<string, string>();
    for (const n of c.nodes) {
      const k = nodeKey(n);
      keyOf.set(n.id, k);
      if (Math.abs(n.effect) > threshold) kept.set(k, n);
    }
    return { kept, keyOf };
  };
  const A = index(a);
  const B = index(b);
  const entry = (k: string, n: NodeLike, ea: number | null, eb: number | null): ComparedNode => ({
    key: k,
    submodule: n.submodule,
    feature: n.feature,
    position: n.position ?? null,
    effectA: ea,
    effectB: eb,
  });
  const onlyA: ComparedNode[] = [];
  const onlyB: ComparedNode[] = [];
  const both: ComparedNode[] = [];
  for (const [k, n] of A.kept) {
    const m = B.kept.get(k);
    if (m) both.push(entry(k, n, n.effect, m.effect));
    else onlyA.push(entry(k, n, n.effect, null));
  }
  for (const [k, n] of B.kept) if (!A.kept.has(k)) onlyB.push(entry(k, n, null, n.effect));
  const byEffect = (x: ComparedNode, y: ComparedNode): number =>
    Math.max(Math.abs(y.effectA ?? 0), Math.abs(y.effectB ?? 0)) - Math.max(Math.abs(x.effectA ?? 0), Math.abs(x.effectB ?? 0)) || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
  onlyA.sort(byEffect);
  onlyB.sort(byEffect);
  both.sort(byEffect);
  const union = onlyA.length + onlyB.length + both.length;
  const jaccard = union === 0 ? null : both.length / union;
  const correlation = pearson(
    both.map((n) => n.effectA!),
    both.map((n) => n.effectB!),
  );

  // Edges: endpoints translated to node keys so ids spelt differently still match.
  const edgeMap = new Map<string, ComparedEdge>();
  const endpoint = (keyOf: Map<string, string>, id: string): string => (id === METRIC_NODE ? METRIC_NODE : (keyOf.get(id) ?? id));
  for (const e of a.edges ?? []) {
    const s = endpoint(A.keyOf, e.source);
    const t = endpoint(A.keyOf, e.target);
    edgeMap.set(`${s}->${t}`, { source: s, target: t, weightA: e.weight, weightB: 0, delta: -e.weight, inA: true, inB: false });
  }
  for (const e of b.edges ?? []) {
    const s = endpoint(B.keyOf, e.source);
    const t = endpoint(B.keyOf, e.target);
    const k = `${s}->${t}`;
    const prev = edgeMap.get(k);
    if (prev) {
      prev.weightB = e.weight;
      prev.delta = e.weight - prev.weightA;
      prev.inB = true;
    } else edgeMap.set(k, { source: s, target: t, weightA: 0, weightB: e.weight, delta: e.weight, inA: false, inB: true });
  }
  const changedEdges = [...edgeMap.entries()]
    .filter(([, e]) => e.delta !== 0)
    .sort(([ka, x], [kb, y]) => Math.abs(y.delta) - Math.abs(x.delta) || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .slice(0, topEdges)
    .map(([, e]) => e);

  return { threshold, onlyA, onlyB, both, jaccard, correlation, changedEdges, warnings };
}
