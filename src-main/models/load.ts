/**
 * Loads a Hugging Face GPT-NeoX folder: config.json, model.safetensors (or a sharded index) and
 * tokenizer.json. Every weight is checked against the config, and for NaN or infinite values,
 * before anything runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SessionCache } from '../engine/session';
import { Tensor } from '../engine/tensor';
import { assertFinite } from '../engine/finite';
import { paramShapes } from './gptneox';
import { parseNeoxConfig } from './neox-config';
import { type F32, NeoxModel } from './neox-model';
import { readSafetensors } from './safetensors';
import { checkVocab, loadTokenizer } from './tokenizer';

export async function loadNeoxFolder(dir: string, sessions: SessionCache): Promise<NeoxModel> {
  if (!existsSync(dir)) throw new Error(`model folder ${dir} does not exist`);
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new Error(`${dir}: no config.json (expected a Hugging Face model folder)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new Error(`${configPath}: invalid JSON (${(e as Error).message})`);
  }
  const cfg = parseNeoxConfig(raw, configPath);

  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  if (!existsSync(single) && !existsSync(index)) {
    throw new Error(`${dir}: no model.safetensors or model.safetensors.index.json (only safetensors weights are supported)`);
  }
  const source = readSafetensors(existsSync(single) ? single : index);
  const weights = new Map<string, F32>();
  for (const [name, shape] of paramShapes(cfg)) {
    const info = source.info(name); // throws naming the file if the tensor is missing
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${source.path}: tensor '${name}' has shape [${info.shape}], expected [${shape}] from ${configPath}`);
    }
    // Mapped where possible (F32, aligned, outside Electron): no read, no second copy, as the SAE
    // encoders; 0.15–0.2 s of every fresh Pythia-70M job (docs/performance.md).
    const t = source.getTensor(name, { map: true });
    // A NaN or infinite weight would make every output NaN: refuse it here (engine/finite.ts).
    assertFinite(t.data, `${source.path}: tensor '${name}'`, shape);
    weights.set(name, new Tensor(t.data, shape));
  }

  const tokPath = join(dir, 'tokenizer.json');
  let tokenizer = null;
  if (existsSync(tokPath)) {
    tokenizer = await loadTokenizer(dir);
    checkVocab(tokenizer, cfg.vocabSize, tokPath);
  }
  return new NeoxModel(dir, cfg, weights, tokenizer, sessions);
}
