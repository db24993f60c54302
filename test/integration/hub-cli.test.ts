/**
 * `sfc fetch`, `sfc inspect` and `sfc cache` as a user runs them, against a fake Hub on
 * 127.0.0.1 (the CLI runs as a child process, so the test process keeps serving).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub } from '../helpers/fake-hub';
import { servePythia } from '../helpers/pythia-hub-fixture';
import { agreementJsonl } from '../helpers/circuit-fixture';

const bin = join(process.cwd(), 'bin', 'sfc.js');
let root: string;
let hub: FakeHub;

function sfc(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const base = { ...process.env };
    for (const k of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'HF_HOME', 'HF_HUB_CACHE', 'SFC_HUB_DIR']) delete base[k];
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: root,
      env: { ...base, SFC_DEMO_DIR: join(root, 'no-demo'), HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(root, 'hf'), SFC_CACHE_DIR: join(root, 'sfc'), ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sfc-hub-cli-'));
  hub = await new FakeHub().start();
  servePythia(hub, join(root, 'fixture'), { gated: ['ctigges/pythia-70m-deduped__att-sm_processed'] });
});
afterAll(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

describe('sfc fetch / inspect / cache', () => {
  const db = () => join(root, 'sfc.db');

  it('fetch downloads, registers and reports; a second run offline makes no request', async () => {
    const r = await sfc({}, 'fetch', 'pythia-70m-deduped', '--json', '--db', db());
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ setup: 'pythia-70m-deduped', saeSource: 'dictionary_learning', layout: 'dictionary_learning', model: { name: 'pythia-70m-deduped' } });
    expect(j.saeSet.submodules).toHaveLength(19);
    expect(j.requests).toBeGreaterThan(0);
    hub.log.length = 0;
    const again = await sfc({ HF_HUB_OFFLINE: '1' }, 'fetch', 'pythia-70m-deduped', '--db', db());
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/no request was made: everything came from the cache/);
    expect(again.out).toMatch(/library model \d+ 'pythia-70m-deduped', SAE set \d+ 'pythia-70m-deduped SAEs \(dictionary_learning\)'/);
    expect(hub.log).toEqual([]);

    const m = await sfc({}, 'inspect', j.modelDir, '--json');
    expect(m.code, m.err).toBe(0);
    expect(JSON.parse(m.out).model).toMatchObject({ modelType: 'gpt_neox', layers: 6, width: 32 });
    const s = await sfc({}, 'inspect', join(root, 'hf', 'models--EleutherAI--pythia-70m-deduped'));
    expect(s.out).toMatch(/hub cache repository: inspecting snapshot .*snapshots\/[0-9a-f]{40}\n {2}model {3}gpt_neox: 6 layers, width 32, 4 heads/);
    const t = await sfc({}, 'inspect', j.saesDir);
    expect(t.out).toMatch(/SAEs {4}dictionary_learning in .*: 19 submodules/);
    expect(t.out).toMatch(/resid_5 +32 features × 32 +relu/);

    // The setup's name stands for its cached folders.
    writeFileSync(join(root, 'agreement.jsonl'), agreementJsonl());
    const d = await sfc({ HF_HUB_OFFLINE: '1' }, 'discover', '--model', 'pythia-70m-deduped', '--saes', 'pythia-70m-deduped', '--data', 'agreement.jsonl', '--n', '6', '--batch-size', '6', '--nodes-only', '--out', 'c.json', '--json');
    expect(d.code, d.err).toBe(0);
    expect(JSON.parse(d.out).saeQuality).toHaveLength(19);
    const cold = await sfc({ HF_HUB_CACHE: join(root, 'empty') }, 'discover', '--model', 'pythia-70m-deduped', '--data', 'agreement.jsonl');
    expect(cold.code).toBe(2);
    expect(cold.err).toMatch(/--model pythia-70m-deduped: pythia-70m-deduped: EleutherAI\/pythia-70m-deduped is not in the cache .*empty; run `sfc fetch pythia-70m-deduped` first/);

    const c = await sfc({}, 'cache', 'list', '--json', '--db', db());
    const entries = JSON.parse(c.out).entries.map((e: any) => e.id);
    expect(entries).toContain('hub:models--EleutherAI--pythia-70m-deduped');
    expect(entries).toContain('hub:models--saprmarks--pythia-70m-deduped-saes');
  });

  it('user errors: an unknown setup, a gated repository, a folder with nothing in it', async () => {
    const u = await sfc({}, 'fetch', 'gpt2', '--db', db());
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/sfc fetch: unknown setup 'gpt2' \(known: pythia-70m-deduped\)/);
    const g = await sfc({}, 'fetch', 'pythia-70m-deduped', '--saes', 'saelens', '--db', db());
    expect(g.code).toBe(1);
    expect(g.err).toMatch(/ctigges\/pythia-70m-deduped__att-sm_processed: downloading .* was refused with 401 Unauthorized: the repository is gated or private\. .*set HF_TOKEN/);
    const o = await sfc({}, 'fetch', 'pythia-70m-deduped', '--saes', 'nope', '--db', db());
    expect(o.code).toBe(2);
    expect(o.err).toMatch(/--saes must be one of dictionary_learning, saelens, got 'nope'/);
    const i = await sfc({}, 'inspect', root);
    expect(i.code).toBe(1);
    expect(i.err).toMatch(/^sfc inspect: .*: neither a model folder/);
  });
});
