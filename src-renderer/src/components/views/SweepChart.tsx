/**
 * One sweep curve (faithfulness or completeness against the number of nodes, log x) drawn by
 * uPlot, with the current node threshold marked; clicking a point sets the threshold.
 */
import React, { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { POSITIVE_COLOR } from '../../../../src-main/view';

export interface SweepPoint {
  threshold: number;
  nodes: number;
  value: number;
}

export function SweepChart({ title, points, markIndex, onPick, color = POSITIVE_COLOR, ideal }: { title: string; points: SweepPoint[]; markIndex: number | null; onPick(p: SweepPoint): void; color?: string; ideal: number }): React.JSX.Element {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const mark = useRef<number | null>(markIndex);
  const pick = useRef(onPick);
  pick.current = onPick;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const xs = points.map((p) => p.nodes);
    const ys = points.map((p) => p.value);
    const markHook = (u: uPlot): void => {
      const i = mark.current;
      if (i === null || !points[i]) return;
      const ctx = u.ctx;
      const x = u.valToPos(points[i].nodes, 'x', true);
      const y = u.valToPos(points[i].value, 'y', true);
      ctx.save();
      ctx.strokeStyle = '#1d2330';
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#1d2330';
      ctx.beginPath();
      ctx.arc(x, y, 6 * devicePixelRatio, 0, Math.PI * 2);
      ctx.fill();
      ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
      // Written along the bottom, away from the curve (faithfulness runs near 1, completeness near 0).
      ctx.textBaseline = 'bottom';
      const label = 'current threshold';
      const w = ctx.measureText(label).width;
      const right = x + 8 * devicePixelRatio + w < u.bbox.left + u.bbox.width;
      ctx.fillText(label, right ? x + 6 * devicePixelRatio : x - w - 6 * devicePixelRatio, u.bbox.top + u.bbox.height / 2);
      ctx.restore();
    };
    const idealHook = (u: uPlot): void => {
      const ctx = u.ctx;
      const y = u.valToPos(ideal, 'y', true);
      ctx.save();
      ctx.strokeStyle = '#9aa1ab';
      ctx.lineWidth = devicePixelRatio;
      ctx.setLineDash([2 * devicePixelRatio, 3 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.restore();
    };
    const u = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: 260,
        title,
        scales: { x: { time: false, distr: 3 }, y: { range: (_u, lo, hi) => [Math.min(0, lo - 0.05), Math.max(1.05, hi + 0.05)] } },
        axes: [
          { label: 'nodes in the circuit (log scale)', stroke: '#4b5563', grid: { stroke: '#e5e7eb' } },
          { label: title.toLowerCase(), stroke: '#4b5563', grid: { stroke: '#e5e7eb' } },
        ],
        series: [
          { label: 'nodes' },
          { label: title, stroke: color, width: 2, points: { show: true, size: 7, fill: color }, value: (_u, v) => (v === null ? '—' : v.toFixed(3)) },
        ],
        cursor: { drag: { x: false, y: false }, points: { size: 10 } },
        legend: { show: false },
        hooks: { draw: [idealHook, markHook] },
      },
      [xs, ys],
      el,
    );
    plot.current = u;
    // A click picks the point under the cursor (uPlot snaps the cursor to the nearest x).
    const click = (): void => {
      const i = u.cursor.idx;
      if (i !== null && i !== undefined && points[i]) pick.current(points[i]);
    };
    u.over.addEventListener('click', click);
    u.over.style.cursor = 'pointer';
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(280, el.clientWidth), height: 260 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.over.removeEventListener('click', click);
      u.destroy();
      plot.current = null;
    };
  }, [points, title, color, ideal]);

  useEffect(() => {
    mark.current = markIndex;
    plot.current?.redraw(false);
  }, [markIndex]);

  return <div ref={host} className="sweep-chart" data-testid={`chart-${title.toLowerCase()}`} />;
}
