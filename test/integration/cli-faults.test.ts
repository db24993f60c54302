/**
 * `sfc` on bad input and faults, each seen failing when the project was tried as a new user:
 * an unwritable --out found only after the job, NaN weights and overflowing results written as
 * a 0-node circuit with exit 0, circuit files that failed with raw JS errors, a data word the
 * tokenizer lacks stopping the run, no way to ask for an example length, and the README's own
 * predict line failing on the demo model.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CircuitFixture, writeCircuitFixture } from '../helpers/circuit-fixture';
import { readSafetensors, writeSafetensors } from '../../src-main/models/safetensors';

const repo = process.cwd();
const bin = join(repo, 'bin', 'sfc.js');
let root: string;
let fx: CircuitFixture;

function sfc(...args: string[]): { code: number; out: string; err: string } {
  return sfcIn(root, ...args);
}

function sfcIn(cwd: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, SFC_DEMO_DIR: process.env.SFC_DEMO_DIR ?? join(repo, 'resources', 'demo') } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A copy of the fixture model with some weights changed. */
function modelWith(name: string, edit: (t: Record<string, { shape: number[]; data: Float32Array }>) => void): string {
  const dir = join(root, name);
  cpSync(fx.model, dir, { recursive: true });
  const p = join(dir, 'model.safetensors');
  const src = readSafetensors(p);
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const n of src.names()) t[n] = { shape: src.info(n).shape, data: src.getTensor(n).data.slice() };
  edit(t);
  writeSafetensors(p, t);
  return dir;
}

const line = (c: string, p: string, ca: string, pa: string) => JSON.stringify({ clean_prefix: c, patch_prefix: p, clean_answer: ca, patch_answer: pa, case: 'x' });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sfc-cli-faults-'));
  fx = writeCircuitFixture(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sfc: --out is checked first and written atomically', () => {
  it('an unwritable --out fails at once (exit 2, naming it), before any model is loaded', () => {
    const args = ['discover', '--model', fx.model, '--saes', fx.saes, '--data', fx.data, '--n', '2'];
    let r = sfc(...args, '--out', join('no-such-folder', 'c.json'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--out no-such-folder[/\\]c\.json: cannot write here: folder .*no-such-folder does not exist/);
    expect(r.err).not.toMatch(/loading model/);
    mkdirSync(join(root, 'a-folder'), { recursive: true });
    r = sfc(...args, '--out', 'a-folder');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--out a-folder: cannot write here: it is a folder/);
    writeFileSync(join(root, 'plain-file'), 'x');
    r = sfc('evaluate', '--circuit', 'whatever.json', '--data', fx.data, '--out', join('plain-file', 'e.json'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--out plain-file[/\\]e\.json: cannot write here: .*plain-file is not a folder/);
  });
});

describe('sfc: non-finite weights and results are refused', () => {
  it('a NaN weight in the model: discover and predict fail naming the file and tensor, and write nothing', () => {
    const m = modelWith('nan-model', (t) => (t['gpt_neox.layers.0.attention.dense.weight'].data[5] = NaN));
    const d = sfc('discover', '--model', m, '--saes', fx.saes, '--data', fx.data, '--n', '4', '--out', 'nan.json');
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/model\.safetensors: tensor 'gpt_neox\.layers\.0\.attention\.dense\.weight' has 1 non-finite value \(first: NaN at \[0, 5\]\)/);
    expect(existsSync(join(root, 'nan.json'))).toBe(false);
    const p = sfc('predict', '--model', m, '--text', 'The author');
    expect(p.code).toBe(1);
    expect(p.out).not.toMatch(/NaN%/);
  });

  it('finite weights that overflow float32: no "NaN%" and no 0-node circuit with exit 0', () => {
    const m = modelWith('overflow-model', (t) => t['gpt_neox.final_layer_norm.weight'].data.fill(3e38));
    const p = sfc('predict', '--model', m, '--text', 'The author', '--top', '3');
    expect(p.code).toBe(1);
    expect(p.err).toMatch(/logits after "The author" have \d+ non-finite values/);
    const d = sfc('discover', '--model', m, '--saes', fx.saes, '--data', fx.data, '--n', '4', '--out', 'overflow.json');
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/discovery: the metric is (NaN|-?Infinity) on the clean prefix of example 1 .*no circuit was written/);
    expect(existsSync(join(root, 'overflow.json'))).toBe(false);
  });
});

describe('sfc: data and circuit files', () => {
  it('a data word the tokenizer lacks drops that line, naming the data file and line; the run goes on', () => {
    const lines = [line('The author', 'The authors', ' is', ' are'), line('The dog', 'The dogs', ' is', ' are'), line('The guards', 'The guard', ' are', ' is')];
    writeFileSync(join(root, 'unknown.jsonl'), lines.join('\n') + '\n');
    const d = sfc('discover', '--model', fx.model, '--saes', fx.saes, '--data', 'unknown.jsonl', '--n', '3', '--nodes-only', '--out', 'u.json', '--json');
    expect(d.code, d.err).toBe(0);
    const report = JSON.parse(d.out).data;
    expect(report.kept).toBe(2);
    expect(report.dropped).toEqual({ unknown_token: 1 });
    expect(report.details).toEqual([expect.stringMatching(/^unknown\.jsonl:2: "Ġdog" \(in "The dog"\) is not in the vocabulary of .*tokenizer\.json$/)]);
  });

  it('--example-length keeps exactly that prefix length in discover and evaluate (default: the min-length rule)', () => {
    const lines = [
      line('The author', 'The authors', ' is', ' are'),
      line('The guards', 'The guard', ' are', ' is'),
      line('The author near', 'The authors near', ' the', ' the'),
      line('The doctor near', 'The doctors near', ' the', ' the'),
      line('The manager near', 'The managers near', ' the', ' the'),
    ];
    writeFileSync(join(root, 'lengths.jsonl'), lines.join('\n') + '\n');
    const base = ['discover', '--model', fx.model, '--saes', fx.saes, '--data', 'lengths.jsonl', '--n', '10', '--nodes-only', '--aggregation', 'none', '--node-threshold', '0', '--json'];
    const min = sfc(...base, '--out', 'len-min.json');
    expect(min.code, min.err).toBe(0);
    expect(JSON.parse(min.out).data).toMatchObject({ kept: 2, minLength: 2 });
    const three = sfc(...base, '--example-length', '3', '--out', 'len3.json');
    expect(three.code, three.err).toBe(0);
    expect(JSON.parse(three.out).data).toMatchObject({ kept: 3, exampleLength: 3, dropped: { not_example_length: 2 } });
    const c = JSON.parse(readFileSync(join(root, 'len3.json'), 'utf8'));
    expect(c.positions).toHaveLength(3);
    expect(c.parameters.examples).toBe(3);
    const bad = sfc(...base, '--example-length', '0', '--out', 'len0.json');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--example-length must be at least 1/);
    // evaluate takes the same flag for its examples.
    const ev = sfc('evaluate', '--circuit', 'len3.json', '--data', 'lengths.jsonl', '--n', '10', '--example-length', '3', '--thresholds', '0', '--start-layer', '0', '--json');
    expect(ev.code, ev.err).toBe(0);
    expect(JSON.parse(ev.out).examples).toBe(3);
  });

  it('evaluate: a circuit file missing its provenance fails naming the file and field; a changed model is a warning', () => {
    const d = sfc('discover', '--model', fx.model, '--saes', fx.saes, '--data', fx.data, '--n', '4', '--nodes-only', '--node-threshold', '0', '--out', 'prov.json', '--json');
    expect(d.code, d.err).toBe(0);
    const c = JSON.parse(readFileSync(join(root, 'prov.json'), 'utf8'));
    const { provenance: _p, ...noProvenance } = c;
    writeFileSync(join(root, 'noprov.json'), JSON.stringify(noProvenance));
    let r = sfc('evaluate', '--circuit', 'noprov.json', '--data', fx.data, '--n', '4', '--thresholds', '0');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/noprov\.json: provenance: missing/);
    writeFileSync(join(root, 'badnode.json'), JSON.stringify({ ...c, nodes: [{ ...c.nodes[0], submodule: 'mlp_9', id: c.nodes[0].id.replace(/^[^/]+/, 'mlp_9') }] }));
    r = sfc('evaluate', '--circuit', 'badnode.json', '--data', fx.data, '--n', '4', '--thresholds', '0');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/badnode\.json: nodes\[0\]\.submodule: 'mlp_9' is not listed in submodules/);
    // Same shapes, other weights: evaluation runs, with a provenance warning.
    const other = modelWith('other-model', (t) => (t['gpt_neox.final_layer_norm.bias'].data[0] += 0.5));
    r = sfc('evaluate', '--circuit', 'prov.json', '--model', other, '--data', fx.data, '--n', '4', '--thresholds', '0', '--start-layer', '0', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/prov\.json: provenance\.model\.sha256 does not match the model used .*other-model/)]),
    );
    r = sfc('evaluate', '--circuit', 'prov.json', '--data', fx.data, '--n', '4', '--thresholds', '0', '--start-layer', '0', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).warnings.filter((w: string) => /provenance/.test(w))).toEqual([]);
  });
});

describe('README', () => {
  it("the tour's `sfc predict` line runs as written on the demo model", () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const cmd = readme.split('\n').find((l) => l.startsWith('npx sfc predict '));
    expect(cmd).toBeDefined();
    // Shell words of the line up to its comment, without the usage notation "[--json]".
    const words = (cmd!.replace(/\s+#.*$/, '').replace(/\s*\[[^\]]*\]/g, '').match(/"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^"(.*)"$/, '$1'));
    expect(words.slice(0, 2)).toEqual(['npx', 'sfc']);
    const r = sfcIn(repo, ...words.slice(2));
    expect(r.code, r.err).toBe(0);
    const rows = r.out.trim().split('\n');
    expect(rows).toHaveLength(Number(words[words.indexOf('--top') + 1]));
    for (const row of rows) expect(row).toMatch(/^\s*\d+\.\d\d%\s+".*"\s+id \d+$/);
  });
});
