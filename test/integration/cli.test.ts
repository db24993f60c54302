/**
 * The `sfc` command end to end on a generated workspace (model, ae.pt SAEs, JSONL): model info,
 * predict, discover → evaluate, and user errors that name the file and the problem.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CircuitFixture, writeCircuitFixture } from '../helpers/circuit-fixture';
import { validateCircuitFile } from '../../src-main/circuits/circuit-file';
import { nativeKernels } from '../../src-main/engine/native-kernels';

const bin = join(process.cwd(), 'bin', 'sfc.js');
let root: string;
let fx: CircuitFixture;

function sfc(...args: string[]): { code: number; out: string; err: string } {
  return sfcWith({}, ...args);
}

function sfcWith(env: Record<string, string>, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, SFC_DEMO_DIR: join(root, 'no-demo'), ...env } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sfc-cli-'));
  fx = writeCircuitFixture(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sfc CLI', () => {
  it('model info and predict', () => {
    const info = sfc('model', 'info', fx.model, '--json');
    expect(info.code, info.err).toBe(0);
    const j = JSON.parse(info.out);
    expect(j.hookPoints).toEqual(fx.submodules);
    expect(j.config.hidden_size).toBe(32);
    const text = sfc('model', 'info', fx.model);
    expect(text.out).toMatch(/hook points\s+\(7\) embed attn_0 mlp_0 resid_0/);
    const p = sfc('predict', '--model', fx.model, '--text', 'The keys to the cabinet', '--top', '3', '--json');
    expect(p.code, p.err).toBe(0);
    const preds = JSON.parse(p.out) as { id: number; token: string; prob: number }[];
    expect(preds).toHaveLength(3);
    expect(preds[0].prob).toBeGreaterThanOrEqual(preds[1].prob);
    for (const q of preds) expect(Object.keys(q).sort()).toEqual(['id', 'prob', 'token']);
  });

  it('discover writes a documented circuit file, and evaluate sweeps it', () => {
    const d = sfc('discover', '--model', fx.model, '--saes', fx.saes, '--data', fx.data, '--n', '12', '--batch-size', '5',
      '--node-threshold', '0', '--edge-threshold', '0', '--out', 'c.json', '--json');
    expect(d.code, d.err).toBe(0);
    const summary = JSON.parse(d.out);
    expect(summary.examples).toBe(12);
    expect(summary.saeQuality).toHaveLength(7);
    const c = validateCircuitFile(JSON.parse(readFileSync(join(root, 'c.json'), 'utf8')), 'c.json');
    expect(c.provenance.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(c.nodes.every((n) => n.effect !== 0)).toBe(true);
    const ids = new Set(c.nodes.map((n) => n.id));
    expect(c.edges!.length).toBeGreaterThan(0);
    for (const e of c.edges!) {
      expect(ids.has(e.source), e.source).toBe(true);
      expect(e.target === 'y' || ids.has(e.target), e.target).toBe(true);
    }
    expect(c.nodes.some((n) => n.feature === 'error')).toBe(true);
    // y edges equal the last residual's node effects.
    for (const e of c.edges!.filter((x) => x.target === 'y')) expect(e.weight).toBeCloseTo(c.nodes.find((n) => n.id === e.source)!.effect, 6);

    const ev = sfc('evaluate', '--circuit', 'c.json', '--data', fx.data, '--n', '12', '--thresholds', '0,1e9', '--start-layer', '0', '--out', 'e.json', '--json');
    expect(ev.code, ev.err).toBe(0);
    const r = JSON.parse(ev.out);
    // Everything kept: faithfulness 1 and completeness 0 exactly (up to float); nothing kept: 0 and 1.
    expect(r.rows[0].faithfulness).toBeCloseTo(1, 4);
    expect(r.rows[0].completeness).toBeCloseTo(0, 4);
    expect(r.rows[1].nodes).toBe(0);
    expect(r.rows[1].faithfulness).toBeCloseTo(0, 5);
    expect(r.rows[1].completeness).toBeCloseTo(1, 5);
  });

  it.runIf(nativeKernels)('the TypeScript kernels (SFC_NATIVE=0) find the same circuit as the native ones', () => {
    const args = ['discover', '--model', fx.model, '--saes', fx.saes, '--data', fx.data, '--n', '10', '--node-threshold', '0', '--edge-threshold', '0'];
    const a = sfcWith({}, ...args, '--out', 'native.json', '--json');
    const b = sfcWith({ SFC_NATIVE: '0' }, ...args, '--out', 'ts.json', '--json');
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    expect(JSON.parse(a.out).kernels).toMatch(/^native kernels/);
    expect(JSON.parse(b.out).kernels).toMatch(/^TypeScript kernels \(SFC_NATIVE=0\)/);
    const read = (f: string) => validateCircuitFile(JSON.parse(readFileSync(join(root, f), 'utf8')), f);
    const [ca, cb] = [read('native.json'), read('ts.json')];
    const close = (x: Map<string, number>, y: Map<string, number>) => {
      const scale = Math.max(...[...x.values()].map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (const [k, v] of x) if (Math.abs(v) > 1e-4 * scale) expect(Math.abs((y.get(k) ?? 0) - v), k).toBeLessThanOrEqual(1e-4 * scale);
    };
    close(new Map(ca.nodes.map((n) => [n.id, n.effect])), new Map(cb.nodes.map((n) => [n.id, n.effect])));
    close(new Map(ca.edges!.map((e) => [`${e.source}>${e.target}`, e.weight])), new Map(cb.edges!.map((e) => [`${e.source}>${e.target}`, e.weight])));
  });

  it('position-resolved, nodes-only, neuron circuits', () => {
    const d = sfc('discover', '--model', fx.model, '--data', fx.data, '--n', '6', '--neurons', '--aggregation', 'none', '--nodes-only', '--keep-all', '--out', 'n.json', '--json');
    expect(d.code, d.err).toBe(0);
    const c = validateCircuitFile(JSON.parse(readFileSync(join(root, 'n.json'), 'utf8')), 'n.json');
    expect(c.edges).toBeNull();
    expect(c.positions).toHaveLength(2);
    expect(c.nodes.every((n) => n.feature !== 'error' && n.id.includes('@'))).toBe(true);
  });

  it('Ctrl-C cancels a running discovery cleanly (exit 130, no output file)', async () => {
    const child = spawn(process.execPath, [bin, 'discover', '--model', fx.model, '--saes', fx.saes, '--data', fx.data, '--steps', '400', '--n', '12', '--out', 'cancelled.json'], { cwd: root });
    let err = '';
    const code = await new Promise<number>((resolve) => {
      child.stderr.on('data', (d) => {
        err += String(d);
        if (/batch 1\/2/.test(err) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c ?? -1));
    });
    expect(err).toMatch(/cancelling/);
    expect(code).toBe(130);
    expect(err).toMatch(/sfc: cancelled/);
    expect(() => readFileSync(join(root, 'cancelled.json'))).toThrow();
  });

  it('user errors name the file and the problem', () => {
    writeFileSync(join(root, 'bad.jsonl'), '{"clean_prefix": "The author", "patch_prefix": "The authors", "clean_answer": " is", "patch_answer": " are", "case": "s"}\n{not json}\n');
    let r = sfc('discover', '--model', fx.model, '--saes', fx.saes, '--data', 'bad.jsonl', '--out', 'x.json');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.jsonl:2/);

    writeFileSync(join(root, 'clusters.json'), '[1, 2]');
    r = sfc('discover', '--model', fx.model, '--saes', fx.saes, '--data', 'clusters.json', '--nopair', '--out', 'x.json');
    expect(r.err).toMatch(/clusters\.json: expected a JSON object/);

    writeFileSync(join(root, 'multi.jsonl'), JSON.stringify({ clean_prefix: 'The author', patch_prefix: 'The authors', clean_answer: ' is the', patch_answer: ' are', case: 's' }) + '\n');
    r = sfc('discover', '--model', fx.model, '--saes', fx.saes, '--data', 'multi.jsonl', '--out', 'x.json');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/multi\.jsonl: no example passed the filters.*answer/);

    renameSync(join(fx.saes, 'mlp_out_layer1'), join(fx.saes, 'gone'));
    r = sfc('discover', '--model', fx.model, '--saes', fx.saes, '--data', fx.data, '--out', 'x.json');
    renameSync(join(fx.saes, 'gone'), join(fx.saes, 'mlp_out_layer1'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no SAE for mlp_1/);

    r = sfc('discover', '--data', fx.data, '--method', 'fast');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--method must be one of ig, attrib, exact/);

    r = sfc('evaluate', '--circuit', 'missing.json', '--data', fx.data);
    expect(r.err).toMatch(/missing\.json: no such file/);
  });
});
