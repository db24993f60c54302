/**
 * Putting models, SAE sets and the built-in demo into the library. Registration reads only
 * small files (config.json, folder listings) plus the content hash; no weights are loaded.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseNeoxConfig } from '../models/neox-config';
import { detectSaeLayout } from '../saes/load';
import { contentHash } from '../util/hash';
import { parseAgreementJsonl } from '../data/agreement';
import type { Store } from './index';
import { StoreError } from './common';
import type { DatasetRecord, ModelRecord, SaeSetRecord } from './records';

/** `sha256`: the folder's contentHash when the caller already has it (a fetch computes it off the main thread). */
export function registerModel(store: Store, path: string, name?: string, sha256?: string): ModelRecord {
  const dir = resolve(path);
  const cfgFile = join(dir, 'config.json');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new StoreError('invalid_input', `model ${dir}: folder not found`);
  if (!existsSync(cfgFile)) throw new StoreError('invalid_input', `model ${dir}: no config.json (expected a Hugging Face model folder)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(cfgFile, 'utf8'));
  } catch (e) {
    throw new StoreError('invalid_input', `${cfgFile}: malformed JSON (${(e as Error).message})`);
  }
  const c = parseNeoxConfig(raw, cfgFile);
  const config = { hidden_size: c.hiddenSize, num_hidden_layers: c.numLayers, num_attention_heads: c.numHeads, intermediate_size: c.intermediateSize, vocab_size: c.vocabSize };
  return store.library.addModel({ name: name ?? basename(dir), path: dir, sha256: sha256 ?? contentHash(dir), architecture: 'GPTNeoXForCausalLM', config });
}

export function registerSaeSet(store: Store, path: string, modelId: number | null, name?: string, sha256?: string): SaeSetRecord {
  const dir = resolve(path);
  let layout: string;
  try {
    layout = detectSaeLayout(dir).layout;
  } catch (e) {
    throw new StoreError('invalid_input', (e as Error).message);
  }
  return store.library.addSaeSet({ name: name ?? basename(dir), path: dir, sha256: sha256 ?? contentHash(dir), layout, modelId });
}

/** The neuron basis of a model (IdentityDicts): annotations of neurons hang off it. */
export function identitySaeSet(store: Store, model: ModelRecord): SaeSetRecord {
  return store.library.addSaeSet({ name: `${model.name} neurons`, path: null, sha256: `identity:${model.sha256}`, layout: 'identity', modelId: model.id });
}

/**
 * The embedded demo: model, SAEs and its agreement datasets, registered once (idempotent: the
 * content hashes find what is already there). Returns what it registered or found.
 */
export function ensureDemo(store: Store, demoDir: string): { model: ModelRecord; saeSet: SaeSetRecord; datasets: DatasetRecord[] } | null {
  const modelDir = join(demoDir, 'model');
  if (!existsSync(join(modelDir, 'config.json'))) return null;
  return store.action(() => {
    const model = registerModel(store, modelDir, 'demo model');
    const saeSet = registerSaeSet(store, join(demoDir, 'saes'), model.id, 'demo SAEs');
    const datasets: DatasetRecord[] = [];
    const dataDir = join(demoDir, 'data');
    for (const f of existsSync(dataDir) ? readdirSync(dataDir).filter((f) => f.endsWith('.jsonl')).sort() : []) {
      const content = readFileSync(join(dataDir, f), 'utf8');
      const [structure, split] = f.replace(/\.jsonl$/, '').split(/_(?=train$|test$)/);
      const name = `demo ${structure} (${split})`;
      const have = store.library.datasets().find((d) => d.name === name);
      datasets.push(
        have ?? store.library.addDataset({ name, kind: 'demo', format: 'jsonl', source: f, content, examples: parseAgreementJsonl(content, f).length }),
      );
    }
    return { model, saeSet, datasets };
  });
}
