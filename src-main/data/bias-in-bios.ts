/**
 * Bias in Bios for SHIFT (docs/shift.md, Data): reading a local copy, keeping professors and
 * nurses, and the subsampled sets the method uses (ambiguous, balanced, subgroups), shuffled with
 * Python's random.Random(42) as the original does.
 *
 * Accepted layouts (rows carry `hard_text`, `profession` (int) and `gender` (0 male, 1 female)):
 *   - a folder with `train.jsonl` and `test.jsonl` (what `datasets`' `to_json` writes; other
 *     files such as `dev.jsonl` are ignored);
 *   - one JSONL file whose rows also carry `split` ('train' or 'test'): the form the store
 *     keeps and the demo ships (only professors and nurses).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PyRandom } from './py-random';
import { jsonObjectLines } from './common';

/** Profession ids of the dataset. */
export const PROFESSOR = 21;
export const NURSE = 13;

export interface BioRow {
  text: string;
  /** 0 professor, 1 nurse (the intended label). */
  profession: 0 | 1;
  /** 0 male, 1 female (the unintended label). */
  gender: 0 | 1;
}

export type Split = 'train' | 'test';
export type Group = 'male_professor' | 'male_nurse' | 'female_professor' | 'female_nurse';
export const GROUPS: readonly Group[] = ['male_professor', 'male_nurse', 'female_professor', 'female_nurse'];

export function groupOf(r: Pick<BioRow, 'profession' | 'gender'>): Group {
  return `${r.gender ? 'female' : 'male'}_${r.profession ? 'nurse' : 'professor'}` as Group;
}

export interface SplitSets {
  /** Every professor and nurse row of the split, in file order. */
  rows: BioRow[];
  /** Male professors (label 0) and female nurses (label 1), n each, shuffled: indices into rows. */
  ambiguous: number[];
  /** The four groups, n each, shuffled. */
  balanced: number[];
  /** Each group at full size, in file order. */
  groups: Record<Group, number[]>;
}

export interface BiosData {
  source: string;
  train: SplitSets;
  test: SplitSets;
  /** Rows read, and rows of other professions left out, per split. */
  counts: Record<Split, { read: number; kept: number }>;
}

const bad = (file: string, line: number, msg: string): Error => new Error(`${file}:${line}: ${msg}`);

/**
 * Professor and nurse rows of JSONL text. With `split` set, rows are that split and a `split`
 * field is ignored; without it, every row must say its split.
 */
export function parseBiosJsonl(text: string, file: string, split?: Split): { rows: Map<Split, BioRow[]>; read: Map<Split, number> } {
  const rows = new Map<Split, BioRow[]>([['train', []], ['test', []]]);
  const read = new Map<Split, number>([['train', 0], ['test', 0]]);
  jsonObjectLines(text, file, 'hard_text, profession and gender').forEach(({ line, record: r }) => {
    for (const k of ['hard_text', 'profession', 'gender']) if (!(k in r)) throw bad(file, line, `missing key "${k}"`);
    if (typeof r.hard_text !== 'string') throw bad(file, line, '"hard_text" must be a string');
    if (!Number.isInteger(r.profession)) throw bad(file, line, `"profession" must be an integer id, got ${JSON.stringify(r.profession)}`);
    if (r.gender !== 0 && r.gender !== 1) throw bad(file, line, `"gender" must be 0 (male) or 1 (female), got ${JSON.stringify(r.gender)}`);
    const s = split ?? r.split;
    if (s !== 'train' && s !== 'test') throw bad(file, line, split ? 'internal: bad split' : `"split" must be "train" or "test", got ${JSON.stringify(r.split)}`);
    read.set(s, read.get(s)! + 1);
    if (r.profession !== PROFESSOR && r.profession !== NURSE) return;
    if (r.hard_text.trim() === '') throw bad(file, line, '"hard_text" is empty');
    rows.get(s)!.push({ text: r.hard_text, profession: r.profession === NURSE ? 1 : 0, gender: r.gender });
  });
  return { rows, read };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Reads a local copy (a folder or one JSONL file with splits) and builds the sets with `seed`. */
export function loadBiasInBios(path: string, seed = 42): BiosData {
  if (!existsSync(path)) throw new Error(`${path}: no such file or folder (expected Bias in Bios as train.jsonl + test.jsonl, or one JSONL with a "split" field)`);
  let rows: Map<Split, BioRow[]>;
  let read: Map<Split, number>;
  if (statSync(path).isDirectory()) {
    rows = new Map();
    read = new Map();
    for (const s of ['train', 'test'] as const) {
      const file = join(path, `${s}.jsonl`);
      if (!existsSync(file)) throw new Error(`${path}: no ${s}.jsonl in this folder (export each split with datasets' to_json, one JSON object per line)`);
      const r = parseBiosJsonl(readText(file), file, s);
      rows.set(s, r.rows.get(s)!);
      read.set(s, r.read.get(s)!);
    }
  } else ({ rows, read } = parseBiosJsonl(readText(path), path));
  return biosSets(rows, read, path, seed);
}

/** The same from text (a stored dataset): one JSONL with a `split` field. */
export function parseBiasInBios(text: string, name: string, seed = 42): BiosData {
  const { rows, read } = parseBiosJsonl(text, name);
  return biosSets(rows, read, name, seed);
}

function biosSets(rows: Map<Split, BioRow[]>, read: Map<Split, number>, source: string, seed: number): BiosData {
  const sets = {} as Record<Split, SplitSets>;
  for (const s of ['train', 'test'] as const) {
    const r = rows.get(s)!;
    const groups = Object.fromEntries(GROUPS.map((g) => [g, [] as number[]])) as Record<Group, number[]>;
    r.forEach((row, i) => groups[groupOf(row)].push(i));
    const empty = GROUPS.filter((g) => !groups[g].length);
    if (empty.length) throw new Error(`${source}: the ${s} split has no ${empty.map((g) => g.replace('_', ' ') + 's').join(', ')}; SHIFT needs all four groups`);
    sets[s] = { rows: r, ambiguous: ambiguousSet(groups, seed), balanced: balancedSet(groups, seed), groups };
  }
  return { source, train: sets.train, test: sets.test, counts: { train: { read: read.get('train')!, kept: sets.train.rows.length }, test: { read: read.get('test')!, kept: sets.test.rows.length } } };
}

/**
 * Male professors then female nurses, each cut to the smaller group's size n, and the 2n
 * indices shuffled: `random.Random(seed).shuffle(list(range(2n)))` applied to that list.
 */
export function ambiguousSet(groups: Record<Group, number[]>, seed: number): number[] {
  const n = Math.min(groups.male_professor.length, groups.female_nurse.length);
  return shuffled([...groups.male_professor.slice(0, n), ...groups.female_nurse.slice(0, n)], seed);
}

/** The four groups (male/female professors, male/female nurses) cut to the smallest size, shuffled. */
export function balancedSet(groups: Record<Group, number[]>, seed: number): number[] {
  const n = Math.min(...GROUPS.map((g) => groups[g].length));
  const order: Group[] = ['male_professor', 'female_professor', 'male_nurse', 'female_nurse'];
  return shuffled(order.flatMap((g) => groups[g].slice(0, n)), seed);
}

function shuffled(items: number[], seed: number): number[] {
  const idx = new PyRandom(seed).shuffle(items.map((_, i) => i));
  return idx.map((i) => items[i]);
}

/** A split's rows as the store's single-file form (JSONL with `split`). */
export function formatBiosJsonl(data: Pick<BiosData, 'train' | 'test'>): string {
  return (['train', 'test'] as const)
    .flatMap((s) => data[s].rows.map((r) => JSON.stringify({ hard_text: r.text, profession: r.profession ? NURSE : PROFESSOR, gender: r.gender, split: s })))
    .join('\n') + '\n';
}
