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

  it('discover writes a documented circuit file', () => {
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
  });

  it('evaluate: node counts per error variant, the empty circuit, one threshold, forced errors, resample', () => {
    const d = sfc('discover', '--model', fx.model, '--saes', fx.saes, '--data', fx.data, '--n', '12', '--node-threshold', '0', '--nodes-only', '--out', 'ev-c.json', '--json');
    expect(d.code, d.err).toBe(0);
    const c = validateCircuitFile(JSON.parse(readFileSync(join(root, 'ev-c.json'), 'utf8')), 'ev-c.json');
    // Thresholds from the circuit's own effects: the median |effect| of the evaluated nodes
    // (start layer 0: everything but embed), and the largest, which leaves the circuit empty.
    const evaluated = c.nodes.filter((n) => n.submodule !== 'embed');
    const mags = evaluated.map((n) => Math.abs(n.effect)).sort((a, b) => a - b);
    const [tau, top] = [mags[Math.floor(mags.length / 2)], mags[mags.length - 1]];
    const above = evaluated.filter((n) => Math.abs(n.effect) > tau);
    const expected = {
      all: above.length,
      none: above.filter((n) => n.feature !== 'error').length,
      'resid-only': above.filter((n) => n.feature !== 'error' || n.submodule.startsWith('resid_')).length,
    };
    expect(expected.none).toBeLessThan(expected['resid-only']);
    expect(expected['resid-only']).toBeLessThan(expected.all);
    const evaluate = (...args: string[]) => {
      const r = sfc('evaluate', '--circuit', 'ev-c.json', '--data', fx.data, '--n', '12', '--start-layer', '0', '--json', ...args);
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out);
    };
    const sweeps: Record<string, { rows: { nodes: number; faithfulness: number; completeness: number; mC: number }[] }> = {};
    for (const errors of ['all', 'none', 'resid-only'] as const) {
      const r = evaluate('--thresholds', `${tau},${top}`, '--errors', errors);
      sweeps[errors] = r;
      expect(r.errors).toBe(errors);
      expect(r.rows[0].nodes, errors).toBe(expected[errors]);
      // Nothing above the largest effect: the empty circuit, faithfulness 0 and completeness 1.
      expect(r.rows[1].nodes).toBe(0);
      expect(Math.abs(r.rows[1].faithfulness)).toBeLessThan(1e-6);
      expect(r.rows[1].completeness).toBeCloseTo(1, 4);
    }
    // The variants change which errors are ablated, so m(C) differs between them.
    expect(Math.abs(sweeps.all.rows[0].mC - sweeps.none.rows[0].mC)).toBeGreaterThan(1e-3);
    // --node-threshold evaluates one circuit: the sweep's row at that threshold.
    const one = evaluate('--node-threshold', String(tau));
    expect(one.rows).toHaveLength(1);
    expect(one.rows[0]).toEqual(sweeps.all.rows[0]);
    // ablation.py's remove: errors ablated even in M∖C, so the empty circuit is not complete.
    const forced = evaluate('--thresholds', String(top), '--force-errors', 'ablated');
    expect(forced.forceErrors).toBe('ablated');
    expect(Math.abs(forced.rows[0].completeness - 1)).toBeGreaterThan(1e-3);
    // Resample: seeded, and not the mean.
    const res1 = evaluate('--node-threshold', String(tau), '--ablation', 'resample', '--seed', '3');
    const res2 = evaluate('--node-threshold', String(tau), '--ablation', 'resample', '--seed', '3');
    expect(res1.rows).toEqual(res2.rows);
    expect(Math.abs(res1.rows[0].mC - sweeps.all.rows[0].mC)).toBeGreaterThan(1e-3);

    let bad = sfc('evaluate', '--circuit', 'ev-c.json', '--data', fx.data, '--errors', 'none', '--force-errors', 'kept');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--force-errors kept overrides every error mask, so --errors none would have no effect/);
    bad = sfc('evaluate', '--circuit', 'ev-c.json', '--data', fx.data, '--handle-errors', 'remove');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--handle-errors is gone: use --errors .* or --force-errors/);
    bad = sfc('evaluate', '--circuit', 'ev-c.json', '--data', fx.data, '--node-threshold', '0.1', '--thresholds', '0.1,0.2');
    expect(bad.err).toMatch(/give --node-threshold or --thresholds, not both/);
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
