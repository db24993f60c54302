/**
 * The static circuit figure (`sfc plot`, docs/figures.md): the editor's layout and encodings
 * written out as one self-contained SVG string, with a header that says what is shown and what
 * the thresholds hide, and a legend. No DOM: plain string building, so the CLI and the renderer
 * (export) share it.
 */
import { filterCircuit } from './filter';
import { layoutCircuit, type CircuitLayout, type LayoutOptions } from './layout';
import { METRIC_NODE, nodeLabel } from './names';
import {
  edgeColor,
  edgeWidthByShare,
  edgeWidthByWeight,
  effectGlyph,
  effectScale,
  inputShares,
  nodeShape,
  shapePath,
  textColorOn,
  divergingColor,
  NEGATIVE_COLOR,
  POSITIVE_COLOR,
} from './encodings';
import { edgeId, type CircuitFile, type CircuitLike } from './types';

export interface SvgOptions {
  /** Labels by position-free node id; a node without one shows its id. */
  annotations?: ReadonlyMap<string, string>;
  nodeThreshold: number;
  edgeThreshold: number;
  /** Width of the SVG element in pixels; the height follows. Default: natural size. */
  width?: number;
  /** Edge width ∝ |weight| (default) or ∝ √(share of the target's absolute input). */
  edgeWidth?: 'weight' | 'share';
  /** First header line; default says what the circuit explains. */
  title?: string;
  /** Layout overrides; the figure's defaults wrap wide cells at 8 nodes. */
  layout?: LayoutOptions;
}

const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
const LABEL_PX = 11;
/** DejaVu Sans averages about 0.53 em per character of label text; a little more, to wrap safely. */
const CHAR_EM = 0.56;
const HEADER = 62;
const LEGEND = 86;

/** XML text: escapes markup characters and drops characters XML 1.0 forbids. */
export function escapeXml(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * Word-wraps a label into at most `maxLines` lines of `maxChars`, breaking long words (ids such
 * as `resid_2/31098` break after the "/"), and ends a cut label with "…".
 */
export function wrapLabel(text: string, maxChars: number, maxLines = 2): string[] {
  const width = Math.max(1, Math.floor(maxChars));
  const words = text.trim().split(/\s+/).flatMap((w) => {
    const parts: string[] = [];
    let rest = w;
    while (rest.length > width) {
      const slash = rest.lastIndexOf('/', width - 1);
      const cut = slash > 0 ? slash + 1 : width;
      parts.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    if (rest) parts.push(rest);
    return parts;
  });
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (!cur) cur = w;
    else if (cur.length + 1 + w.length <= width) cur += ` ${w}`;
    else {
      lines.push(cur);
      cur = w;
    }
  }
  if (cur) lines.push(cur);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = kept[maxLines - 1];
  kept[maxLines - 1] = (last.length >= width ? last.slice(0, width - 1) : last) + '…';
  return kept;
}

const f = (v: number): string => String(Math.round(v * 10) / 10);

/** Short numbers for people: 3 significant-ish digits, a real minus sign. */
function fmtNum(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 0.01 && a < 1e4 ? v.toFixed(a >= 10 ? 1 : a >= 1 ? 2 : 3) : v.toExponential(1);
  return s.replace(/-/g, '−');
}

function baseName(p: string): string {
  return p.split(/[\\/]/).filter(Boolean).pop() ?? p;
}

/** "Circuit for simple_train.jsonl" and a line with the method, aggregation and examples. */
function describeCircuit(c: CircuitLike & Partial<CircuitFile>): { title: string; detail: string } {
  const data = c.provenance?.data?.path ? baseName(c.provenance.data.path) : null;
  const p = c.parameters;
  const bits: string[] = [];
  if (p) {
    bits.push(`${p.method.toUpperCase()}${p.method === 'ig' ? ` (${p.steps} steps)` : ''}`);
    bits.push(`aggregation ${p.aggregation}`);
    bits.push(`${p.examples} examples`);
    if (p.neurons) bits.push('neurons');
  }
  if (typeof c.totalEffect === 'number') bits.push(`total effect ${fmtNum(c.totalEffect)}`);
  return { title: data ? `Feature circuit · ${data}` : 'Feature circuit', detail: bits.join(' · ') };
}

export function circuitToSvg(circuit: CircuitLike & Partial<CircuitFile>, options: SvgOptions): string {
  const { annotations, nodeThreshold, edgeThreshold } = options;
  const vis = filterCircuit(circuit, { nodeThreshold, edgeThreshold });
  const shownNodes = circuit.nodes.filter((n) => vis.nodes.has(n.id));
  const allEdges = circuit.edges ?? [];
  const shownEdges = allEdges.filter((e) => vis.edges.has(edgeId(e)));
  // The figure lays out only what it draws, so thresholds give a compact figure; the editor
  // lays out the whole circuit once and filters on top.
  const layout: CircuitLayout = layoutCircuit(
    { submodules: circuit.submodules, positions: circuit.positions, nodes: shownNodes, edges: shownEdges },
    { wrap: 8, ...options.layout },
  );
  const scale = effectScale(circuit.nodes.map((n) => n.effect));
  const shares = options.edgeWidth === 'share' ? inputShares(allEdges) : null;
  let maxW = 0;
  for (const e of shownEdges) maxW = Math.max(maxW, Math.abs(e.weight));

  const legendWidth = 860;
  const W = Math.max(layout.bounds.width, legendWidth + 2 * layout.options.padding);
  const H = HEADER + layout.bounds.height + LEGEND;
  const pad = layout.options.padding;
  const out: string[] = [];
  const outW = options.width ?? W;
  const outH = (H * outW) / W;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f(outW)}" height="${f(outH)}" viewBox="0 0 ${f(W)} ${f(H)}" font-family="${FONT}">`,
    `<rect x="0" y="0" width="${f(W)}" height="${f(H)}" fill="#ffffff"/>`,
  );

  // Header: what the figure shows and what the thresholds hide (nothing silently hidden).
  const d = describeCircuit(circuit);
  const c = vis.counts;
  const hiddenN = c.nodes.total - c.nodes.visible;
  const hiddenE = c.edges.total - c.edges.visible;
  const shows =
    `${c.nodes.visible} of ${c.nodes.total} nodes (|effect| > ${nodeThreshold})` +
    (circuit.edges ? ` · ${c.edges.visible} of ${c.edges.total} edges (|weight| > ${edgeThreshold}, both ends shown)` : ' · no edges in this circuit') +
    (hiddenN || hiddenE ? ` · hidden: ${hiddenN} nodes, ${hiddenE} edges` : '');
  out.push(
    `<text x="${pad}" y="${pad + 14}" font-size="16" font-weight="bold" fill="#1a1a1a">${escapeXml(options.title ?? d.title)}</text>`,
    `<text x="${pad}" y="${pad + 32}" font-size="12" fill="#444">${escapeXml(d.detail)}</text>`,
    `<text x="${pad}" y="${pad + 48}" font-size="12" fill="#444">${escapeXml(shows)}</text>`,
  );

  out.push(`<g transform="translate(0,${HEADER})">`);
  // Lane bands, alternating per layer so attn/mlp/resid of one layer read as a group.
  let band = 0;
  let prevLayer: string | null = null;
  layout.rows.forEach((r) => {
    const layer = r.submodule === METRIC_NODE ? 'y' : (/_(\d+)$/.exec(r.submodule)?.[1] ?? r.submodule);
    if (layer !== prevLayer) band++;
    prevLayer = layer;
    const gap = layout.options.rowGap / 2;
    if (band % 2 === 0) out.push(`<rect x="${pad}" y="${f(r.y - gap)}" width="${f(W - 2 * pad)}" height="${f(r.height + 2 * gap)}" fill="#f3f4f6"/>`);
    out.push(
      `<text x="${f(pad + layout.options.rowLabelWidth - 10)}" y="${f(r.y + r.height / 2 + 4)}" font-size="12" text-anchor="end" fill="#555">${escapeXml(r.submodule === METRIC_NODE ? 'metric' : r.label)}</text>`,
    );
  });
  // Token columns: dashed separators and the tokens underneath.
  if (layout.tokenY !== null) {
    const top = layout.rows[layout.rows.length - 1].y - layout.options.rowGap / 2;
    layout.columns.forEach((col, i) => {
      if (i > 0) {
        const x = col.x - layout.options.columnGap / 2;
        out.push(`<line x1="${f(x)}" y1="${f(top)}" x2="${f(x)}" y2="${f(layout.tokenY! + 4)}" stroke="#b0b0b0" stroke-width="1" stroke-dasharray="4 4"/>`);
      }
      const cx = col.x + col.width / 2;
      const tok = col.token ?? '';
      const shown = tok.trim() === '' ? JSON.stringify(tok) : tok.trim();
      out.push(
        `<text x="${f(cx)}" y="${f(layout.tokenY! + 18)}" font-size="15" text-anchor="middle" fill="#1a1a1a">${escapeXml(shown)}</text>`,
        `<text x="${f(cx)}" y="${f(layout.tokenY! + 34)}" font-size="10" text-anchor="middle" fill="#777">pos ${col.position}</text>`,
      );
    });
  }

  // Edges under the nodes, weakest first so strong edges stay on top.
  out.push('<g class="edges" fill="none" stroke-linecap="round">');
  const sorted = [...shownEdges].sort((a, b) => Math.abs(a.weight) - Math.abs(b.weight));
  for (const e of sorted) {
    const s = layout.nodes.get(e.source);
    const t = layout.nodes.get(e.target);
    if (!s || !t) continue;
    const sx = s.x + s.width / 2;
    const sy = s.y;
    const tx = t.x + t.width / 2;
    const ty = t.y + t.height;
    const my = (sy + ty) / 2;
    // Strength in [0, 1] sets width and opacity together (spd's rule), so weak edges recede.
    const strength = shares ? Math.sqrt(Math.min(1, Math.abs(shares.get(edgeId(e)) ?? 0))) : maxW > 0 ? Math.abs(e.weight) / maxW : 0;
    const width = shares ? edgeWidthByShare(shares.get(edgeId(e)) ?? 0) : edgeWidthByWeight(e.weight, maxW);
    out.push(
      `<path class="edge" d="M${f(sx)},${f(sy)} C${f(sx)},${f(my)} ${f(tx)},${f(my)} ${f(tx)},${f(ty)}" stroke="${edgeColor(e.weight)}" stroke-width="${f(width)}" stroke-opacity="${(0.2 + 0.65 * strength).toFixed(2)}"><title>${escapeXml(`${e.source} → ${e.target}: ${fmtNum(e.weight)}`)}</title></path>`,
    );
  }
  out.push('</g>');

  // Nodes: one <g class="node"> per shown node, plus the metric.
  const maxChars = (w: number): number => (w - 20) / (LABEL_PX * CHAR_EM);
  for (const n of shownNodes) {
    const b = layout.nodes.get(n.id);
    if (!b) continue;
    const fill = scale.color(n.effect);
    const ink = textColorOn(fill);
    const label = nodeLabel(n, annotations);
    const shape = nodeShape(n);
    const tip = `${n.id}${label !== n.id ? ` — ${label}` : ''}\neffect ${fmtNum(n.effect)}`;
    out.push(`<g class="node" data-id="${escapeXml(n.id)}"><title>${escapeXml(tip)}</title>`);
    const glyph = effectGlyph(n.effect);
    if (shape === 'triangle') {
      out.push(`<path d="${shapePath('triangle', b)}" fill="${fill}" stroke="#333" stroke-width="1"/>`);
      // A triangle has room only in its lower half: one short line, sign in front.
      const [line] = wrapLabel(`${glyph} ${label}`, (b.width * 0.55) / (LABEL_PX * CHAR_EM), 1);
      out.push(textEl(b.x + b.width / 2, b.y + b.height - 6, line, ink, 'middle'));
    } else {
      out.push(`<rect x="${f(b.x)}" y="${f(b.y)}" width="${f(b.width)}" height="${f(b.height)}" rx="5" fill="${fill}" stroke="#333" stroke-width="1"/>`);
      out.push(`<text x="${f(b.x + 8)}" y="${f(b.y + b.height / 2 + 5)}" font-size="14" font-weight="bold" text-anchor="middle" fill="${ink}">${glyph}</text>`);
      const lines = wrapLabel(label, maxChars(b.width), 2);
      const lh = LABEL_PX + 2;
      const y0 = b.y + b.height / 2 - ((lines.length - 1) * lh) / 2 + 4;
      lines.forEach((l, i) => out.push(textEl(b.x + 9 + (b.width - 9) / 2, y0 + i * lh, l, ink, 'middle')));
    }
    out.push('</g>');
  }
  const m = layout.nodes.get(METRIC_NODE);
  if (m) {
    const tip = typeof circuit.totalEffect === 'number' ? `metric y — total effect ${fmtNum(circuit.totalEffect)}` : 'metric y';
    out.push(
      `<g class="metric" data-id="${METRIC_NODE}"><title>${escapeXml(tip)}</title><path d="${shapePath('diamond', m)}" fill="#e5e7eb" stroke="#333" stroke-width="1"/>`,
      `<text x="${f(m.x + m.width / 2)}" y="${f(m.y + m.height / 2 + 5)}" font-size="14" font-weight="bold" font-style="italic" text-anchor="middle" fill="#1a1a1a">y</text></g>`,
    );
  }
  out.push('</g>');

  out.push(legend(pad, HEADER + layout.bounds.height + 4, scale.maxAbs, maxW, options.edgeWidth ?? 'weight'));
  out.push('</svg>');
  return out.join('\n');
}

function textEl(x: number, y: number, s: string, fill: string, anchor: string, size = LABEL_PX): string {
  return `<text x="${f(x)}" y="${f(y)}" font-size="${size}" text-anchor="${anchor}" fill="${fill}">${escapeXml(s)}</text>`;
}

/** Colour bar for effect, the three shapes, and the two edge colours with the width rule. */
function legend(x0: number, y0: number, maxEffect: number, maxWeight: number, widthMode: 'weight' | 'share'): string {
  const o: string[] = [`<g class="legend" transform="translate(${f(x0)},${f(y0)})" font-size="11" fill="#333">`];
  // Effect colour bar: 11 swatches from −max to +max.
  o.push(`<text x="0" y="12" font-weight="bold">node effect (fill; sign also as +/−)</text>`);
  const sw = 20;
  for (let i = 0; i <= 10; i++) {
    const t = (i - 5) / 5;
    o.push(`<rect x="${i * sw}" y="20" width="${sw}" height="14" fill="${divergingColor(t)}" stroke="#999" stroke-width="0.5"/>`);
  }
  o.push(
    `<text x="0" y="48">${escapeXml(fmtNum(-maxEffect))}</text>`,
    `<text x="${5.5 * sw}" y="48" text-anchor="middle">0</text>`,
    `<text x="${11 * sw}" y="48" text-anchor="end">${escapeXml(fmtNum(maxEffect))}</text>`,
    `<text x="0" y="62" fill="#666">blue: helps the behaviour · orange: works against it</text>`,
  );
  // Shapes.
  const sx = 360;
  o.push(`<text x="${sx}" y="12" font-weight="bold">nodes</text>`);
  o.push(`<rect x="${sx}" y="22" width="26" height="14" rx="3" fill="#ffffff" stroke="#333"/><text x="${sx + 32}" y="33">SAE feature</text>`);
  o.push(`<path d="${shapePath('triangle', { x: sx, y: 42, width: 26, height: 14 })}" fill="#ffffff" stroke="#333"/><text x="${sx + 32}" y="53">SAE error</text>`);
  o.push(`<path d="${shapePath('diamond', { x: sx + 110, y: 22, width: 26, height: 14 })}" fill="#e5e7eb" stroke="#333"/><text x="${sx + 142}" y="33">metric y</text>`);
  // Edges.
  const ex = 620;
  o.push(`<text x="${ex}" y="12" font-weight="bold">edges</text>`);
  o.push(`<line x1="${ex}" y1="29" x2="${ex + 30}" y2="29" stroke="${POSITIVE_COLOR}" stroke-width="3"/><text x="${ex + 36}" y="33">positive weight</text>`);
  o.push(`<line x1="${ex}" y1="47" x2="${ex + 30}" y2="47" stroke="${NEGATIVE_COLOR}" stroke-width="3"/><text x="${ex + 36}" y="51">negative weight</text>`);
  const rule = widthMode === 'share' ? 'width ∝ √(share of the target’s input)' : `width ∝ |weight| (thickest ${fmtNum(maxWeight)})`;
  o.push(`<text x="${ex}" y="66" fill="#666">${escapeXml(rule)}</text>`);
  o.push('</g>');
  return o.join('\n');
}
