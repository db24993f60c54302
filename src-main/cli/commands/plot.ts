import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Command } from '../command';
import { UsageError } from '../command';
import { num, oneOf, outPath } from '../options';
import { validateCircuitFile, type CircuitFile } from '../../circuits/circuit-file';
import { annotationMap, parseAnnotationJsonl } from '../../data/annotations';
import { circuitToSvg, filterCircuit } from '../../view';
import { writeFileAtomic } from '../../util/atomic-write';

/** PNGs default to twice the figure's natural size (crisp on high-DPI screens and in slides), capped here. */
const PNG_MAX_WIDTH = 12_000;

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${what} ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not JSON (${(e as Error).message})`);
  }
}

/** SVG → PNG through resvg, loaded only when a PNG is asked for. Text needs a system font (DejaVu Sans, else any sans). */
async function rasterise(svg: string, width: number): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const r = new Resvg(svg, {
    fitTo: { mode: 'width', value: Math.round(width) },
    background: '#ffffff',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

export const plotCommand: Command = {
  name: 'plot',
  summary: 'Draw a circuit file as a figure (SVG or PNG): lanes by submodule, columns by token, labels from annotations',
  usage:
    'sfc plot CIRCUIT.json --out FIG.svg|FIG.png [--annotations FILE.jsonl] [--node-threshold T] [--edge-threshold T] ' +
    '[--edge-width weight|share] [--width PX] [--title TEXT]\n' +
    '  thresholds default to the ones the circuit was written with; --width is the PNG width in pixels (default: 2× the figure)',
  positionals: true,
  options: {
    out: { type: 'string' },
    annotations: { type: 'string' },
    'node-threshold': { type: 'string' },
    'edge-threshold': { type: 'string' },
    'edge-width': { type: 'string', default: 'weight' },
    width: { type: 'string' },
    title: { type: 'string' },
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one circuit file, got ${positionals.length}` : 'which circuit? give CIRCUIT.json');
    const file = positionals[0];
    if (!values.out) throw new UsageError('--out is required (FIG.svg or FIG.png)');
    const out = outPath(values, 'out')!;
    const kind = extname(out).toLowerCase();
    if (kind !== '.svg' && kind !== '.png') throw new UsageError(`--out ${out}: the name must end in .svg or .png`);
    const edgeWidth = oneOf(values, 'edge-width', ['weight', 'share'] as const);
    const width = values.width === undefined ? undefined : num(values, 'width', { min: 16 });

    let circuit: CircuitFile;
    try {
      circuit = validateCircuitFile(readJson(file, 'circuit'), file);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError((e as Error).message);
    }
    const nodeThreshold = values['node-threshold'] === undefined ? circuit.parameters.nodeThreshold : num(values, 'node-threshold', { min: 0 });
    const edgeThreshold = values['edge-threshold'] === undefined ? circuit.parameters.edgeThreshold : num(values, 'edge-threshold', { min: 0 });

    let annotations: Map<string, string> | undefined;
    if (values.annotations) {
      const path = values.annotations as string;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        throw new UsageError(`--annotations ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      let parsed;
      try {
        parsed = parseAnnotationJsonl(text, path);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      for (const w of parsed.warnings) console.error(`warning: ${path}:${w.line}: ${w.message}`);
      annotations = annotationMap(parsed.rows);
      const used = new Set(circuit.nodes.map((n) => `${n.submodule}/${n.feature}`).filter((k) => annotations!.has(k))).size;
      console.error(`${path}: ${parsed.rows.length} labels, ${used} used by this circuit${parsed.skipped.length ? `; ${parsed.skipped.length} lines skipped (${parsed.skipped.map((s) => `line ${s.line}: ${s.reason}`).join('; ')})` : ''}`);
    }

    const svg = circuitToSvg(circuit, { annotations, nodeThreshold, edgeThreshold, edgeWidth, title: values.title as string | undefined, width: kind === '.svg' ? width : undefined });
    const natural = Number(/viewBox="0 0 ([\d.]+)/.exec(svg)![1]);
    if (kind === '.svg') writeFileAtomic(out, svg);
    else writeFileAtomic(out, await rasterise(svg, width ?? Math.min(PNG_MAX_WIDTH, 2 * natural)));

    const c = filterCircuit(circuit, { nodeThreshold, edgeThreshold }).counts;
    const edges = circuit.edges ? `, ${c.edges.visible} of ${c.edges.total} edges (|weight| > ${edgeThreshold})` : '';
    console.log(`wrote ${out}: ${c.nodes.visible} of ${c.nodes.total} nodes (|effect| > ${nodeThreshold})${edges}`);
  },
};
