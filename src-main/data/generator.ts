/**
 * Stimulus generator for the four agreement structures, writing paired JSONL in the original's
 * format (docs/data-formats.md §1). Word lists are our own; only words whose singular and plural forms
 * are one token each (with a leading space) for the given tokenizer are used, so every prefix
 * of a structure has the same token length and passes the loader's filters.
 */
import { writeFileAtomic } from '../util/atomic-write';
import type { TextTokenizer } from '../models/tokenizer';
import { AGREEMENT_KEYS, type AgreementRecord, tokenizeAgreement } from './agreement';
import { PyRandom } from './py-random';

export type Structure = 'simple' | 'nounpp' | 'rc' | 'within_rc';
export const STRUCTURES: readonly Structure[] = ['simple', 'nounpp', 'rc', 'within_rc'];

/** [singular, plural]; for verbs the form that agrees with a singular / plural subject. */
export type WordPair = readonly [singular: string, plural: string];

export interface WordLists {
  /** Main subjects (word 1 of every structure). */
  subjects: readonly WordPair[];
  /** Second noun: object of the preposition (nounpp) or subject of the relative clause (rc, within_rc). */
  distractors: readonly WordPair[];
  prepositions: readonly string[];
  /** The answers: the verb after the prefix. */
  answerVerbs: readonly WordPair[];
  /** The relative clause's own verb in rc ("that the guards like"), agreeing with the distractor. */
  rcVerbs: readonly WordPair[];
}

export const SUBJECT_NOUNS: readonly WordPair[] = [
  ['author', 'authors'], ['pilot', 'pilots'], ['senator', 'senators'], ['nurse', 'nurses'],
  ['student', 'students'], ['painter', 'painters'], ['baker', 'bakers'], ['soldier', 'soldiers'],
  ['writer', 'writers'], ['officer', 'officers'], ['actor', 'actors'], ['judge', 'judges'],
  ['king', 'kings'], ['queen', 'queens'], ['worker', 'workers'], ['player', 'players'],
  ['child', 'children'], ['man', 'men'], ['woman', 'women'], ['person', 'people'],
];
export const DISTRACTOR_NOUNS: readonly WordPair[] = [
  ['guard', 'guards'], ['manager', 'managers'], ['customer', 'customers'], ['neighbor', 'neighbors'],
  ['visitor', 'visitors'], ['engineer', 'engineers'], ['banker', 'bankers'], ['sailor', 'sailors'],
  ['reporter', 'reporters'], ['clerk', 'clerks'],
];
export const PREPOSITIONS: readonly string[] = ['near', 'behind', 'beside'];
export const ANSWER_VERBS: readonly WordPair[] = [['is', 'are'], ['was', 'were'], ['has', 'have'], ['does', 'do']];
export const RC_VERBS: readonly WordPair[] = [
  ['likes', 'like'], ['sees', 'see'], ['knows', 'know'], ['hates', 'hate'], ['helps', 'help'], ['loves', 'love'],
];
export const WORDS: WordLists = {
  subjects: SUBJECT_NOUNS,
  distractors: DISTRACTOR_NOUNS,
  prepositions: PREPOSITIONS,
  answerVerbs: ANSWER_VERBS,
  rcVerbs: RC_VERBS,
};

const NUMBER = ['singular', 'plural'] as const;
type Num = 0 | 1;

/** Is " word" exactly one token (no special tokens)? */
export function isSingleToken(tok: TextTokenizer, word: string): boolean {
  return tok.encode(' ' + word).length === 1;
}

/** The lists restricted to words (both forms of a pair) that are single tokens, plus what was removed. */
export function singleTokenWords(tok: TextTokenizer, lists: WordLists = WORDS): { words: WordLists; dropped: string[] } {
  const dropped: string[] = [];
  const pairs = (ps: readonly WordPair[]) =>
    ps.filter((p) => {
      const ok = isSingleToken(tok, p[0]) && isSingleToken(tok, p[1]);
      if (!ok) dropped.push(`${p[0]}/${p[1]}`);
      return ok;
    });
  const prepositions = lists.prepositions.filter((w) => {
    const ok = isSingleToken(tok, w);
    if (!ok) dropped.push(w);
    return ok;
  });
  const words = {
    subjects: pairs(lists.subjects),
    distractors: pairs(lists.distractors),
    prepositions,
    answerVerbs: pairs(lists.answerVerbs),
    rcVerbs: pairs(lists.rcVerbs),
  };
  return { words, dropped };
}

/**
 * A sentence frame: everything but the number of the noun the verb agrees with. Indices into
 * the word lists; `other` is the number of the non-flipped noun.
 */
interface Frame {
  subj: number;
  dist: number;
  prep: number;
  rcVerb: number;
  other: Num;
}

/** The noun whose number is flipped between clean and patch (docs/data-formats.md §5). */
const FLIPS_DISTRACTOR = (s: Structure) => s === 'within_rc';

function prefix(s: Structure, w: WordLists, f: Frame, subjN: Num, distN: Num): string {
  const subj = `The ${w.subjects[f.subj][subjN]}`;
  const dist = () => w.distractors[f.dist][distN];
  switch (s) {
    case 'simple':
      return subj;
    case 'nounpp':
      return `${subj} ${w.prepositions[f.prep]} the ${dist()}`;
    case 'rc':
      return `${subj} that the ${dist()} ${w.rcVerbs[f.rcVerb][distN]}`;
    case 'within_rc':
      return `${subj} that the ${dist()}`;
  }
}

function frames(s: Structure, w: WordLists): Frame[] {
  const out: Frame[] = [];
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const dists = s === 'simple' ? [0] : range(w.distractors.length);
  const preps = s === 'nounpp' ? range(w.prepositions.length) : [0];
  const rcVerbs = s === 'rc' ? range(w.rcVerbs.length) : [0];
  const others: Num[] = s === 'simple' ? [0] : [0, 1];
  for (const subj of range(w.subjects.length))
    for (const prep of preps)
      for (const dist of dists)
        for (const rcVerb of rcVerbs) for (const other of others) out.push({ subj, dist, prep, rcVerb, other });
  return out;
}

/** Clean has number `c` on the flipped noun, patch the other number. */
function record(s: Structure, w: WordLists, f: Frame, verb: WordPair, c: Num): AgreementRecord {
  const p = (1 - c) as Num;
  const onDist = FLIPS_DISTRACTOR(s);
  const nums = (x: Num): [Num, Num] => (onDist ? [f.other, x] : [x, f.other]);
  const [cs, cd] = nums(c);
  const [ps, pd] = nums(p);
  return {
    clean_prefix: prefix(s, w, f, cs, cd),
    patch_prefix: prefix(s, w, f, ps, pd),
    clean_answer: ' ' + verb[c],
    patch_answer: ' ' + verb[p],
    case: s === 'simple' ? NUMBER[cs] : `${NUMBER[cs]}_${NUMBER[cd]}`,
  };
}

export interface GenerateOptions {
  structure: Structure;
  /** Seed of the Python-compatible RNG that splits and orders everything. */
  seed?: number;
  /** Share of frames (or, with disjointNouns, of nouns) that go to the test split. Default 0.2. */
  testFraction?: number;
  /**
   * Also keep the noun sets apart: a frame goes to test only if all its nouns are test nouns,
   * to train only if all are train nouns; mixed frames are not used.
   */
  disjointNouns?: boolean;
  maxTrain?: number;
  maxTest?: number;
  /** Word lists to draw from (default WORDS); filtered to single tokens either way. */
  words?: WordLists;
}

export interface GeneratedData {
  train: AgreementRecord[];
  test: AgreementRecord[];
  /** Words removed because a form is not one token. */
  droppedWords: string[];
  /** Lines removed because the agreement loader's checks reject them (expected 0 for BPE tokenizers). */
  droppedLines: number;
}

/**
 * Every line is a frame × answer verb × clean number. Splits are made over frames, so no
 * prefix string appears in both train and test; within a split the lines are shuffled and
 * capped. Deterministic for a given tokenizer, word lists and seed.
 */
export function generateAgreement(tok: TextTokenizer, opts: GenerateOptions): GeneratedData {
  const { structure: s, seed = 0, testFraction = 0.2, disjointNouns = false } = opts;
  if (!STRUCTURES.includes(s)) throw new Error(`generator: unknown structure "${s}" (expected ${STRUCTURES.join(', ')})`);
  if (!(testFraction >= 0 && testFraction < 1)) throw new Error(`generator: testFraction must be in [0, 1), got ${testFraction}`);
  const { words: w, dropped } = singleTokenWords(tok, opts.words ?? WORDS);
  const need: [keyof WordLists, boolean][] = [
    ['subjects', true],
    ['answerVerbs', true],
    ['distractors', s !== 'simple'],
    ['prepositions', s === 'nounpp'],
    ['rcVerbs', s === 'rc'],
  ];
  for (const [k, needed] of need) {
    if (needed && w[k].length === 0) throw new Error(`generator: no ${k} are single tokens for this tokenizer (structure ${s})`);
  }

  const rng = new PyRandom(seed);
  const all = rng.shuffle(frames(s, w));
  let trainFrames: Frame[];
  let testFrames: Frame[];
  if (disjointNouns) {
    const testSet = (n: number) => new Set(rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, Math.round(n * testFraction)));
    const testSubj = testSet(w.subjects.length);
    const testDist = s === 'simple' ? null : testSet(w.distractors.length);
    const side = (f: Frame) => {
      const a = testSubj.has(f.subj);
      return testDist === null || testDist.has(f.dist) === a ? (a ? 'test' : 'train') : 'mixed';
    };
    trainFrames = all.filter((f) => side(f) === 'train');
    testFrames = all.filter((f) => side(f) === 'test');
  } else {
    const nTest = Math.round(all.length * testFraction);
    testFrames = all.slice(0, nTest);
    trainFrames = all.slice(nTest);
  }

  let droppedLines = 0;
  const lines = (fs: Frame[], max = Infinity) => {
    const all: AgreementRecord[] = [];
    for (const f of fs) for (const verb of w.answerVerbs) for (const c of [0, 1] as Num[]) all.push(record(s, w, f, verb, c));
    rng.shuffle(all);
    // Check lazily: with a cap only the lines that would be written are tokenized.
    const out: AgreementRecord[] = [];
    for (const r of all) {
      if (out.length >= max) break;
      if (tokenizeAgreement(tok, r).ok) out.push(r);
      else droppedLines++;
    }
    return out;
  };
  const train = lines(trainFrames, opts.maxTrain);
  const test = lines(testFrames, opts.maxTest);
  return { train, test, droppedWords: dropped, droppedLines };
}

/** Python's json.dumps(obj) (separators ", " and ": ", ensure_ascii) for a flat record of strings. */
export function formatAgreementLine(rec: AgreementRecord): string {
  const keys = [...AGREEMENT_KEYS, ...Object.keys(rec).filter((k) => !(AGREEMENT_KEYS as readonly string[]).includes(k))];
  const str = (v: unknown) => JSON.stringify(v).replace(/[\u007f-\uffff]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
  return '{' + keys.map((k) => `${str(k)}: ${str(rec[k])}`).join(', ') + '}';
}

export function toJsonl(records: AgreementRecord[]): string {
  return records.map((r) => formatAgreementLine(r) + '\n').join('');
}

/** Written atomically (util/atomic-write.ts): a failed write never leaves half a file or loses the old one. */
export function writeJsonl(path: string, records: AgreementRecord[]): void {
  writeFileAtomic(path, toJsonl(records));
}
