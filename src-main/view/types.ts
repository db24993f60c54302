/**
 * The part of a circuit file (docs/circuit-format.md) the view layer reads. Type-only import,
 * so the renderer bundle pulls in nothing from circuits/.
 */
import type { CircuitFile } from '../circuits/circuit-file';

export type { CircuitEdge, CircuitFile, CircuitNode } from '../circuits/circuit-file';

/** A full circuit file, or a pruned view of one that keeps these fields. */
export type CircuitLike = Pick<CircuitFile, 'submodules' | 'positions' | 'nodes' | 'edges'>;

/** Edges have no id in the file; this one is unique because (source, target) pairs are. */
export function edgeId(e: { source: string; target: string }): string {
  return `${e.source}->${e.target}`;
}
