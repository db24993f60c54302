/**
 * Visual encodings shared by the editor and the static figure (docs/figures.md §Encodings).
 *
 * Effect → fill on a blue–orange diverging scale: blue for positive (helps the behaviour, the
 * original's blue), orange for negative. Blue/orange stays apart for the common colour-vision
 * deficiencies, where the original's red/blue and red/green do less well; both halves are
 * ColorBrewer ramps (RdBu's blues, PuOr's oranges) and run light → dark, so |effect| also reads
 * as lightness. The sign is also drawn as a glyph (+/−) so it survives greyscale printing.
 */
import { METRIC_NODE } from './names';
import { edgeId } from './types';

type Rgb = [number, number, number];

const hex = (s: string): Rgb => [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16)];
const toHex = (c: Rgb): string => '#' + c.map((v) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0')).join('');

/** Light → dark, |t| = 0 … 1. */
const POSITIVE = ['#f7f7f7', '#d1e5f0', '#92c5de', '#4393c3', '#2166ac'].map(hex);
const NEGATIVE = ['#f7f7f7', '#fee0b6', '#fdb863', '#e08214', '#b35806'].map(hex);

export const POSITIVE_COLOR = '#2166ac';
export const NEGATIVE_COLOR = '#b35806';
export const NEUTRAL_COLOR = '#f7f7f7';

/** t in [−1, 1] (clamped) → colour; 0 is near-white. */
export function divergingColor(t: number): string {
  if (!Number.isFinite(t) || t === 0) return NEUTRAL_COLOR;
  const ramp = t > 0 ? POSITIVE : NEGATIVE;
  const u = Math.min(1, Math.abs(t)) * (ramp.length - 1);
  const i = Math.min(ramp.length - 2, Math.floor(u));
  const f = u - i;
  const a = ramp[i];
  const b = ramp[i + 1];
  return toHex([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]);
}

/**
 * The scale for one circuit: effects are divided by the largest |effect| over all its nodes,
 * features and errors, shown or not (the original's rule), so the colours do not change when a
 * filter hides nodes.
 */
export function effectScale(effects: Iterable<number>): { maxAbs: number; color: (effect: number) => string } {
  let maxAbs = 0;
  for (const e of effects) if (Number.isFinite(e)) maxAbs = Math.max(maxAbs, Math.abs(e));
  return { maxAbs, color: (e) => divergingColor(maxAbs > 0 ? e / maxAbs : 0) };
}

/** Dark text on light fills, white on dark ones (relative luminance, WCAG formula). */
export function textColorOn(fill: string): string {
  const lin = (v: number): number => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = hex(fill);
  const L = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  // Contrast against white (1.05 / (L + .05)) vs against near-black: pick the larger.
  return 1.05 / (L + 0.05) > (L + 0.05) / 0.0603 ? '#ffffff' : '#1a1a1a';
}

/** The sign as a glyph, drawn next to the label. */
export function effectGlyph(effect: number): '+' | '−' | '0' {
  return effect > 0 ? '+' : effect < 0 ? '−' : '0';
}

export type NodeShape = 'box' | 'triangle' | 'diamond';

/** Features are rounded boxes, SAE error nodes triangles (as in the original), the metric a diamond. */
export function nodeShape(node: { id: string; feature?: number | 'error' }): NodeShape {
  if (node.id === METRIC_NODE) return 'diamond';
  return node.feature === 'error' ? 'triangle' : 'box';
}

/** SVG path of a triangle (apex up) or diamond filling a box; null for the rounded box (a rect). */
export function shapePath(shape: NodeShape, b: { x: number; y: number; width: number; height: number }): string | null {
  const r = (v: number): string => String(Math.round(v * 100) / 100);
  const cx = b.x + b.width / 2;
  if (shape === 'triangle') return `M${r(cx)},${r(b.y)} L${r(b.x + b.width)},${r(b.y + b.height)} L${r(b.x)},${r(b.y + b.height)} Z`;
  if (shape === 'diamond') {
    const cy = b.y + b.height / 2;
    return `M${r(cx)},${r(b.y)} L${r(b.x + b.width)},${r(cy)} L${r(cx)},${r(b.y + b.height)} L${r(b.x)},${r(cy)} Z`;
  }
  return null;
}

/** Edge colour by the sign of its weight. */
export function edgeColor(weight: number): string {
  return weight < 0 ? NEGATIVE_COLOR : POSITIVE_COLOR;
}

/**
 * Each edge's signed share of its target's absolute input: w / Σ|w| over all edges into the
 * same target (circuit-tracer's normalisation). Computed over every edge given, so pass the full
 * circuit's edges to keep shares stable under filtering.
 */
export function inputShares(edges: readonly { source: string; target: string; weight: number }[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const e of edges) totals.set(e.target, (totals.get(e.target) ?? 0) + Math.abs(e.weight));
  const out = new Map<string, number>();
  for (const e of edges) {
    const t = totals.get(e.target)!;
    out.set(edgeId(e), t > 0 ? e.weight / t : 0);
  }
  return out;
}

export interface EdgeWidthOptions {
  minWidth?: number;
  maxWidth?: number;
}

/** Stroke width ∝ |weight| / max|weight| (the original's pen width, rescaled to a range). */
export function edgeWidthByWeight(weight: number, maxAbs: number, o: EdgeWidthOptions = {}): number {
  const lo = o.minWidth ?? 0.5;
  const hi = o.maxWidth ?? 6;
  const t = maxAbs > 0 ? Math.min(1, Math.abs(weight) / maxAbs) : 0;
  return lo + (hi - lo) * t;
}

/** Stroke width ∝ √|share| (circuit-tracer), share in [−1, 1]. */
export function edgeWidthByShare(share: number, o: EdgeWidthOptions = {}): number {
  const lo = o.minWidth ?? 0.5;
  const hi = o.maxWidth ?? 6;
  return lo + (hi - lo) * Math.sqrt(Math.min(1, Math.abs(share)));
}
