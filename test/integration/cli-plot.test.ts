/**
 * `sfc plot` end to end: a circuit file in, an SVG or PNG out (PNG signature and pixel size read
 * from its IHDR chunk), annotations used as labels, and user errors that say what is wrong.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIRCUIT_FORMAT, CIRCUIT_VERSION } from '../../src-main/circuits/circuit-file';
import { randomCircuit } from '../helpers/view-circuits';

const bin = join(process.cwd(), 'bin', 'sfc.js');
let root: string;
const TOKENS = ['The', ' keys', ' to', ' the', ' cabinet'];
const view = randomCircuit({ seed: 31, nodes: 60, tokens: TOKENS });
const hash = { path: '/nowhere', sha256: '0'.repeat(64) };
const circuitFile = {
  format: CIRCUIT_FORMAT,
  version: CIRCUIT_VERSION,
  createdAt: '2025-01-01T00:00:00.000Z',
  app: { name: 'sfc-workbench', version: 'test' },
  parameters: {
    method: 'ig', steps: 10, aggregation: 'none', nodeThreshold: 0.1, edgeThreshold: 0.01, keepAll: false, nodesOnly: false,
    examples: 12, batchSize: 4, seed: 1, nopair: false, neurons: false,
  },
  provenance: { model: hash, saes: hash, data: { path: '/data/agreement.jsonl', sha256: hash.sha256 } },
  ...view,
  examples: [],
  totalEffect: 3.5,
};
const labelled = view.nodes.find((n) => n.feature !== 'error' && Math.abs(n.effect) > 0.5)!;

function sfc(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Width and height from a PNG's IHDR chunk, after checking the 8-byte signature. */
function pngSize(buf: Buffer): { width: number; height: number } {
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(buf.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sfc-plot-'));
  writeFileSync(join(root, 'c.json'), JSON.stringify(circuitFile));
  writeFileSync(
    join(root, 'ann.jsonl'),
    '{"Component": "Component", "Layer": "", "Feature": "", "Name": "Name", "Annotation": "Annotation", "Notes": "Notes"}\n' +
      JSON.stringify({ Name: labelled.id.split('@')[0], Annotation: 'plural subject' }) + '\n',
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sfc plot', () => {
  it('writes an SVG with annotation labels and says what it shows', () => {
    const r = sfc('plot', 'c.json', '--out', 'fig.svg', '--annotations', 'ann.jsonl', '--node-threshold', '0.2');
    expect(r.code, r.err).toBe(0);
    const shown = view.nodes.filter((n) => Math.abs(n.effect) > 0.2).length;
    expect(r.out).toContain(`wrote fig.svg: ${shown} of ${view.nodes.length} nodes (|effect| > 0.2)`);
    expect(r.err).toMatch(/ann\.jsonl: 1 labels, 1 used by this circuit; 1 lines skipped \(line 1: CSV header/);
    const svg = readFileSync(join(root, 'fig.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<g class="node"/g)).toHaveLength(shown);
    expect(svg).toContain('>plural subject</text>');
    expect(svg).toContain('Feature circuit · agreement.jsonl');
    // Written atomically: no temporary file left next to it.
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('writes a PNG: signature, and a width of twice the figure by default or --width', () => {
    const r = sfc('plot', 'c.json', '--out', 'fig.png');
    expect(r.code, r.err).toBe(0);
    expect(sfc('plot', 'c.json', '--out', 'same.svg').code).toBe(0); // same figure, to read its natural size
    const svg = readFileSync(join(root, 'same.svg'), 'utf8');
    const [vw, vh] = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg)!.slice(1).map(Number);
    const size = pngSize(readFileSync(join(root, 'fig.png')));
    expect(size.width).toBe(Math.round(2 * vw));
    expect(size.height).toBeCloseTo(2 * vh, -1);
    const w = sfc('plot', 'c.json', '--out', 'small.png', '--width', '640', '--edge-width', 'share');
    expect(w.code, w.err).toBe(0);
    const small = pngSize(readFileSync(join(root, 'small.png')));
    expect(small.width).toBe(640);
    expect(small.height / small.width).toBeCloseTo(vh / vw, 2);
  });

  it('refuses what it cannot do, with exit 2 and a reason', () => {
    const ext = sfc('plot', 'c.json', '--out', 'fig.pdf');
    expect(ext.code).toBe(2);
    expect(ext.err).toMatch(/must end in \.svg or \.png/);
    const missing = sfc('plot', 'nope.json', '--out', 'x.svg');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope\.json: no such file/);
    writeFileSync(join(root, 'bad.json'), JSON.stringify({ format: 'something-else' }));
    const bad = sfc('plot', 'bad.json', '--out', 'x.svg');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.json: .*not a circuit file/);
    const noOut = sfc('plot', 'c.json');
    expect(noOut.code).toBe(2);
    expect(noOut.err).toMatch(/--out is required/);
    writeFileSync(join(root, 'broken.jsonl'), '{"Name": "embed/1", "Annotation": "x"}\n{oops\n');
    const ann = sfc('plot', 'c.json', '--out', 'x.svg', '--annotations', 'broken.jsonl');
    expect(ann.code).toBe(2);
    expect(ann.err).toMatch(/broken\.jsonl:2: not a JSON line/);
    expect(existsSync(join(root, 'x.svg'))).toBe(false);
  });
});
