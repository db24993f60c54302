/**
 * The demo's agreement data files (docs/data-formats.md §1, paired JSONL), made by the project's
 * stimulus generator with the demo tokenizer, and the set of held-out prefixes the LM corpus
 * must avoid.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgreementRecord } from '../data/agreement';
import { STRUCTURES, type Structure, generateAgreement, writeJsonl } from '../data/generator';
import type { TextTokenizer } from '../models/tokenizer';

export interface DemoDataOptions {
  seed: number;
  maxTrain: number;
  maxTest: number;
}

export interface DemoData {
  train: Record<Structure, AgreementRecord[]>;
  test: Record<Structure, AgreementRecord[]>;
}

export function makeDemoData(tok: TextTokenizer, o: DemoDataOptions): DemoData {
  const train = {} as Record<Structure, AgreementRecord[]>;
  const test = {} as Record<Structure, AgreementRecord[]>;
  STRUCTURES.forEach((s, i) => {
    const g = generateAgreement(tok, { structure: s, seed: o.seed + i, maxTrain: o.maxTrain, maxTest: o.maxTest });
    if (g.droppedWords.length) throw new Error(`demo data: the demo tokenizer lacks ${g.droppedWords.join(', ')}`);
    if (g.droppedLines) throw new Error(`demo data: ${g.droppedLines} ${s} lines failed the agreement loader's checks`);
    train[s] = g.train;
    test[s] = g.test;
  });
  return { train, test };
}

/** Writes data/{structure}_{train,test}.jsonl; returns the paths. */
export function writeDemoData(dir: string, data: DemoData): string[] {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (const s of STRUCTURES) {
    for (const split of ['train', 'test'] as const) {
      const p = join(dir, `${s}_${split}.jsonl`);
      writeJsonl(p, data[split][s]);
      paths.push(p);
    }
  }
  return paths;
}

/** Every clean and patch prefix of the test files: the LM never sees one followed by its verb. */
export function heldOutPrefixes(data: DemoData): Set<string> {
  const out = new Set<string>();
  for (const s of STRUCTURES) for (const r of data.test[s]) out.add(r.clean_prefix).add(r.patch_prefix);
  return out;
}
