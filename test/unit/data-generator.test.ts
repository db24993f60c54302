/** Stimulus generator: shape of each structure, splits, determinism, single-token filter, JSONL round trip. */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AgreementRecord, loadAgreementExamples, parseAgreementJsonl } from '../../src-main/data/agreement';
import {
  ANSWER_VERBS,
  DISTRACTOR_NOUNS,
  RC_VERBS,
  STRUCTURES,
  SUBJECT_NOUNS,
  type Structure,
  type WordPair,
  formatAgreementLine,
  generateAgreement,
  toJsonl,
  writeJsonl,
} from '../../src-main/data/generator';
import { FakeTokenizer } from './data-fake-tokenizer';

/** Grammatical number of a word in a pair list: 0 singular, 1 plural, or undefined. */
function numberOf(pairs: readonly WordPair[], w: string): number | undefined {
  for (const p of pairs) {
    if (p[0] === w) return 0;
    if (p[1] === w) return 1;
  }
  return undefined;
}
const NUM = ['singular', 'plural'];
const WORDS_PER_PREFIX: Record<Structure, number> = { simple: 2, nounpp: 5, rc: 6, within_rc: 5 };
/** Position of the flipped word and of the noun the answer agrees with (docs/data-formats.md §5). */
const FLIPPED: Record<Structure, number> = { simple: 1, nounpp: 1, rc: 1, within_rc: 4 };

function checkRecord(s: Structure, r: AgreementRecord): void {
  const c = r.clean_prefix.split(' ');
  const p = r.patch_prefix.split(' ');
  expect(c).toHaveLength(WORDS_PER_PREFIX[s]);
  expect(c[0]).toBe('The');
  const diff = c.map((w, i) => (w !== p[i] ? i : -1)).filter((i) => i >= 0);
  expect(diff).toEqual([FLIPPED[s]]);
  const nouns = s === 'simple' ? [c[1]] : [c[1], c[4]];
  const lists = [SUBJECT_NOUNS, DISTRACTOR_NOUNS];
  expect(r.case).toBe(nouns.map((w, i) => NUM[numberOf(lists[i], w)!]).join('_'));
  const agreeNum = numberOf(s === 'within_rc' ? DISTRACTOR_NOUNS : SUBJECT_NOUNS, c[FLIPPED[s]])!;
  expect(numberOf(ANSWER_VERBS, r.clean_answer.slice(1))).toBe(agreeNum);
  expect(numberOf(ANSWER_VERBS, r.patch_answer.slice(1))).toBe(1 - agreeNum);
  expect(r.clean_answer.slice(1)).not.toBe(r.patch_answer.slice(1));
  expect(ANSWER_VERBS.some((v) => v.includes(r.clean_answer.slice(1)) && v.includes(r.patch_answer.slice(1)))).toBe(true);
  if (s === 'nounpp') expect(['near', 'behind', 'beside']).toContain(c[2]);
  if (s === 'rc' || s === 'within_rc') expect(c.slice(2, 4)).toEqual(['that', 'the']);
  // rc: the clause's verb agrees with its own subject, the distractor
  if (s === 'rc') expect(numberOf(RC_VERBS, c[5])).toBe(numberOf(DISTRACTOR_NOUNS, c[4]));
}

describe('generateAgreement', () => {
  const tok = new FakeTokenizer();

  it.each(STRUCTURES)('%s: lines have the original shape, case and agreement', (s) => {
    const { train, test } = generateAgreement(tok, { structure: s, seed: 1, maxTrain: 300, maxTest: 100 });
    for (const r of [...train, ...test]) {
      expect(Object.keys(r)).toEqual(['clean_prefix', 'patch_prefix', 'clean_answer', 'patch_answer', 'case']);
      checkRecord(s, r);
    }
  });

  it('line counts: frames × 4 verbs × 2 directions, 20% of frames in test', () => {
    // simple: 20 subjects -> 20 frames, 4 in test
    const simple = generateAgreement(tok, { structure: 'simple' });
    expect([simple.train.length, simple.test.length]).toEqual([16 * 8, 4 * 8]);
    // nounpp: 20 subjects × 3 prepositions × 10 distractors × 2 distractor numbers = 1200 frames, 240 in test
    const nounpp = generateAgreement(tok, { structure: 'nounpp' });
    expect([nounpp.train.length, nounpp.test.length]).toEqual([960 * 8, 240 * 8]);
    // within_rc: 20 × 10 × 2 subject numbers = 400 frames; rc: 20 × 10 × 6 verbs × 2 = 2400 frames
    const w = generateAgreement(tok, { structure: 'within_rc', testFraction: 0.25 });
    expect([w.train.length, w.test.length]).toEqual([300 * 8, 100 * 8]);
    const rc = generateAgreement(tok, { structure: 'rc', testFraction: 0 });
    expect([rc.train.length, rc.test.length]).toEqual([2400 * 8, 0]);
    for (const g of [simple, nounpp, w, rc]) {
      const all = [...g.train, ...g.test].map((r) => JSON.stringify(r));
      expect(new Set(all).size).toBe(all.length); // no repeated line
    }
  });

  it('splits share no prefix; with disjointNouns they share no noun either', () => {
    for (const s of STRUCTURES) {
      const g = generateAgreement(tok, { structure: s, seed: 5 });
      const prefixes = (rs: AgreementRecord[]) => new Set(rs.flatMap((r) => [r.clean_prefix, r.patch_prefix]));
      const trainP = prefixes(g.train);
      expect([...prefixes(g.test)].filter((p) => trainP.has(p))).toEqual([]);

      const d = generateAgreement(tok, { structure: s, seed: 5, disjointNouns: true, testFraction: 0.3 });
      expect(d.test.length).toBeGreaterThan(0);
      const nouns = (rs: AgreementRecord[], i: number) => new Set(rs.map((r) => SUBJECT_NOUNS.find((p) => p.includes(r.clean_prefix.split(' ')[i]))?.[0] ?? DISTRACTOR_NOUNS.find((p) => p.includes(r.clean_prefix.split(' ')[i]))![0]));
      for (const i of s === 'simple' ? [1] : [1, 4]) {
        const tr = nouns(d.train, i);
        const te = nouns(d.test, i);
        expect([...te].filter((n) => tr.has(n))).toEqual([]);
      }
    }
    // simple with 20 subjects and 30%: 6 test nouns, 14 train nouns
    const d = generateAgreement(tok, { structure: 'simple', disjointNouns: true, testFraction: 0.3 });
    expect([d.train.length, d.test.length]).toEqual([14 * 8, 6 * 8]);
  });

  it('is deterministic given the seed', () => {
    const a = generateAgreement(tok, { structure: 'nounpp', seed: 7, maxTrain: 50, maxTest: 20 });
    const b = generateAgreement(new FakeTokenizer(), { structure: 'nounpp', seed: 7, maxTrain: 50, maxTest: 20 });
    expect(b).toEqual(a);
    const c = generateAgreement(tok, { structure: 'nounpp', seed: 8, maxTrain: 50, maxTest: 20 });
    expect(c.train).not.toEqual(a.train);
  });

  it('uses only words whose both forms are single tokens', () => {
    const split = new FakeTokenizer({
      split: { ' children': [' child', 'ren'], ' author': [' auth', 'or'], ' near': [' ne', 'ar'], ' were': [' we', 're'], ' guards': [' guard', 's'] },
    });
    const g = generateAgreement(split, { structure: 'nounpp' });
    expect(g.droppedWords.sort()).toEqual(['author/authors', 'child/children', 'guard/guards', 'near', 'was/were']);
    expect(g.droppedLines).toBe(0);
    const words = new Set([...g.train, ...g.test].flatMap((r) => [...r.clean_prefix.split(' '), ...r.patch_prefix.split(' '), r.clean_answer.trim()]));
    for (const w of ['child', 'children', 'author', 'authors', 'near', 'was', 'were', 'guard', 'guards']) expect(words.has(w)).toBe(false);
    // 18 subjects × 2 prepositions × 9 distractors × 2 = 648 frames; 130 in test; 3 verbs × 2
    expect([g.train.length, g.test.length]).toEqual([518 * 6, 130 * 6]);
  });

  it('rejects unusable settings', () => {
    const allSplit = new FakeTokenizer({ split: Object.fromEntries(SUBJECT_NOUNS.map((p) => [' ' + p[0], [' x', 'y']])) });
    expect(() => generateAgreement(allSplit, { structure: 'simple' })).toThrow('generator: no subjects are single tokens for this tokenizer (structure simple)');
    expect(() => generateAgreement(tok, { structure: 'bogus' as Structure })).toThrow(/unknown structure "bogus"/);
    expect(() => generateAgreement(tok, { structure: 'simple', testFraction: 1 })).toThrow(/testFraction/);
  });
});

describe('JSONL output', () => {
  it("formats lines as Python's json.dumps does", () => {
    const rec = { clean_prefix: 'The author', patch_prefix: 'The authors', clean_answer: ' is', patch_answer: ' are', case: 'singular' };
    expect(formatAgreementLine(rec)).toBe('{"clean_prefix": "The author", "patch_prefix": "The authors", "clean_answer": " is", "patch_answer": " are", "case": "singular"}');
    // Expected string produced by CPython's json.dumps (ensure_ascii escapes, key order kept).
    const odd = { ...rec, clean_prefix: 'The caf\u00e9 \u{1F600}\n"x"\\ \u2028\u007f\u0001', source: 'gen' };
    expect(formatAgreementLine(odd)).toBe(
      '{"clean_prefix": "The caf\\u00e9 \\ud83d\\ude00\\n\\"x\\"\\\\ \\u2028\\u007f\\u0001", "patch_prefix": "The authors", "clean_answer": " is", "patch_answer": " are", "case": "singular", "source": "gen"}',
    );
  });

  it('round-trips through the agreement parser and loader, keeping every line', () => {
    const tok = new FakeTokenizer();
    for (const s of STRUCTURES) {
      const { train } = generateAgreement(tok, { structure: s, seed: 3, maxTrain: 64 });
      const text = toJsonl(train);
      expect(text.endsWith('}\n')).toBe(true);
      expect(parseAgreementJsonl(text, 'gen.jsonl').map((p) => p.record)).toEqual(train);
      const { examples, report } = loadAgreementExamples(text, 'gen.jsonl', tok, { n: 64 });
      expect(report).toMatchObject({ read: 64, kept: 64, dropped: {}, notScanned: 0, minLength: WORDS_PER_PREFIX[s] });
      expect(examples.every((e) => e.cleanPrefixIds.length === WORDS_PER_PREFIX[s])).toBe(true);
    }
  });

  it('writes a file atomically (no temporary left behind)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfc-gen-'));
    try {
      const { test } = generateAgreement(new FakeTokenizer(), { structure: 'simple' });
      const path = join(dir, 'simple_test.json');
      writeJsonl(path, test);
      expect(readFileSync(path, 'utf8')).toBe(toJsonl(test));
      expect(readdirSync(dir)).toEqual(['simple_test.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
