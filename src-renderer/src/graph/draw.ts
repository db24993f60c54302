/**
 * The layer under the React Flow nodes, drawn on one canvas: lane bands and labels, token
 * columns, and every edge. React Flow makes one SVG element per edge, which does not hold 10 000
 * edges smoothly; here edges are stroked in (sign, width) batches, a few dozen strokes a frame.
 */
import { METRIC_NODE, NEGATIVE_COLOR, POSITIVE_COLOR } from '../../../src-main/view';
import { WIDTH_LEVELS, type CompareStatus, type GraphModel } from './model';

/**
 * The nodes, when zoomed so far out that their labels could not be read: drawn here instead of
 * as React Flow elements (whose layer is then hidden), so a 2 000-node overview costs one
 * canvas, not 2 000 DOM boxes, on every filter change and pan.
 */
export interface NodeLayer {
  /** null: every node is shown. */
  visible: ReadonlySet<string> | null;
  selection: ReadonlySet<string>;
  badges?: ReadonlyMap<string, string>;
  status?: ReadonlyMap<string, CompareStatus>;
}

export const NEUTRAL_EDGE = '#9aa1ab';
const SIGN_COLORS = [POSITIVE_COLOR, NEGATIVE_COLOR, NEUTRAL_EDGE];

export interface DrawParams {
  /** CSS pixels of the canvas and the device pixel ratio. */
  width: number;
  height: number;
  dpr: number;
  /** React Flow's viewport: translate x, y and zoom. */
  transform: readonly [number, number, number];
  model: GraphModel;
  /** 1 for edges to draw. */
  mask: Uint8Array;
  /** Edges of the selected / hovered nodes: drawn on top, the others faded. */
  highlight: Uint8Array | null;
  /** Draw the nodes too (far zoom). */
  nodes?: NodeLayer | null;
}

export function drawLayer(ctx: CanvasRenderingContext2D, p: DrawParams): { drawn: number } {
  const [tx, ty, k] = p.transform;
  const { model, mask, highlight } = p;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, p.width * p.dpr, p.height * p.dpr);
  ctx.setTransform(p.dpr * k, 0, 0, p.dpr * k, p.dpr * tx, p.dpr * ty);
  // The visible part of the flow plane, with a margin for curves that bulge out.
  const vx0 = -tx / k;
  const vy0 = -ty / k;
  const vx1 = vx0 + p.width / k;
  const vy1 = vy0 + p.height / k;

  drawLanes(ctx, p, vx0, vx1);

  const g = model.edgeGeom;
  const n = model.edges.length;
  let drawn = 0;
  const pass = (want: 0 | 1 | null, alphaScale: number): void => {
    for (let sign = 0; sign < 3; sign++) {
      for (let level = 0; level < WIDTH_LEVELS; level++) {
        const bucket = sign * WIDTH_LEVELS + level;
        let started = false;
        for (let i = 0; i < n; i++) {
          if (!mask[i] || model.edgeBucket[i] !== bucket) continue;
          if (want !== null && (highlight ? highlight[i] : 0) !== want) continue;
          const sx = g[i * 4];
          const sy = g[i * 4 + 1];
          const ex = g[i * 4 + 2];
          const ey = g[i * 4 + 3];
          if (Math.max(sx, ex) < vx0 || Math.min(sx, ex) > vx1 || Math.max(sy, ey) < vy0 || Math.min(sy, ey) > vy1 || Number.isNaN(sx + ex)) continue;
          if (!started) {
            ctx.beginPath();
            started = true;
          }
          const my = (sy + ey) / 2;
          ctx.moveTo(sx, sy);
          ctx.bezierCurveTo(sx, my, ex, my, ex, ey);
          drawn++;
        }
        if (!started) continue;
        const strength = (level + 0.5) / WIDTH_LEVELS;
        const w = 0.5 + 5.5 * strength * strength;
        // The selection's own edges: never fainter than 0.8 and a little wider, so they stand out.
        const on = want === 1;
        ctx.lineWidth = Math.max(w + (on ? 1 : 0), (on ? 1.5 : 0.6) / k);
        ctx.strokeStyle = SIGN_COLORS[sign];
        ctx.globalAlpha = on ? Math.max(0.8, Math.min(1, 0.25 + 0.65 * strength)) : Math.min(1, (0.25 + 0.65 * strength) * alphaScale);
        ctx.stroke();
      }
    }
  };
  ctx.lineCap = 'round';
  if (highlight) {
    pass(0, 0.3);
    pass(1, 1);
  } else pass(null, 1);
  ctx.globalAlpha = 1;
  if (p.nodes) drawNodes(ctx, p, p.nodes, vx0, vy0, vx1, vy1);
  return { drawn };
}

function drawNodes(ctx: CanvasRenderingContext2D, p: DrawParams, layer: NodeLayer, vx0: number, vy0: number, vx1: number, vy1: number): void {
  const { model } = p;
  const k = p.transform[2];
  const px = 1 / k;
  const shape = (id: string, feature: number | 'error' | null, b: { x: number; y: number; width: number; height: number }): void => {
    ctx.beginPath();
    if (id === METRIC_NODE) {
      ctx.moveTo(b.x + b.width / 2, b.y);
      ctx.lineTo(b.x + b.width, b.y + b.height / 2);
      ctx.lineTo(b.x + b.width / 2, b.y + b.height);
      ctx.lineTo(b.x, b.y + b.height / 2);
    } else if (feature === 'error') {
      ctx.moveTo(b.x + b.width / 2, b.y);
      ctx.lineTo(b.x + b.width, b.y + b.height);
      ctx.lineTo(b.x, b.y + b.height);
    } else ctx.rect(b.x, b.y, b.width, b.height);
    ctx.closePath();
  };
  ctx.lineWidth = px;
  ctx.strokeStyle = '#333';
  const selected: { id: string; feature: number | 'error' | null }[] = [];
  model.nodes.forEach((n, i) => {
    if (layer.visible && !layer.visible.has(n.id)) return;
    const b = model.layout.nodes.get(n.id);
    if (!b || b.x > vx1 || b.x + b.width < vx0 || b.y > vy1 || b.y + b.height < vy0) return;
    shape(n.id, n.feature, b);
    ctx.fillStyle = model.fills[i];
    ctx.fill();
    const st = layer.status?.get(n.id);
    if (st === 'onlyA' || st === 'onlyB') {
      ctx.lineWidth = 2.5 * px;
      ctx.setLineDash(st === 'onlyA' ? [6 * px, 3 * px] : [1.5 * px, 2.5 * px]);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.lineWidth = px;
    } else ctx.stroke();
    if (layer.badges?.has(n.id)) {
      ctx.fillStyle = '#1d2330';
      ctx.beginPath();
      ctx.arc(b.x + b.width, b.y, Math.max(5, 3 * px), 0, Math.PI * 2);
      ctx.fill();
    }
    if (layer.selection.has(n.id)) selected.push({ id: n.id, feature: n.feature });
  });
  const m = model.layout.nodes.get(METRIC_NODE);
  if (m) {
    shape(METRIC_NODE, null, m);
    ctx.fillStyle = '#e5e7eb';
    ctx.fill();
    ctx.stroke();
  }
  // Selected nodes: a wide light halo and a dark outline, readable at any zoom.
  for (const s of selected) {
    const b = model.layout.nodes.get(s.id)!;
    shape(s.id, s.feature, b);
    ctx.strokeStyle = 'rgba(255, 214, 0, 0.85)';
    ctx.lineWidth = 8 * px;
    ctx.stroke();
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 2.5 * px;
    ctx.stroke();
  }
}

/** Alternating bands per layer and the tokens under the columns (lane names: LaneLabels.tsx). */
function drawLanes(ctx: CanvasRenderingContext2D, p: DrawParams, vx0: number, vx1: number): void {
  const { layout } = p.model;
  const k = p.transform[2];
  const gap = layout.options.rowGap / 2;
  let band = 0;
  let prev: string | null = null;
  const left = layout.options.padding;
  const right = layout.bounds.width - layout.options.padding;
  for (const r of layout.rows) {
    const layer = r.submodule === METRIC_NODE ? 'y' : (/_(\d+)$/.exec(r.submodule)?.[1] ?? r.submodule);
    if (layer !== prev) band++;
    prev = layer;
    if (band % 2 === 0) {
      ctx.fillStyle = '#eef0f3';
      ctx.fillRect(left, r.y - gap, right - left, r.height + 2 * gap);
    }
  }
  if (layout.tokenY !== null && layout.rows.length) {
    const top = layout.rows[layout.rows.length - 1].y - gap;
    ctx.strokeStyle = '#b0b5bd';
    ctx.lineWidth = 1 / k;
    ctx.setLineDash([4 / k, 4 / k]);
    ctx.beginPath();
    layout.columns.forEach((c, i) => {
      if (i === 0) return;
      const x = c.x - layout.options.columnGap / 2;
      ctx.moveTo(x, top);
      ctx.lineTo(x, layout.tokenY! + 4);
    });
    ctx.stroke();
    ctx.setLineDash([]);
    // Tokens: at least 11 px on screen, so they stay readable when zoomed out.
    const size = Math.max(15, 11 / k);
    ctx.font = `${size}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillStyle = '#1d2330';
    for (const c of layout.columns) {
      const cx = c.x + c.width / 2;
      if (cx < vx0 - c.width || cx > vx1 + c.width) continue;
      const tok = c.token ?? '';
      ctx.fillText(tok.trim() === '' ? JSON.stringify(tok) : tok.trim(), cx, layout.tokenY + 6);
      ctx.fillStyle = '#6b7280';
      ctx.font = `${size * 0.7}px system-ui, sans-serif`;
      ctx.fillText(`pos ${c.position}`, cx, layout.tokenY + 8 + size);
      ctx.fillStyle = '#1d2330';
      ctx.font = `${size}px system-ui, sans-serif`;
    }
  }
}
