/**
 * Submodule and node names (docs/circuit-format.md, docs/figures.md): model order of the
 * lanes, position-free names for annotation look-up, and display labels.
 *
 * Pure: shared by the renderer (bundled by Vite) and the CLI, so no Node, DOM or React here.
 */

/** The metric pseudo-node: an edge target only, never in `nodes`, drawn on top. */
export const METRIC_NODE = 'y';

export interface SubmoduleName {
  /** `embed`, `attn`, `mlp`, `resid`, or the whole name when it follows no known pattern. */
  component: string;
  /** Layer index; null for `embed` and unrecognised names. */
  layer: number | null;
}

const COMPONENT_ORDER: Record<string, number> = { attn: 0, mlp: 1, resid: 2 };

/** `resid_5` → {resid, 5}; `embed` → {embed, null}; anything else → {name, null}. */
export function parseSubmodule(name: string): SubmoduleName {
  if (name === 'embed') return { component: 'embed', layer: null };
  const m = /^(attn|mlp|resid)_(\d+)$/.exec(name);
  if (m) return { component: m[1], layer: Number(m[2]) };
  return { component: name, layer: null };
}

/**
 * A sort key for model order: embed first, then per layer attn, mlp, resid (the original's
 * rows, bottom to top). Unknown names sort after every known one, the metric last.
 */
export function submoduleOrderKey(name: string): number {
  if (name === 'embed') return -1;
  if (name === METRIC_NODE) return Number.MAX_SAFE_INTEGER;
  const p = parseSubmodule(name);
  if (p.layer === null) return Number.MAX_SAFE_INTEGER - 1;
  return p.layer * 3 + COMPONENT_ORDER[p.component];
}

/** Drops the `@<position>` suffix: `resid_5/3036@4` → `resid_5/3036` (annotations are position-free). */
export function positionFreeId(id: string): string {
  const at = id.lastIndexOf('@');
  return at < 0 ? id : id.slice(0, at);
}

/**
 * What a node shows when it has no annotation: its position-free id, with the error node
 * written `ε` as in the original's plots (`mlp_0/ε`). The column already says the position.
 */
export function defaultLabel(node: { id: string; submodule?: string; feature?: number | 'error' }): string {
  if (node.id === METRIC_NODE) return METRIC_NODE;
  if (node.feature === 'error' && node.submodule !== undefined) return `${node.submodule}/ε`;
  return positionFreeId(node.id);
}

/** The label: the annotation (looked up by the position-free id) when there is one, else the id. */
export function nodeLabel(
  node: { id: string; submodule?: string; feature?: number | 'error' },
  annotations?: ReadonlyMap<string, string>,
): string {
  const a = annotations?.get(positionFreeId(node.id));
  return a !== undefined && a.trim() !== '' ? a : defaultLabel(node);
}
