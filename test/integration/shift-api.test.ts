/**
 * SHIFT through the real API (WebSocket transport, compute worker, a database file) and the
 * `sfc` commands, on the SHIFT demo: register it → train the probe → discover its circuit → look
 * at features → judge → run SHIFT → list runs; Cancel; judgements imported with annotation files;
 * user errors that name the input and the problem.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, ok, runJob, type Hosted } from '../helpers/api-host';
import { SHIFT_DEMO_DIR } from '../../src-main/defaults';
import { validateCircuitFile } from '../../src-main/circuits/circuit-file';
import { parseJudgementJsonl } from '../../src-main/data/judgements';

let dir: string;
let h: Hosted;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-shift-api-'));
  h = await host(join(dir, 'sfc.db'));
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SHIFT through the API', () => {
  const ids: Record<string, number> = {};
  let defaults: { layer: number; threshold: number; probeBatchSize: number };
  let features: { submodule: string; feature: number; effect: number }[] = [];

  it('registers the SHIFT demo on first use, once', async () => {
    const before = await ok(h.api, 'library.list', {});
    expect(before.models.map((m: any) => m.name)).toEqual(['demo model']);
    const demo = await ok(h.api, 'shift.demo', {});
    expect(demo).toMatchObject({ model: { name: 'SHIFT demo model' }, saeSet: { name: 'SHIFT demo SAEs' }, dataset: { name: 'SHIFT demo biographies', format: 'bios-jsonl' } });
    expect(await ok(h.api, 'shift.demo', {})).toMatchObject({ model: { id: demo.model.id }, saeSet: { id: demo.saeSet.id }, dataset: { id: demo.dataset.id } });
    ids.model = demo.model.id;
    ids.saes = demo.saeSet.id;
    ids.data = demo.dataset.id;
    defaults = demo.defaults;
    // Its judgement list came with it.
    const judged = await ok(h.api, 'shift.judgements', { saeSetId: ids.saes });
    expect(judged.length).toBe(parseJudgementJsonl(readFileSync(join(SHIFT_DEMO_DIR, 'judgements.jsonl'), 'utf8'), 'j').rows.length);
    const preview = await ok(h.api, 'library.get', { kind: 'dataset', id: ids.data });
    expect(preview.preview[0]).toHaveProperty('hard_text');
  });

  it('trains the original probe, with progress, and keeps it with its dataset, layer, seed and accuracy', async () => {
    const { result, progress } = await runJob(h.api, 'probe.train', { modelId: ids.model, datasetId: ids.data, layer: defaults.layer, batchSize: defaults.probeBatchSize });
    expect(progress).toBeGreaterThan(0);
    expect(result).toMatchObject({ modelId: ids.model, datasetId: ids.data, layer: defaults.layer, seed: 42, trainSet: 'ambiguous', label: 'profession', dim: 64 });
    expect(result.accuracy.train).toBeGreaterThan(0.95);
    expect(result.accuracy.worstGroup).toBeLessThan(0.3);
    ids.probe = result.id;
    expect((await ok(h.api, 'probe.list', { modelId: ids.model })).map((p: any) => p.id)).toEqual([ids.probe]);
  });

  it('discovers the classifier circuit and saves it as a circuit tied to the probe', async () => {
    const { result } = await runJob(h.api, 'shift.discover', { probeId: ids.probe, saeSetId: ids.saes, threshold: defaults.threshold });
    features = result.features;
    expect(features.length).toBeGreaterThan(20);
    expect(features.every((f) => f.effect > defaults.threshold)).toBe(true);
    ids.circuit = result.circuit.id;
    const got = await ok(h.api, 'circuit.get', { id: ids.circuit });
    const c = validateCircuitFile(got.circuit, 'stored');
    expect(c.parameters.metric).toMatchObject({ kind: 'probe', layer: defaults.layer, probeId: ids.probe, selection: 'signed' });
    expect(c.nodes.length).toBe(features.length);
  });

  it('shows what a person needs to judge features: contexts, promoted tokens, annotation and judgement', async () => {
    const pick = features.slice(0, 3).map(({ submodule, feature }) => ({ submodule, feature }));
    const { result } = await runJob(h.api, 'shift.features', { circuitId: ids.circuit, features: pick, scan: 120, top: 4, tokens: 5 });
    expect(result.scanned).toBe(120);
    expect(result.features.map((f: any) => [f.submodule, f.feature])).toEqual(pick.map((f) => [f.submodule, f.feature]));
    for (const f of result.features) {
      expect(f.effect).toBeCloseTo(features.find((x) => x.submodule === f.submodule && x.feature === f.feature)!.effect, 9);
      expect(f.topTokens).toHaveLength(5);
      if (f.active) expect(f.contexts[0].values[f.contexts[0].position]).toBe(f.contexts[0].activation);
    }
  });

  it('saves judgements (keep / ablate + note) and lists them for the circuit', async () => {
    const [a, b] = features;
    const all = await ok(h.api, 'shift.judge', { saeSetId: ids.saes, judgements: [{ ...pickKey(a), decision: 'keep', note: 'looks like work words' }, { ...pickKey(b), decision: null }] });
    expect(all.find((j: any) => j.submodule === a.submodule && j.feature === a.feature)).toMatchObject({ decision: 'keep', note: 'looks like work words', source: 'edit' });
    expect(all.find((j: any) => j.submodule === b.submodule && j.feature === b.feature)).toBeUndefined();
    const forCircuit = await ok(h.api, 'shift.judgements', { circuitId: ids.circuit });
    const keys = new Set(features.map((f) => `${f.submodule}/${f.feature}`));
    expect(forCircuit.every((j: any) => keys.has(`${j.submodule}/${j.feature}`))).toBe(true);
    const refused = await h.api.call('shift.judge', { saeSetId: ids.saes, judgements: [{ submodule: 'resid_9', feature: 1, decision: 'keep' }] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });

  it('runs SHIFT on the circuit\'s features judged ablate and keeps the table', async () => {
    const { result } = await runJob(h.api, 'shift.run', { probeId: ids.probe, circuitId: ids.circuit, baselines: false, batchSize: defaults.probeBatchSize });
    expect(result).toMatchObject({ probeId: ids.probe, circuitId: ids.circuit, saeSetId: ids.saes });
    const rows = result.result.rows as { method: string; worstGroup: number; profession: number }[];
    expect(rows.map((r) => r.method)).toEqual(['shift', 'shift_retrain']);
    const probe = (await ok(h.api, 'probe.list', {}))[0];
    expect(rows[1].worstGroup).toBeGreaterThan(probe.accuracy.worstGroup + 0.3);
    const judgedAblate = (await ok(h.api, 'shift.judgements', { circuitId: ids.circuit })).filter((j: any) => j.decision === 'ablate');
    expect(result.params.ablate).toHaveLength(judgedAblate.length);
    expect((await ok(h.api, 'shift.runs', { probeId: ids.probe })).map((r: any) => r.id)).toEqual([result.id]);
  });

  it('Cancel stops a SHIFT run', async () => {
    const { jobId } = await ok(h.api, 'shift.run', { probeId: ids.probe, circuitId: ids.circuit });
    await h.api.nextEvent((e) => e.event === 'job.progress' && (e.payload as any).jobId === jobId);
    expect(await ok(h.api, 'job.cancel', { jobId })).toEqual({ cancelled: true });
    const end = await h.api.nextEvent((e) => (e.payload as any).jobId === jobId && e.event !== 'job.progress');
    expect(end).toMatchObject({ event: 'job.failed', payload: { error: { code: 'cancelled' } } });
    expect(await ok(h.api, 'shift.runs', { probeId: ids.probe })).toHaveLength(1);
  });

  it('imports judgements carried by an annotation file', async () => {
    const text = ['{"Name": "embed/3", "Annotation": "a token", "Judgement": "ablate", "Notes": "gendered"}', '{"Name": "embed/4", "Annotation": "no judgement here"}'].join('\n');
    const imp = await ok(h.api, 'library.import', { source: { name: 'labels.jsonl', text }, saeSetId: ids.saes });
    expect(imp).toMatchObject({ kind: 'annotations', imported: 2, judgements: 1 });
    const j = (await ok(h.api, 'shift.judgements', { saeSetId: ids.saes })).find((x: any) => x.submodule === 'embed' && x.feature === 3);
    expect(j).toMatchObject({ decision: 'ablate', note: 'gendered', source: 'import:labels.jsonl' });
  });

  it('imports Bias in Bios JSONL (with splits) as a dataset SHIFT can train on, refusing a file without splits', async () => {
    const rows = [
      ...['train', 'test'].flatMap((split) => [[21, 0], [21, 1], [13, 0], [13, 1], [5, 1]].map(([profession, gender], i) => ({ hard_text: `She lives in Boston ${i}`, profession, gender, split }))),
    ];
    const imp = await ok(h.api, 'library.import', { source: { name: 'bib.jsonl', text: rows.map((r) => JSON.stringify(r)).join('\n') } });
    expect(imp).toMatchObject({ kind: 'dataset', name: 'bib', examples: 8 }); // the other profession is left out
    const got = await ok(h.api, 'library.get', { kind: 'dataset', id: imp.id });
    expect(got.dataset).toMatchObject({ kind: 'bios', format: 'bios-jsonl' });
    const refused = await h.api.call('library.import', { source: { name: 'nosplit.jsonl', text: '{"hard_text": "x", "profession": 21, "gender": 0}' } });
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_input', message: /nosplit\.jsonl:1: "split" must be "train" or "test"/ } });
  });

  it('refuses what it cannot do, naming the input and the problem', async () => {
    const lib = await ok(h.api, 'library.list', {});
    const agreement = lib.datasets.find((d: any) => d.name === 'demo simple (train)');
    let r = await h.api.call('probe.train', { modelId: ids.model, datasetId: agreement.id, layer: 0 });
    expect(r.ok).toBe(true);
    const end = await h.api.nextEvent((e) => (e.payload as any).jobId === (r as any).result.jobId && e.event !== 'job.progress');
    expect(end).toMatchObject({ event: 'job.failed', payload: { error: { code: 'invalid_input', message: /dataset 'demo simple \(train\)' is not Bias in Bios data/ } } });
    const simple = lib.datasets.find((d: any) => d.name === 'demo simple (train)');
    const agreementModel = lib.models.find((m: any) => m.name === 'demo model');
    const agreementSaes = lib.saeSets.find((s: any) => s.name === 'demo SAEs');
    const { result: other } = await runJob(h.api, 'circuit.discover', { modelId: agreementModel.id, saeSetId: agreementSaes.id, datasetId: simple.id, n: 4, nodesOnly: true });
    await expect(runJob(h.api, 'shift.run', { probeId: ids.probe, circuitId: other.circuit.id })).rejects.toThrow(/circuit \d+ 'demo simple \(train\) ig' is not a classifier circuit/);
    await expect(runJob(h.api, 'shift.run', { probeId: ids.probe })).rejects.toThrow(/give circuitId \(its judged features\) or saeSetId/);
    r = await h.api.call('shift.discover', { probeId: 999, saeSetId: ids.saes });
    const end2 = await h.api.nextEvent((e) => (e.payload as any).jobId === (r as any).result.jobId && e.event !== 'job.progress');
    expect(end2).toMatchObject({ payload: { error: { code: 'not_found', message: 'no probe with id 999' } } });
  });
});

const pickKey = (f: { submodule: string; feature: number }) => ({ submodule: f.submodule, feature: f.feature });

describe('SHIFT through the sfc commands', () => {
  const bin = join(process.cwd(), 'bin', 'sfc.js');
  const sfc = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
    return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
  };

  it('probe train → shift discover → shift run --judgements, each with --json', () => {
    const p = sfc('probe', 'train', '--json', '--out', 'probe.json');
    expect(p.code, p.err).toBe(0);
    const pj = JSON.parse(p.out);
    expect(pj.scores.worstGroup).toBeLessThan(0.3);
    const d = sfc('shift', 'discover', '--probe', 'probe.json', '--json', '--out', 'c.json', '--judgements-out', 'todo.jsonl');
    expect(d.code, d.err).toBe(0);
    const dj = JSON.parse(d.out);
    expect(dj.features.length).toBeGreaterThan(20);
    expect(validateCircuitFile(JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')), 'c.json').nodes).toHaveLength(dj.features.length);
    // The template carries no judgements until a person fills it in.
    expect(parseJudgementJsonl(readFileSync(join(dir, 'todo.jsonl'), 'utf8'), 'todo').rows).toHaveLength(0);
    const r = sfc('shift', 'run', '--probe', 'probe.json', '--judgements', join(SHIFT_DEMO_DIR, 'judgements.jsonl'), '--circuit', 'c.json', '--no-baselines', '--json');
    expect(r.code, r.err).toBe(0);
    const rows = JSON.parse(r.out).rows;
    expect(rows.find((x: any) => x.method === 'shift_retrain').worstGroup).toBeGreaterThan(pj.scores.worstGroup + 0.3);
    const text = sfc('shift', 'run', '--probe', 'probe.json', '--judgements', join(SHIFT_DEMO_DIR, 'judgements.jsonl'), '--no-baselines');
    expect(text.out).toMatch(/SHIFT \+ retrain/);
  }, 240_000);

  it('user errors name the input and the problem', () => {
    let r = sfc('shift', 'run', '--probe', 'nope.json', '--judgements', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--probe nope\.json: no such file/);
    writeFileSync(join(dir, 'j.jsonl'), '{"Name": "embed/1", "Judgement": "perhaps"}\n');
    r = sfc('shift', 'run', '--probe', 'probe.json', '--judgements', 'j.jsonl');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/j\.jsonl:1: Judgement of embed\/1 must be "keep" or "ablate"/);
    r = sfc('shift', 'frobnicate', '--probe', 'probe.json');
    expect(r.err).toMatch(/unknown subcommand 'frobnicate'/);
    r = sfc('probe', 'train', '--layer', '7', '--out', 'p7.json');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/layer 7: the model has layers 0\.\.2/);
  });

  it('Ctrl-C cancels a SHIFT run cleanly (exit 130, no output file)', async () => {
    const child = spawn(process.execPath, [bin, 'shift', 'run', '--probe', 'probe.json', '--judgements', join(SHIFT_DEMO_DIR, 'judgements.jsonl'), '--out', 'cancelled.json'], { cwd: dir });
    let err = '';
    const code = await new Promise<number>((resolve) => {
      child.stderr.on('data', (d) => {
        err += String(d);
        if (/activations/.test(err) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c ?? -1));
    });
    expect(err).toMatch(/cancelling/);
    expect(code).toBe(130);
    expect(existsSync(join(dir, 'cancelled.json'))).toBe(false);
  }, 120_000);
});
