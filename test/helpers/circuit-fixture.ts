/**
 * A complete small workspace for circuit tests: a random GPT-NeoX folder, random SAEs written in
 * the dictionary_learning layout (ae.pt files, read back through the normal loader), and a
 * paired agreement JSONL file in the helper tokenizer's vocabulary.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTorchFile } from '../../src-main/saes/write-torch';
import { dictionaryLearningFolder } from '../../src-main/saes/load';
import type { Sae } from '../../src-main/saes/types';
import { writeRandomNeoxFolder } from './neox-folder';
import { randomSae } from './random-sae';

export interface CircuitFixture {
  model: string;
  saes: string;
  data: string;
  submodules: string[];
}

/** decoder.weight is [D, F] (columns = feature directions) in the dictionary_learning layout. */
export function writeAePt(path: string, sae: Sae): void {
  const { d, f } = sae;
  const decT = new Float32Array(d * f);
  for (let i = 0; i < f; i++) for (let q = 0; q < d; q++) decT[q * f + i] = sae.dec[i * d + q];
  writeTorchFile(path, {
    bias: { shape: [d], data: sae.bDec },
    'encoder.weight': { shape: [f, d], data: sae.enc },
    'encoder.bias': { shape: [f], data: sae.bEnc },
    'decoder.weight': { shape: [d, f], data: decT },
  });
}

const LINES: [string, string, string, string][] = [
  ['The author', 'The authors', ' is', ' are'],
  ['The authors', 'The author', ' are', ' is'],
  ['The guard', 'The guards', ' is', ' are'],
  ['The guards', 'The guard', ' are', ' is'],
  ['The doctor', 'The doctors', ' is', ' are'],
  ['The doctors', 'The doctor', ' are', ' is'],
  ['The manager', 'The managers', ' is', ' are'],
  ['The managers', 'The manager', ' are', ' is'],
  ['The key', 'The keys', ' is', ' are'],
  ['The keys', 'The key', ' are', ' is'],
  ['The cabinet', 'The cabinets', ' is', ' are'],
  ['The cabinets', 'The cabinet', ' are', ' is'],
];

export function agreementJsonl(): string {
  return LINES.map(([c, p, ca, pa]) => JSON.stringify({ clean_prefix: c, patch_prefix: p, clean_answer: ca, patch_answer: pa, case: 'singular' })).join('\n') + '\n';
}

export function writeCircuitFixture(root: string, opts: { hidden?: number; features?: number; layers?: number } = {}): CircuitFixture {
  const hidden = opts.hidden ?? 32;
  const features = opts.features ?? 64;
  const layers = opts.layers ?? 2;
  const folder = writeRandomNeoxFolder(join(root, 'model'), { seed: 5, hidden, heads: 4, layers, intermediate: 2 * hidden });
  const submodules = ['embed'];
  for (let l = 0; l < layers; l++) submodules.push(`attn_${l}`, `mlp_${l}`, `resid_${l}`);
  const saes = join(root, 'saes');
  submodules.forEach((sub, i) => {
    const dir = join(saes, dictionaryLearningFolder(sub), `0_${features}`);
    mkdirSync(dir, { recursive: true });
    writeAePt(join(dir, 'ae.pt'), randomSae(hidden, features, 200 + i, { scale: 1.5 }));
  });
  const data = join(root, 'agreement.jsonl');
  writeFileSync(data, agreementJsonl());
  return { model: folder.dir, saes, data, submodules };
}
