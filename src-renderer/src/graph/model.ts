/**
 * The graph model of one circuit version: everything the editor derives from the circuit once
 * (layout, colour scale, edge geometry and buckets, adjacency), and the cheap per-filter steps
 * on top of it (which nodes are hidden, which edges are drawn). Pure: no React, no DOM, so the
 * unit tests run it without a browser. Filtering never relayouts (src-main/view/filter.ts).
 */
import type { Node } from '@xyflow/react';
import {
  METRIC_NODE,
  edgeId,
  effectGlyph,
  effectScale,
  layoutCircuit,
  nodeLabel,
  nodeShape,
  positionFreeId,
  textColorOn,
  type CircuitLayout,
  type CircuitLike,
  type LayoutOptions,
  type NodeShape,
} from '../../../src-main/view';
import type { CircuitEdge, CircuitNode } from '../../../src-main/view/types';

/** Width levels per sign; edges are stroked in (sign, level) batches on the canvas. */
export const WIDTH_LEVELS = 8;

export interface GraphModel {
  nodes: CircuitNode[];
  edges: CircuitEdge[];
  nodeById: Map<string, CircuitNode>;
  layout: CircuitLayout;
  maxAbsEffect: number;
  color(effect: number): string;
  /** Fill per node, in `nodes` order (drawn on the canvas when zoomed far out). */
  fills: string[];
  maxAbsWeight: number;
  /** `source->target` per edge, as filterCircuit names them. */
  edgeKeys: string[];
  /** Per edge: source x, source y (top of the lower box), target x, target y (bottom of the upper box). */
  edgeGeom: Float32Array;
  /** Per edge: sign * WIDTH_LEVELS + level (0 = thinnest), level from |weight| / max; sign 0 is
   *  positive, 1 negative, 2 zero (the compare view's unchanged edges). */
  edgeBucket: Uint8Array;
  /** Edge indices into and out of each node, strongest first. */
  incoming: Map<string, number[]>;
  outgoing: Map<string, number[]>;
}

export interface GraphModelOptions {
  /** Positions to keep (a later version of the same circuit keeps its parent's places). */
  layout?: CircuitLayout;
  layoutOptions?: LayoutOptions;
}

/** Whether a layout places every node of a circuit (so a version can reuse its parent's). */
export function layoutCovers(layout: CircuitLayout, circuit: Pick<CircuitLike, 'nodes'>): boolean {
  for (const n of circuit.nodes) if (!layout.nodes.has(n.id)) return false;
  return true;
}

const WRAPS = [2, 3, 4, 6, 8, 12, 16, 24, 32];

/**
 * How many nodes a cell holds side by side before it wraps. Without wrapping, a circuit with a
 * few dozen features at one token is many times wider than tall, and fitting it to the window
 * leaves every box a few pixels wide. This picks the wrap whose layout comes closest to the
 * graph pane's shape (about 3:2), preferring wider cells on ties. A handful of closed-form
 * layouts: a few milliseconds at 2 000 nodes.
 */
export function chooseWrap(circuit: CircuitLike, aspect = 1.5): number {
  let best = 8;
  let bestScore = Infinity;
  for (const wrap of WRAPS) {
    const b = layoutCircuit(circuit, { wrap }).bounds;
    const score = Math.abs(Math.log(b.width / b.height / aspect));
    if (score < bestScore - 1e-9 || (Math.abs(score - bestScore) < 0.05 && wrap > best)) {
      best = wrap;
      bestScore = Math.min(score, bestScore);
    }
  }
  return best;
}

export function buildGraphModel(circuit: CircuitLike, o: GraphModelOptions = {}): GraphModel {
  const layout = o.layout && layoutCovers(o.layout, circuit) ? o.layout : layoutCircuit(circuit, o.layoutOptions ?? { wrap: chooseWrap(circuit) });
  const nodes = circuit.nodes;
  const edges = circuit.edges ?? [];
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const scale = effectScale(nodes.map((n) => n.effect));
  let maxAbsWeight = 0;
  for (const e of edges) maxAbsWeight = Math.max(maxAbsWeight, Math.abs(e.weight));

  const edgeKeys = new Array<string>(edges.length);
  const edgeGeom = new Float32Array(edges.length * 4);
  const edgeBucket = new Uint8Array(edges.length);
  const incoming = new Map<string, number[]>();
  const outgoing = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, i: number): void => {
    const l = m.get(k);
    if (l) l.push(i);
    else m.set(k, [i]);
  };
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i];
    edgeKeys[i] = edgeId(e);
    const s = layout.nodes.get(e.source);
    const t = layout.nodes.get(e.target);
    // An edge whose end is not laid out (a malformed file) gets NaN and is never drawn.
    edgeGeom[i * 4] = s ? s.x + s.width / 2 : NaN;
    edgeGeom[i * 4 + 1] = s ? s.y : NaN;
    edgeGeom[i * 4 + 2] = t ? t.x + t.width / 2 : NaN;
    edgeGeom[i * 4 + 3] = t ? t.y + t.height : NaN;
    const strength = maxAbsWeight > 0 ? Math.abs(e.weight) / maxAbsWeight : 0;
    edgeBucket[i] = (e.weight > 0 ? 0 : e.weight < 0 ? 1 : 2) * WIDTH_LEVELS + Math.min(WIDTH_LEVELS - 1, Math.floor(Math.sqrt(strength) * WIDTH_LEVELS));
    push(outgoing, e.source, i);
    push(incoming, e.target, i);
  }
  const byWeight = (a: number, b: number): number => Math.abs(edges[b].weight) - Math.abs(edges[a].weight);
  for (const l of incoming.values()) l.sort(byWeight);
  for (const l of outgoing.values()) l.sort(byWeight);
  const fills = nodes.map((n) => scale.color(n.effect));
  return { nodes, edges, nodeById, layout, maxAbsEffect: scale.maxAbs, color: scale.color, fills, maxAbsWeight, edgeKeys, edgeGeom, edgeBucket, incoming, outgoing };
}

/** Which edges to draw: 1 where filterCircuit shows the edge. */
export function edgeMask(model: GraphModel, shown: ReadonlySet<string>): Uint8Array {
  const m = new Uint8Array(model.edges.length);
  for (let i = 0; i < m.length; i++) if (shown.has(model.edgeKeys[i])) m[i] = 1;
  return m;
}

/** Edges that touch any of `ids` (to draw on top, the rest faded). */
export function incidentMask(model: GraphModel, ids: Iterable<string>): Uint8Array | null {
  let m: Uint8Array | null = null;
  for (const id of ids) {
    m ??= new Uint8Array(model.edges.length);
    for (const i of model.incoming.get(id) ?? []) m[i] = 1;
    for (const i of model.outgoing.get(id) ?? []) m[i] = 1;
  }
  return m;
}

// ---- labels ---------------------------------------------------------------------------------

/** Circuit-local label (relabel edit) first, then the shared feature annotation, then the id. */
export function labelOf(
  n: { id: string; submodule?: string; feature?: number | 'error' },
  annotations: ReadonlyMap<string, string>,
  local?: Readonly<Record<string, string>>,
): string {
  const l = local?.[n.id];
  if (l && l.trim()) return l;
  return nodeLabel(n, annotations);
}

/** The key annotations are stored under: the position-free id (`resid_2/31098`). */
export const annotationKey = positionFreeId;

// ---- React Flow nodes -----------------------------------------------------------------------

export type CompareStatus = 'both' | 'onlyA' | 'onlyB';

export interface FeatureNodeData extends Record<string, unknown> {
  label: string;
  /** Tooltip and accessible description. */
  title: string;
  fill: string;
  ink: string;
  glyph: string;
  shape: NodeShape;
  badge: string | null;
  group: string | null;
  status: CompareStatus | null;
}

export type FlowNode = Node<FeatureNodeData, 'feature'>;

export interface NodeDecor {
  label(n: CircuitNode): string;
  badge?(id: string): string | null;
  group?(id: string): string | null;
  status?(id: string): CompareStatus | null;
}

const short = (v: number): string => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return (a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(3))) : v.toExponential(2)).replace(/-/g, '−');
};

/**
 * React Flow nodes for a model: every circuit node plus the metric. Filters do not touch these
 * objects (the editor's node components read their shown/hidden flag from a separate store, so
 * a threshold move re-renders only the nodes that flip and React Flow sees no change); pass
 * `visible` only where React Flow itself should drop nodes. Objects from `prev` are reused when
 * nothing about the node changed (a new label re-renders one node, not all).
 */
export function buildFlowNodes(model: GraphModel, visible: ReadonlySet<string> | null, decor: NodeDecor, prev?: ReadonlyMap<string, FlowNode>): FlowNode[] {
  const out: FlowNode[] = [];
  const make = (id: string, data: FeatureNodeData, hidden: boolean): void => {
    const box = model.layout.nodes.get(id);
    if (!box) return;
    const old = prev?.get(id);
    if (old && old.hidden === hidden && old.position.x === box.x && old.position.y === box.y && sameData(old.data, data)) {
      out.push(old);
      return;
    }
    out.push({
      id,
      type: 'feature',
      position: { x: box.x, y: box.y },
      width: box.width,
      height: box.height,
      data,
      hidden,
      draggable: false,
      selectable: false,
      connectable: false,
      ariaLabel: data.title,
    });
  };
  for (const n of model.nodes) {
    const fill = model.color(n.effect);
    const label = decor.label(n);
    const pos = n.position === undefined ? '' : ` at position ${n.position}`;
    make(
      n.id,
      {
        label,
        title: `${label === n.id ? n.id : `${label} (${n.id})`}${pos}, effect ${short(n.effect)}`,
        fill,
        ink: textColorOn(fill),
        glyph: effectGlyph(n.effect),
        shape: nodeShape(n),
        badge: decor.badge?.(n.id) ?? null,
        group: decor.group?.(n.id) ?? null,
        status: decor.status?.(n.id) ?? null,
      },
      visible !== null && !visible.has(n.id),
    );
  }
  make(METRIC_NODE, { label: 'y', title: 'metric y', fill: '#e5e7eb', ink: '#1a1a1a', glyph: '', shape: 'diamond', badge: null, group: null, status: null }, false);
  return out;
}

function sameData(a: FeatureNodeData, b: FeatureNodeData): boolean {
  return a.label === b.label && a.fill === b.fill && a.badge === b.badge && a.group === b.group && a.status === b.status && a.title === b.title && a.shape === b.shape;
}

/** The shown node under a point in flow coordinates (clicks when zoomed far out), or null. */
export function nodeAt(model: GraphModel, p: { x: number; y: number }, visible: ReadonlySet<string> | null): string | null {
  const m = model.layout.nodes.get(METRIC_NODE);
  if (m && p.x >= m.x && p.x <= m.x + m.width && p.y >= m.y && p.y <= m.y + m.height) return METRIC_NODE;
  for (const n of model.nodes) {
    if (visible && !visible.has(n.id)) continue;
    const b = model.layout.nodes.get(n.id);
    if (b && p.x >= b.x && p.x <= b.x + b.width && p.y >= b.y && p.y <= b.y + b.height) return n.id;
  }
  return null;
}

/** Node ids whose boxes intersect a rectangle in flow coordinates (box select). */
export function nodesInRect(model: GraphModel, r: { x: number; y: number; width: number; height: number }, visible: ReadonlySet<string>): string[] {
  const x1 = r.x + r.width;
  const y1 = r.y + r.height;
  const out: string[] = [];
  for (const n of model.nodes) {
    if (!visible.has(n.id)) continue;
    const b = model.layout.nodes.get(n.id);
    if (b && b.x < x1 && b.x + b.width > r.x && b.y < y1 && b.y + b.height > r.y) out.push(n.id);
  }
  return out;
}

// ---- threshold sliders ----------------------------------------------------------------------

/** Slider steps; position 0 means threshold 0 (everything shown). */
export const SLIDER_STEPS = 1000;

/**
 * A log scale from max/10⁴ to max over positions 1…SLIDER_STEPS, 0 meaning 0: effects span
 * orders of magnitude, and the interesting cut-offs sit in the lower decades.
 */
export function sliderToThreshold(pos: number, max: number): number {
  if (pos <= 0 || !(max > 0)) return 0;
  const lo = Math.log10(max) - 4;
  const t = 10 ** (lo + (4 * Math.min(pos, SLIDER_STEPS)) / SLIDER_STEPS);
  return Number(t.toPrecision(3));
}

export function thresholdToSlider(t: number, max: number): number {
  if (!(t > 0) || !(max > 0)) return 0;
  const lo = Math.log10(max) - 4;
  return Math.max(1, Math.min(SLIDER_STEPS, Math.round(((Math.log10(t) - lo) / 4) * SLIDER_STEPS)));
}

/**
 * What Fit shows: the shown nodes, the metric, the lane names' gutter and the token strip.
 * Computed from the layout (React Flow's own fitView counts only nodes it has rendered and
 * measured, which with onlyRenderVisibleElements is only those already on screen).
 */
export function fitBounds(model: GraphModel, visible: ReadonlySet<string>): { x: number; y: number; width: number; height: number } {
  const L = model.layout;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  const add = (b: { x: number; y: number; width: number; height: number }): void => {
    x0 = Math.min(x0, b.x);
    y0 = Math.min(y0, b.y);
    x1 = Math.max(x1, b.x + b.width);
    y1 = Math.max(y1, b.y + b.height);
  };
  for (const id of visible) {
    const b = L.nodes.get(id);
    if (b) add(b);
  }
  const m = L.nodes.get(METRIC_NODE);
  if (m) add(m);
  if (!Number.isFinite(x0)) return L.bounds;
  x0 = Math.min(x0, L.options.padding);
  if (L.tokenY !== null) y1 = Math.max(y1, L.tokenY + L.options.tokenHeight);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
