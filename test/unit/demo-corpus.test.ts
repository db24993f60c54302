/**
 * The demo's corpus grammar and tokenizer: the tokenizer.json loads through the normal
 * loader and agrees with the trainer's fast word encoder; the agreement generator's words are
 * all single tokens; the corpus is seeded, varied, agrees where it should, and never shows a
 * held-out prefix followed by its verb.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRUCTURES, WORDS, generateAgreement } from '../../src-main/data/generator';
import { AGREEING_VERBS, AUX, Corpus, PEOPLE, corpusWords, hitsExcluded } from '../../src-main/demo/corpus';
import { heldOutPrefixes, makeDemoData } from '../../src-main/demo/data';
import { WordEncoder, wordsToText, writeDemoTokenizer } from '../../src-main/demo/tokenizer';
import { type TextTokenizer, loadTokenizer } from '../../src-main/models/tokenizer';

let dir: string;
let tok: TextTokenizer;
const words = corpusWords();
const enc = new WordEncoder(words);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-demo-tok-'));
  writeDemoTokenizer(dir, words);
  tok = await loadTokenizer(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo tokenizer', () => {
  it('has <|endoftext|> at 0 (pad), and every word as one token with and without a leading space', () => {
    expect(tok.padId).toBe(0);
    expect(tok.bosId).toBeNull();
    expect(tok.tokenString(0)).toBe('<|endoftext|>');
    expect(tok.vocabSize).toBe(2 * words.length + 1);
    for (const w of words) {
      expect(tok.encode(w)).toEqual([enc.id(w)]);
      if (w !== '.') expect(tok.encode(' ' + w)).toEqual([enc.id(' ' + w)]);
      expect(tok.tokenString(enc.id(' ' + w))).toBe(' ' + w);
    }
    expect(tok.encode('The authors near the guards')).toEqual(['The', ' authors', ' near', ' the', ' guards'].map((t) => enc.id(t)));
  });

  it('rejects words it does not know', () => {
    expect(() => tok.encode('The zebra')).toThrow(/not in the vocabulary/);
  });

  it('WordEncoder gives the same ids as the tokenizer on corpus text', () => {
    const c = new Corpus({ seed: 99 });
    for (const s of c.take(400)) expect(enc.encode(s.words)).toEqual(tok.encode(wordsToText(s.words)));
  });

  it("covers the agreement generator's words: nothing dropped, every line passes the loader's checks", () => {
    for (const s of STRUCTURES) {
      const g = generateAgreement(tok, { structure: s, seed: 3, maxTrain: 50, maxTest: 50 });
      expect(g.droppedWords).toEqual([]);
      expect(g.droppedLines).toBe(0);
      expect(g.test.length).toBeGreaterThan(0);
    }
    for (const p of [...WORDS.subjects, ...WORDS.distractors, ...WORDS.answerVerbs, ...WORDS.rcVerbs]) {
      for (const w of p) expect(words).toContain(w);
    }
  });
});

describe('demo corpus', () => {
  it('is seeded: the same seed gives the same sentences, another seed others', () => {
    const a = new Corpus({ seed: 7 }).take(50).map((s) => s.words.join(' '));
    const b = new Corpus({ seed: 7 }).take(50).map((s) => s.words.join(' '));
    const c = new Corpus({ seed: 8 }).take(50).map((s) => s.words.join(' '));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('produces every construction, varied sentences, and ends each with a period', () => {
    const sents = new Corpus({ seed: 1 }).take(3000);
    const kinds = new Set(sents.map((s) => s.kind));
    expect([...kinds].sort()).toEqual(['adjective', 'filler', 'nounpp', 'rc', 'simple', 'subject_rc', 'within_rc']);
    expect(new Set(sents.map((s) => s.words.join(' '))).size).toBeGreaterThan(2500);
    for (const s of sents) expect(s.words.at(-1)).toBe('.');
  });

  it('agrees: the main verb matches the head noun, and in an RC the RC verb matches its own subject', () => {
    const number = (noun: string) => {
      const p = PEOPLE.find((q) => q.includes(noun));
      if (!p) throw new Error(`not a person noun: ${noun}`);
      return p.indexOf(noun);
    };
    const verbNumber = (v: string) => {
      for (const p of AUX) if (p.includes(v)) return p.indexOf(v);
      return v.endsWith('s') ? 0 : 1; // lexical verbs: runs / run
    };
    let checked = 0;
    for (const s of new Corpus({ seed: 5 }).take(2000)) {
      const w = s.words;
      if (s.kind === 'simple') expect(verbNumber(w[2]!)).toBe(number(w[1]!));
      if (s.kind === 'nounpp') expect(verbNumber(w[5]!)).toBe(number(w[1]!));
      if (s.kind === 'rc') {
        expect(verbNumber(w[5]!)).toBe(number(w[4]!)); // "that the guards like"
        expect(verbNumber(w[6]!)).toBe(number(w[1]!));
      }
      if (s.kind === 'within_rc') expect(AGREEING_VERBS.has(w[5]!) && verbNumber(w[5]!)).toBe(number(w[4]!));
      checked++;
    }
    expect(checked).toBe(2000);
  });

  it('never puts a held-out prefix right before an agreeing verb', () => {
    const data = makeDemoData(tok, { seed: 1, maxTrain: 100, maxTest: 100 });
    const exclude = heldOutPrefixes(data);
    expect(exclude.size).toBeGreaterThan(300);
    const c = new Corpus({ seed: 2, exclude });
    for (const s of c.take(20000)) expect(hitsExcluded(s.words, exclude)).toBe(false);
    expect(c.rejected).toBeGreaterThan(0);
    // The check itself: a test prefix followed by its verb is caught, a longer sentence is not.
    const rec = data.test.nounpp[0]!;
    expect(hitsExcluded([...rec.clean_prefix.split(' '), rec.clean_answer.trim(), 'tall', '.'], exclude)).toBe(true);
    expect(hitsExcluded([...rec.clean_prefix.split(' '), 'that', 'the', 'boys', 'like', rec.clean_answer.trim(), '.'], exclude)).toBe(false);
  });
});
