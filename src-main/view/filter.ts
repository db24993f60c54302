/**
 * What the view shows (docs/figures.md §Filters). Nothing is hidden silently: every filter
 * reports how many nodes and edges it hides. Pinned and selected nodes are never hidden.
 * Filtering only chooses ids; positions come from layoutCircuit once, so filters never relayout.
 */
import { METRIC_NODE, nodeLabel, positionFreeId } from './names';
import { edgeId, type CircuitLike } from './types';

export interface FilterOptions {
  /** A node is shown when |effect| > nodeThreshold (the circuit file's own rule). */
  nodeThreshold: number;
  /** An edge is shown when both ends are shown and |weight| > edgeThreshold. */
  edgeThreshold: number;
  /** Case-insensitive text that a shown node's id or label must contain; empty = no search. */
  search?: string;
  /** Nodes shown whatever the filters say (pinned, selected). */
  pinned?: ReadonlySet<string>;
  /** Labels searched along with the ids, keyed by position-free id. */
  annotations?: ReadonlyMap<string, string>;
}

export interface FilterCounts {
  nodes: {
    total: number;
    visible: number;
    /** Matches the search (or no search) but |effect| ≤ nodeThreshold. */
    hiddenByThreshold: number;
    /** Does not match the search (counted here whatever its effect). */
    hiddenBySearch: number;
  };
  edges: {
    total: number;
    visible: number;
    /** Both ends shown, but |weight| ≤ edgeThreshold. */
    hiddenByThreshold: number;
    /** One end or both hidden. */
    hiddenByEndpoint: number;
  };
}

export interface FilterResult {
  /** Shown circuit nodes. The metric `y` is not a circuit node and is always shown. */
  nodes: Set<string>;
  /** Shown edges, by edgeId (`source->target`). */
  edges: Set<string>;
  counts: FilterCounts;
}

/** Whether a node matches a search text (id, position-free id, label; case-insensitive). */
export function matchesSearch(
  node: { id: string; submodule?: string; feature?: number | 'error' },
  search: string,
  annotations?: ReadonlyMap<string, string>,
): boolean {
  const q = search.trim().toLowerCase();
  if (!q) return true;
  if (node.id.toLowerCase().includes(q)) return true;
  const label = nodeLabel(node, annotations).toLowerCase();
  return label.includes(q) || positionFreeId(node.id).toLowerCase().includes(q);
}

export function filterCircuit(circuit: Pick<CircuitLike, 'nodes' | 'edges'>, options: FilterOptions): FilterResult {
  const { nodeThreshold, edgeThreshold, pinned, annotations } = options;
  const search = options.search?.trim() ?? '';
  const nodes = new Set<string>();
  let byThreshold = 0;
  let bySearch = 0;
  for (const n of circuit.nodes) {
    if (pinned?.has(n.id)) nodes.add(n.id);
    else if (search && !matchesSearch(n, search, annotations)) bySearch++;
    else if (!(Math.abs(n.effect) > nodeThreshold)) byThreshold++;
    else nodes.add(n.id);
  }
  const shown = (id: string): boolean => id === METRIC_NODE || nodes.has(id);
  const edges = new Set<string>();
  let eByThreshold = 0;
  let eByEndpoint = 0;
  let eShown = 0;
  const all = circuit.edges ?? [];
  for (const e of all) {
    if (!shown(e.source) || !shown(e.target)) eByEndpoint++;
    else if (!(Math.abs(e.weight) > edgeThreshold)) eByThreshold++;
    else {
      edges.add(edgeId(e));
      eShown++;
    }
  }
  return {
    nodes,
    edges,
    counts: {
      nodes: { total: circuit.nodes.length, visible: nodes.size, hiddenByThreshold: byThreshold, hiddenBySearch: bySearch },
      edges: { total: all.length, visible: eShown, hiddenByThreshold: eByThreshold, hiddenByEndpoint: eByEndpoint },
    },
  };
}
