/**
 * Between the store and the compute worker, which works on files: stored datasets and circuits
 * are written (once, content-addressed, atomically) into a cache folder beside the database,
 * and what the CLI runs on paths is found in, or added to, the library.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write';
import { contentHash } from '../util/hash';
import type { Store } from './index';
import { importFile } from './import';
import { identitySaeSet, registerModel, registerSaeSet } from './register';
import { sha256 } from './library';

export function datasetFile(store: Store, id: number, cacheDir: string): { path: string; nopair: boolean } {
  const d = store.library.dataset(id);
  const dir = join(cacheDir, 'datasets');
  const path = join(dir, `${d.sha256}.${d.format === 'jsonl' ? 'jsonl' : 'json'}`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(path, store.library.datasetContent(id));
  }
  return { path, nopair: d.format === 'cluster-json' };
}

export function circuitFile(store: Store, id: number, cacheDir: string): string {
  const text = JSON.stringify(store.circuits.get(id));
  const dir = join(cacheDir, 'circuits');
  const path = join(dir, `${sha256(text)}.json`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(path, text);
  }
  return path;
}

/** The library ids of what a CLI run used (registered on the way when new). */
export function refsFromPaths(store: Store, p: { model: string; saes: string | null; data: string; neurons: boolean }): { modelId: number; saeSetId: number; datasetId: number } {
  const model = registerModel(store, p.model);
  const set = p.neurons || !p.saes ? identitySaeSet(store, model) : registerSaeSet(store, p.saes, model.id);
  const data = resolve(p.data);
  const found = store.library.datasetBySha(contentHash(data));
  const datasetId = found ? found.id : (importFile(store, { path: data }, { name: store.library.datasets().some((d) => d.name === basename(data, extname(data))) ? `${basename(data, extname(data))} (${contentHash(data).slice(0, 8)})` : undefined }) as { id: number }).id;
  return { modelId: model.id, saeSetId: set.id, datasetId };
}
