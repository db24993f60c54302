/**
 * The circuit layout (docs/figures.md §Layout): lanes = submodules in model order, bottom to
 * top (embed at the bottom, the metric `y` on top); columns = token positions for
 * position-resolved circuits, one column for summed ones. Within a cell nodes go left to right
 * by |effect|, descending; a column is as wide as the most nodes any lane has at that token
 * (circuit-tracer's rule). A closed form: one counting pass and one sort per cell, so the
 * renderer can call it on every load and the static figure uses the very same positions.
 *
 * Coordinates are SVG-like: x to the right, y downwards, in pixels at zoom 1.
 */
import { METRIC_NODE, submoduleOrderKey } from './names';
import type { CircuitLike } from './types';

export interface LayoutOptions {
  /** Box size of one node. */
  nodeWidth?: number;
  nodeHeight?: number;
  /** Space between two nodes side by side in a cell, and between the lines of a wrapped cell. */
  gapX?: number;
  gapY?: number;
  /** Space between two lanes and between two token columns. */
  rowGap?: number;
  columnGap?: number;
  /** Gutter on the left where the lane labels go. */
  rowLabelWidth?: number;
  /** Strip under the lanes where the tokens are written (position-resolved circuits only). */
  tokenHeight?: number;
  /** Margin around everything. */
  padding?: number;
  /** At most this many nodes side by side in one cell; further nodes start a new line in the lane. */
  wrap?: number;
  /** Keep lanes of submodules that have no node (default true: the model's structure stays visible). */
  includeEmptyRows?: boolean;
  /** Place the metric node `y` on top (default true). */
  metric?: boolean;
}

export interface NodeBox {
  /** Top-left corner and size. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Index into `rows` and `columns`. */
  row: number;
  column: number;
  /** 0 for the largest |effect| in its cell. */
  rank: number;
}

export interface LayoutRow {
  submodule: string;
  label: string;
  /** Top of the lane and its height (several node lines when a cell wraps). */
  y: number;
  height: number;
}

export interface LayoutColumn {
  /** Token position; null in a summed circuit. */
  position: number | null;
  /** The token as written under the column; null in a summed circuit. */
  token: string | null;
  x: number;
  width: number;
}

export interface CircuitLayout {
  /** Every node of the circuit, plus `y` when `metric` is on. */
  nodes: Map<string, NodeBox>;
  /** Bottom lane (embed) first, the metric lane last: model order. */
  rows: LayoutRow[];
  columns: LayoutColumn[];
  /** Top of the token strip; null for summed circuits. */
  tokenY: number | null;
  /** Everything, lane labels and token strip included. */
  bounds: { x: number; y: number; width: number; height: number };
  /** The options in effect, defaults filled in. */
  options: Required<LayoutOptions>;
}

export const DEFAULT_LAYOUT: Required<LayoutOptions> = {
  nodeWidth: 132,
  nodeHeight: 32,
  gapX: 8,
  gapY: 6,
  rowGap: 14,
  columnGap: 28,
  rowLabelWidth: 76,
  tokenHeight: 40,
  padding: 16,
  wrap: Infinity,
  includeEmptyRows: true,
  metric: true,
};

/** Whether the circuit keeps one node per token position (`aggregation: none`). */
export function isPositionResolved(c: Pick<CircuitLike, 'positions' | 'nodes'>): boolean {
  return c.positions != null || c.nodes.some((n) => n.position !== undefined);
}

export function layoutCircuit(circuit: CircuitLike, options: LayoutOptions = {}): CircuitLayout {
  const o: Required<LayoutOptions> = { ...DEFAULT_LAYOUT, ...options };
  const wrap = Number.isFinite(o.wrap) ? Math.max(1, Math.floor(o.wrap)) : Number.MAX_SAFE_INTEGER; // no Infinity: 0·∞ is NaN
  const resolved = isPositionResolved(circuit);

  // Columns.
  let S = 1;
  if (resolved) {
    S = Math.max(1, circuit.positions?.length ?? 0);
    for (const n of circuit.nodes) if (n.position !== undefined && n.position + 1 > S) S = n.position + 1;
  }
  const colOf = (p: number | undefined): number => (resolved && p !== undefined && p >= 0 ? p : 0);

  // Lanes: every named submodule and every submodule a node uses, in model order; names that
  // follow no known pattern keep their first-seen order after the known ones.
  const seen = new Map<string, number>();
  for (const s of circuit.submodules) if (!seen.has(s.name)) seen.set(s.name, seen.size);
  for (const n of circuit.nodes) if (!seen.has(n.submodule)) seen.set(n.submodule, seen.size);
  seen.delete(METRIC_NODE);
  let names = [...seen.keys()].sort((a, b) => submoduleOrderKey(a) - submoduleOrderKey(b) || seen.get(a)! - seen.get(b)!);
  if (!o.includeEmptyRows) {
    const used = new Set(circuit.nodes.map((n) => n.submodule));
    names = names.filter((s) => used.has(s));
  }
  if (o.metric) names.push(METRIC_NODE);
  const rowIndex = new Map(names.map((s, i) => [s, i]));
  const R = names.length;

  // Cells: node indices per (lane, column), sorted by |effect| descending, ties by id.
  const cells: number[][] = Array.from({ length: R * S }, () => []);
  circuit.nodes.forEach((n, i) => {
    const r = rowIndex.get(n.submodule);
    if (r === undefined) return; // a node named after the metric lane while `metric` is off
    cells[r * S + colOf(n.position)].push(i);
  });
  const nodes = circuit.nodes;
  for (const cell of cells) {
    if (cell.length > 1) {
      cell.sort((a, b) => Math.abs(nodes[b].effect) - Math.abs(nodes[a].effect) || (nodes[a].id < nodes[b].id ? -1 : nodes[a].id > nodes[b].id ? 1 : 0));
    }
  }
  const metricCol = S - 1;
  const cellCount = (r: number, c: number): number => cells[r * S + c].length + (o.metric && r === R - 1 && c === metricCol ? 1 : 0);

  // Column widths ∝ the most nodes any lane has at that token (capped by wrap).
  const pitchX = o.nodeWidth + o.gapX;
  const columns: LayoutColumn[] = [];
  let x = o.padding + o.rowLabelWidth;
  for (let c = 0; c < S; c++) {
    let most = 1;
    for (let r = 0; r < R; r++) most = Math.max(most, Math.min(wrap, cellCount(r, c)));
    const width = most * pitchX - o.gapX;
    columns.push({ position: resolved ? c : null, token: resolved ? (circuit.positions?.[c] ?? `#${c}`) : null, x, width });
    x += width + o.columnGap;
  }
  const right = x - o.columnGap + o.padding;

  // Lane heights: as many node lines as the fullest cell of the lane needs.
  const pitchY = o.nodeHeight + o.gapY;
  const lines = names.map((_, r) => {
    let most = 1;
    for (let c = 0; c < S; c++) most = Math.max(most, Math.ceil(cellCount(r, c) / wrap));
    return most;
  });
  const rows: LayoutRow[] = new Array(R);
  let y = o.padding;
  for (let r = R - 1; r >= 0; r--) {
    const height = lines[r] * pitchY - o.gapY;
    rows[r] = { submodule: names[r], label: names[r], y, height };
    y += height + o.rowGap;
  }
  const lanesBottom = y - o.rowGap;
  const tokenY = resolved ? lanesBottom + o.rowGap : null;
  const bottom = (tokenY !== null ? tokenY + o.tokenHeight : lanesBottom) + o.padding;

  // Boxes: each cell's lines centred in its column, lines stacked from the lane's top.
  const out = new Map<string, NodeBox>();
  const place = (ids: string[], r: number, c: number): void => {
    const col = columns[c];
    for (let k = 0; k < ids.length; k++) {
      const line = Math.floor(k / wrap);
      const inLine = Math.min(wrap, ids.length - line * wrap);
      const x0 = col.x + (col.width - (inLine * pitchX - o.gapX)) / 2;
      out.set(ids[k], {
        x: x0 + (k % wrap) * pitchX,
        y: rows[r].y + line * pitchY,
        width: o.nodeWidth,
        height: o.nodeHeight,
        row: r,
        column: c,
        rank: k,
      });
    }
  };
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < S; c++) {
      const ids = cells[r * S + c].map((i) => nodes[i].id);
      if (o.metric && r === R - 1 && c === metricCol) ids.push(METRIC_NODE);
      if (ids.length) place(ids, r, c);
    }
  }
  return { nodes: out, rows, columns, tokenY, bounds: { x: 0, y: 0, width: right, height: bottom }, options: o };
}
