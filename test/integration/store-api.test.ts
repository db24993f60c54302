/**
 * The workbench's memory end to end, through the real API over the WebSocket transport with the
 * compute worker and a real database file: import a cluster JSON → discover on the demo model
 * → save → annotate → prune into a version → ablate → evaluate → compare → export; then restart
 * the host on the same file and find everything again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCircuitFile } from '../../src-main/circuits/circuit-file';
import { parseAnnotationJsonl } from '../../src-main/data/annotations';
import { demoLines, host, ok, runJob, type Hosted } from '../helpers/api-host';

let dir: string;
let db: string;
let h: Hosted;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-store-api-'));
  db = join(dir, 'sfc.db');
  h = await host(db);
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('store through the API', () => {
  const ids: Record<string, number> = {};
  let pruned: string[] = [];

  it('starts with the demo model, SAEs and datasets in the library', async () => {
    const lib = await ok(h.api, 'library.list', {});
    expect(lib.models.map((m: any) => m.name)).toEqual(['demo model']);
    expect(lib.saeSets.map((s: any) => [s.name, s.layout])).toEqual([['demo SAEs', 'dictionary_learning']]);
    expect(lib.datasets.map((d: any) => d.name)).toContain('demo simple (train)');
    ids.model = lib.models[0].id;
    ids.saes = lib.saeSets[0].id;
    ids.simpleTrain = lib.datasets.find((d: any) => d.name === 'demo simple (train)').id;
    ids.simpleTest = lib.datasets.find((d: any) => d.name === 'demo simple (test)').id;
  });

  it('imports a cluster JSON and discovers its circuit on the demo model', async () => {
    const clusters = Object.fromEntries(demoLines('simple_train.jsonl').slice(0, 12).map((r, i) => [`c${i}`, { context: r.clean_prefix, answer: r.clean_answer }]));
    const imp = await ok(h.api, 'library.import', { source: { name: 'clusters.json', text: JSON.stringify(clusters) } });
    expect(imp).toMatchObject({ kind: 'dataset', name: 'clusters', examples: 12 });
    const got = await ok(h.api, 'library.get', { kind: 'dataset', id: imp.id });
    expect(got.preview.slice(0, 2)).toEqual(Object.entries(clusters).slice(0, 2).map(([key, v]) => ({ key, context: v.context, answer: v.answer })));
    const { result, progress } = await runJob(h.api, 'circuit.discover', { modelId: ids.model, saeSetId: ids.saes, datasetId: imp.id, n: 12, nodesOnly: true });
    expect(progress).toBeGreaterThan(0);
    expect(result.circuit).toMatchObject({ name: 'clusters ig', datasetId: imp.id, parameters: { nopair: true } });
    expect(result.circuit.nodes).toBeGreaterThan(0);
  });

  it('discovers on paired data, saves, and the stored circuit is the discovered one', async () => {
    const { result } = await runJob(h.api, 'circuit.discover', { modelId: ids.model, saeSetId: ids.saes, datasetId: ids.simpleTrain, n: 40, name: 'simple agreement' });
    ids.v1 = result.circuit.id;
    const got = await ok(h.api, 'circuit.get', { id: ids.v1 });
    const c = validateCircuitFile(got.circuit, 'stored circuit');
    expect(got.summary).toMatchObject({ name: 'simple agreement', nodes: c.nodes.length, edges: c.edges!.length, modelId: ids.model, saeSetId: ids.saes });
    expect(c.nodes.length).toBeGreaterThan(5);
    // The SAE set's widths became known with the discovery.
    const lib = await ok(h.api, 'library.list', {});
    expect(lib.saeSets[0].submodules.map((s: any) => s.name)).toEqual(c.submodules.map((s) => s.name));
  });

  it('annotates a feature, prunes into a new version, ablates and evaluates it', async () => {
    const c = (await ok(h.api, 'circuit.get', { id: ids.v1 })).circuit;
    const features = c.nodes.filter((n: any) => n.feature !== 'error').sort((a: any, b: any) => Math.abs(b.effect) - Math.abs(a.effect));
    const top = features[0];
    expect(await ok(h.api, 'annotation.set', { saeSetId: ids.saes, submodule: top.submodule, feature: top.feature, text: 'plural subject' })).toMatchObject({ text: 'plural subject' });
    const refused = await h.api.call('annotation.set', { saeSetId: ids.saes, submodule: top.submodule, feature: 10 ** 6, text: 'x' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_input', message: /feature 1000000 is out of range/ } });

    pruned = features.slice(-3).map((n: any) => n.id);
    const v2 = await ok(h.api, 'circuit.edit', { id: ids.v1, edit: { op: 'prune', nodes: pruned }, label: 'without 3 weakest' });
    ids.v2 = v2.id;
    expect(v2).toMatchObject({ parentId: ids.v1, nodes: c.nodes.length - 3, versionLabel: 'without 3 weakest' });

    const { result: exp } = await runJob(h.api, 'circuit.ablate', { circuitId: ids.v2, nodes: [{ submodule: top.submodule, feature: top.feature }], mode: 'zero', n: 20 });
    expect(exp.result.before).toHaveLength(exp.result.after.length);
    expect(exp.result.meanAfter).not.toBeCloseTo(exp.result.meanBefore, 3); // the strongest feature matters
    expect(exp.result.topChanges.length).toBeGreaterThan(0);

    const { result: ev } = await runJob(h.api, 'circuit.evaluate', { circuitId: ids.v2, datasetId: ids.simpleTest, n: 20, thresholds: [0.1, 1] });
    expect(ev.result.rows.map((r: any) => r.threshold)).toEqual([0.1, 1]);
    for (const r of ev.result.rows) expect(Number.isFinite(r.faithfulness)).toBe(true);
  });

  it('compares the versions and exports the circuit and the annotations', async () => {
    const cmp = await ok(h.api, 'circuit.compare', { a: ids.v1, b: ids.v2 });
    expect(cmp.onlyA.map((n: any) => n.key).sort()).toEqual([...pruned].sort());
    expect(cmp.onlyB).toEqual([]);
    expect(cmp.correlation).toBeCloseTo(1, 12);
    const ex = await ok(h.api, 'circuit.export', { id: ids.v2 });
    const file = validateCircuitFile(JSON.parse(ex.text), ex.fileName);
    expect(file.nodes.some((n) => pruned.includes(n.id))).toBe(false);
    const ann = await ok(h.api, 'annotation.export', { saeSetId: ids.saes });
    expect(parseAnnotationJsonl(ann.text, ann.fileName).rows.map((r) => r.annotation)).toEqual(['plural subject']);
  });

  it('finds everything again after the host restarts on the same file', async () => {
    await h.close();
    h = await host(db);
    const lib = await ok(h.api, 'library.list', {});
    expect(lib.models).toHaveLength(1); // the demo is not registered twice
    expect(lib.circuits.map((c: any) => c.id).sort()).toEqual(expect.arrayContaining([ids.v1, ids.v2]));
    expect((await ok(h.api, 'circuit.history', { id: ids.v2 })).map((s: any) => s.id)).toEqual([ids.v1, ids.v2]);
    const ann = await ok(h.api, 'annotation.forCircuit', { circuitId: ids.v2 });
    expect(ann.map((a: any) => a.text)).toEqual(['plural subject']);
    const res = await ok(h.api, 'circuit.results', { id: ids.v2 });
    expect(res.evaluations).toHaveLength(1);
    expect(res.experiments).toHaveLength(1);
    expect(await h.api.call('library.delete', { kind: 'circuit', id: ids.v1 })).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('estimates a discovery, and refuses one that will not fit in the memory allowed', async () => {
    const { result: est } = await runJob(h.api, 'circuit.estimate', { modelId: ids.model, saeSetId: ids.saes, datasetId: ids.simpleTrain, n: 40 });
    expect(est).toMatchObject({ fits: true, reason: null, tokens: 80 });
    expect(est.seconds).toBeGreaterThan(0);
    await h.close();
    process.env.SFC_MEMORY_LIMIT = String(64 * 2 ** 20); // below what the worker already holds
    try {
      h = await host(db);
      const { result: tight } = await runJob(h.api, 'circuit.estimate', { modelId: ids.model, saeSetId: ids.saes, datasetId: ids.simpleTrain, n: 40 });
      expect(tight).toMatchObject({ fits: false, reason: expect.stringMatching(/needs about .* GiB at its peak but about 0\.1 GiB is available.*SFC_MEMORY_LIMIT/) });
      const before = (await ok(h.api, 'library.list', {})).circuits.length;
      await expect(runJob(h.api, 'circuit.discover', { modelId: ids.model, saeSetId: ids.saes, datasetId: ids.simpleTrain, n: 40 })).rejects.toThrow(/will not fit in memory/);
      expect((await ok(h.api, 'library.list', {})).circuits.length).toBe(before);
    } finally {
      delete process.env.SFC_MEMORY_LIMIT;
    }
  });
});
