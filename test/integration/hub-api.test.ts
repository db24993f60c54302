/**
 * The hub channels end to end through the real API (WebSocket, compute worker, database file),
 * against a fake Hub on 127.0.0.1: known setups → fetch (a job with progress and Cancel) →
 * the model and SAE set in the library with their shapes → a discovery on them → labels and
 * Neuronpedia links on its features → inspect → the cache listed and cleared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, ok, runJob, type Hosted } from '../helpers/api-host';
import { FakeHub } from '../helpers/fake-hub';
import { servePythia, type PythiaHub } from '../helpers/pythia-hub-fixture';
import { agreementJsonl } from '../helpers/circuit-fixture';

let dir: string;
let hub: FakeHub;
let repos: PythiaHub;
let h: Hosted;
const saved: Record<string, string | undefined> = {};
const ENV = ['HF_ENDPOINT', 'HF_HUB_CACHE', 'SFC_CACHE_DIR', 'SFC_HUB_DIR', 'HF_TOKEN', 'HF_HUB_OFFLINE', 'HUGGING_FACE_HUB_TOKEN', 'HF_HOME'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-hub-api-'));
  hub = await new FakeHub().start();
  repos = servePythia(hub, join(dir, 'fixture'));
  for (const k of ENV) saved[k] = process.env[k];
  for (const k of ENV) delete process.env[k];
  // Read by the compute worker when it starts, so set before the host.
  Object.assign(process.env, { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(dir, 'hf'), SFC_CACHE_DIR: join(dir, 'sfc') });
  h = await host(join(dir, 'sfc.db'));
});
afterAll(async () => {
  await h?.close();
  await hub.close();
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('hub channels', () => {
  const ids: Record<string, number> = {};
  let fetched: any;

  it('hub.setups lists pythia-70m-deduped, its sources and Neuronpedia ids; nothing is cached yet', async () => {
    const r = await ok(h.api, 'hub.setups');
    expect(r).toMatchObject({ endpoint: hub.url, offline: false, hubCache: join(dir, 'hf'), sfcCache: join(dir, 'sfc', 'hub') });
    const p = r.setups.find((s: any) => s.id === 'pythia-70m-deduped');
    expect(p.model).toMatchObject({ repo: 'EleutherAI/pythia-70m-deduped', cached: false });
    expect(p.saeSources.map((s: any) => [s.id, s.cached])).toEqual([['dictionary_learning', false], ['saelens', false]]);
    expect(p.neuronpedia.saeIds).toMatchObject({ embed: 'e-res-sm', attn_0: '0-att-sm', mlp_3: '3-mlp-sm', resid_5: '5-res-sm' });
    expect(hub.log).toEqual([]); // listing setups asks nothing of the Hub
  });

  it('hub.fetch downloads with progress, then the model and SAE set are in the library with their shapes', async () => {
    const { result, progress } = await runJob(h.api, 'hub.fetch', { setup: 'pythia-70m-deduped' });
    fetched = result;
    expect(progress).toBeGreaterThan(0);
    expect(h.api.events.some((e) => e.event === 'job.progress' && /downloading .*: .* of /.test((e.payload as any).message))).toBe(true);
    expect(result.model).toMatchObject({ name: 'pythia-70m-deduped', path: result.modelDir, tags: ['pythia-70m-deduped'] });
    expect(result.saeSet).toMatchObject({ layout: 'dictionary_learning', path: result.saesDir, modelId: result.model.id, tags: ['pythia-70m-deduped'] });
    expect(result.saeSet.submodules).toHaveLength(19);
    expect(result.saeSet.submodules[0]).toEqual({ name: 'embed', features: 32, kind: 'relu' });
    expect(result.requests).toBeGreaterThan(0);
    ids.model = result.model.id;
    ids.saes = result.saeSet.id;
    const setups = await ok(h.api, 'hub.setups');
    expect(setups.setups[0].model.cached).toBe(true);
    expect(setups.setups[0].saeSources[0].cached).toBe(true);
    // Again: the same records, nothing downloaded, no request.
    hub.log.length = 0;
    const { result: again } = await runJob(h.api, 'hub.fetch', { setup: 'pythia-70m-deduped' });
    expect(again.model.id).toBe(ids.model);
    expect(again.saeSet.id).toBe(ids.saes);
    expect(again.requests).toBe(0);
    expect(hub.log).toEqual([]);
  });

  it('the fetched setup runs a discovery; imported labels and Neuronpedia links reach its features', async () => {
    const data = await ok(h.api, 'library.import', { source: { name: 'agreement.jsonl', text: agreementJsonl() } });
    const { result } = await runJob(h.api, 'circuit.discover', { modelId: ids.model, saeSetId: ids.saes, datasetId: data.id, n: 12, batchSize: 6, nodeThreshold: 0, edgeThreshold: 0 });
    expect(result.circuit.nodes).toBeGreaterThan(0);
    const { circuit } = await ok(h.api, 'circuit.get', { id: result.circuit.id });
    const features = circuit.nodes.filter((n: any) => n.feature !== 'error').slice(0, 3);
    expect(features.length).toBe(3);
    // Annotations in the original's format, range-checked against the shapes recorded at fetch.
    const lines = features.map((n: any, i: number) => JSON.stringify({ Name: `${n.submodule}/${n.feature}`, Annotation: `label ${i}` }));
    const imp = await ok(h.api, 'library.import', { source: { name: 'labels.jsonl', text: `${lines.join('\n')}\n` }, saeSetId: ids.saes });
    expect(imp).toMatchObject({ kind: 'annotations', imported: 3 });
    const bad = await h.api.call('library.import', { source: { name: 'bad.jsonl', text: '{"Name": "resid_5/32", "Annotation": "past the end"}\n' }, saeSetId: ids.saes });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringMatching(/bad\.jsonl:1 \(resid_5\/32\): feature 32 is out of range for resid_5 \(32 features\)/) } });
    const labels = await ok(h.api, 'annotation.forCircuit', { circuitId: result.circuit.id });
    expect(labels.map((a: any) => a.text).sort()).toEqual(['label 0', 'label 1', 'label 2']);
    const links = await ok(h.api, 'hub.links', { saeSetId: ids.saes });
    expect(links.setup).toBe('pythia-70m-deduped');
    expect(links.neuronpedia.featureUrl).toBe('https://www.neuronpedia.org/pythia-70m-deduped/{saeId}/{feature}');
    const f = features[0];
    expect(links.neuronpedia.featureUrl.replace('{saeId}', links.neuronpedia.saeIds[f.submodule]).replace('{feature}', String(f.feature))).toMatch(
      /^https:\/\/www\.neuronpedia\.org\/pythia-70m-deduped\/(e|\d)-(res|att|mlp)-sm\/\d+$/,
    );
    const demo = (await ok(h.api, 'library.list', {})).saeSets.find((s: any) => s.name === 'demo SAEs');
    if (demo) expect(await ok(h.api, 'hub.links', { saeSetId: demo.id })).toEqual({ setup: null, neuronpedia: null });
  });

  it('hub.inspect describes the model and the SAE folders from their headers', async () => {
    const m = await ok(h.api, 'hub.inspect', { path: fetched.modelDir });
    expect(m.model).toMatchObject({ modelType: 'gpt_neox', layers: 6, width: 32, supported: true, tokenizer: true });
    const s = await ok(h.api, 'hub.inspect', { path: fetched.saesDir });
    expect(s.saes).toMatchObject({ layout: 'dictionary_learning', missing: [], problems: [] });
    expect(s.saes.submodules).toHaveLength(19);
    const missing = await h.api.call('hub.inspect', { path: join(dir, 'nowhere') });
    expect(missing).toMatchObject({ ok: false, error: { code: 'invalid_input', message: `${join(dir, 'nowhere')}: no such file or folder` } });
  });

  it('hub.fetch can be cancelled mid-download', async () => {
    // The SAELens copies are not cached yet; make their first file drop and retry slowly.
    hub.faults.drop.set(`${repos.res}/e-res-sm/sae_weights.safetensors`, { after: 100, times: 20 });
    const { jobId } = await ok(h.api, 'hub.fetch', { setup: 'pythia-70m-deduped', saes: 'saelens' });
    await h.api.nextEvent((e) => e.event === 'job.progress' && (e.payload as any).jobId === jobId && /e-res-sm\/sae_weights/.test((e.payload as any).message));
    await new Promise((r) => setTimeout(r, 500)); // the first drop has left bytes on disk; the client is between retries
    expect(await ok(h.api, 'job.cancel', { jobId })).toEqual({ cancelled: true });
    const end = await h.api.nextEvent((e) => e.event !== 'job.progress' && (e.payload as any).jobId === jobId);
    expect(end).toMatchObject({ event: 'job.failed', payload: { error: { code: 'cancelled' } } });
    hub.faults.drop.clear();
  });

  it('hub.cache.list shows what is cached and what uses it; hub.cache.clear frees it and names what broke', async () => {
    const list = await ok(h.api, 'hub.cache.list');
    const model = list.entries.find((e: any) => e.id === 'hub:models--EleutherAI--pythia-70m-deduped');
    expect(model).toMatchObject({ kind: 'hub-repo', repo: 'EleutherAI/pythia-70m-deduped', usedBy: [{ kind: 'model', id: ids.model }] });
    expect(model.revisions[0].refs).toEqual(['main']);
    expect(model.bytes).toBeGreaterThan(0);
    const partial = list.entries.find((e: any) => e.id === 'hub:models--ctigges--pythia-70m-deduped__res-sm_processed');
    expect(partial.incompleteBytes).toBeGreaterThan(0); // the cancelled download, kept for resuming
    const unpacked = list.entries.find((e: any) => e.kind === 'unpacked');
    expect(unpacked.usedBy).toEqual([{ kind: 'saeSet', id: ids.saes, name: 'pythia-70m-deduped SAEs (dictionary_learning)' }]);
    const cleared = await ok(h.api, 'hub.cache.clear', { ids: [unpacked.id, partial.id] });
    expect(cleared.removed.map((r: any) => r.id).sort()).toEqual([unpacked.id, partial.id].sort());
    expect(cleared.freedBytes).toBeGreaterThan(0);
    expect(cleared.warnings).toEqual([`SAE set ${ids.saes} 'pythia-70m-deduped SAEs (dictionary_learning)' used files in what was cleared (${fetched.saesDir}); fetch it again to use it, or delete it from the library`]);
    const after = await ok(h.api, 'hub.cache.list');
    expect(after.entries.some((e: any) => e.id === unpacked.id)).toBe(false);
    const bad = await h.api.call('hub.cache.clear', { ids: ['hub:models--nobody--nothing'] });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringMatching(/^not in the cache: hub:models--nobody--nothing \(cached: /) } });
    // Fetching again unpacks the cached zip: no download needed, the same SAE set.
    hub.log.length = 0;
    const { result } = await runJob(h.api, 'hub.fetch', { setup: 'pythia-70m-deduped' });
    expect(result.saeSet.id).toBe(ids.saes);
    expect(result.downloadedBytes).toBe(0);
  });
});
