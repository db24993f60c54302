/**
 * The SHIFT table as a chart: per method, grouped bars for profession (↑), gender (↓) and worst
 * group (↑) accuracy, with 50 % (chance, i.e. no gender signal) dashed. Drawn by uPlot with the
 * bars painted in a draw hook, since its own bar paths cannot place three series side by side.
 */
import React, { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartRow {
  label: string;
  profession: number;
  gender: number;
  worstGroup: number;
}

/** Okabe–Ito blue, orange and bluish green: distinct with every common colour-vision deficiency. */
export const SERIES = [
  { key: 'profession', label: 'profession ↑', color: '#0072B2' },
  { key: 'gender', label: 'gender ↓', color: '#E69F00' },
  { key: 'worstGroup', label: 'worst group ↑', color: '#009E73' },
] as const;

export function ShiftChart({ rows }: { rows: ChartRow[] }): React.JSX.Element {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el || !rows.length) return;
    const xs = rows.map((_, i) => i);
    const data: uPlot.AlignedData = [xs, ...SERIES.map((s) => rows.map((r) => r[s.key] * 100))];
    const bars = (u: uPlot): void => {
      const ctx = u.ctx;
      const dpr = devicePixelRatio;
      const slot = (u.valToPos(1, 'x', true) - u.valToPos(0, 'x', true)) * 0.8;
      const w = slot / SERIES.length;
      const base = u.valToPos(0, 'y', true);
      ctx.save();
      ctx.font = `${10 * dpr}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      rows.forEach((r, i) => {
        const left = u.valToPos(i, 'x', true) - slot / 2;
        SERIES.forEach((s, k) => {
          const v = r[s.key] * 100;
          const top = u.valToPos(v, 'y', true);
          ctx.fillStyle = s.color;
          ctx.fillRect(left + k * w + dpr, top, w - 2 * dpr, base - top);
          ctx.fillStyle = '#1d2330';
          ctx.fillText(v.toFixed(0), left + k * w + w / 2, top - 2 * dpr);
        });
      });
      const y50 = u.valToPos(50, 'y', true);
      ctx.strokeStyle = '#5b6270';
      ctx.lineWidth = dpr;
      ctx.setLineDash([4 * dpr, 4 * dpr]);
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y50);
      ctx.lineTo(u.bbox.left + u.bbox.width, y50);
      ctx.stroke();
      ctx.restore();
    };
    const size = (): { width: number; height: number } => ({ width: Math.max(420, el.clientWidth), height: 300 });
    const u = new uPlot(
      {
        ...size(),
        title: 'Accuracy on the test split by method',
        scales: { x: { time: false, range: [-0.5, rows.length - 0.5] }, y: { range: [0, 108] } },
        axes: [
          { stroke: '#4b5563', grid: { show: false }, ticks: { show: false }, splits: () => xs, values: (_u, v) => v.map((i) => rows[i]?.label ?? ''), size: 36 },
          { label: 'accuracy (%)', stroke: '#4b5563', grid: { stroke: '#e5e7eb' }, splits: () => [0, 25, 50, 75, 100] },
        ],
        // The series exist for the legend; the bars are drawn by the hook.
        series: [{ label: 'method' }, ...SERIES.map((s) => ({ label: s.label, stroke: s.color, fill: s.color, width: 0, paths: () => null, points: { show: false } }))],
        cursor: { show: false },
        legend: { show: true, live: false },
        hooks: { draw: [bars] },
      },
      data,
      el,
    );
    const ro = new ResizeObserver(() => u.setSize(size()));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [rows]);
  return <div ref={host} className="shift-chart" data-testid="shift-chart" role="img" aria-label="Accuracy by method: profession, gender and worst group (also in the table)" />;
}
