/**
 * Agreement JSONL parsing and the original's filtering. Expected scan orders are CPython's
 * random.Random(12).shuffle of line numbers; everything else is worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { loadAgreementExamples, parseAgreementJsonl, splitLines } from '../../src-main/data/agreement';
import { formatReport } from '../../src-main/data/common';
import { FakeTokenizer } from './data-fake-tokenizer';

type Rec = { clean_prefix: string; patch_prefix: string; clean_answer: string; patch_answer: string; case: string };
const line = (cp: string, pp: string, ca = ' is', pa = ' are', c = 'singular'): Rec => ({
  clean_prefix: cp,
  patch_prefix: pp,
  clean_answer: ca,
  patch_answer: pa,
  case: c,
});
const jsonl = (recs: object[]) => recs.map((r) => JSON.stringify(r) + '\n').join('');

describe('parseAgreementJsonl', () => {
  it('keeps extra keys, skips blank lines, keeps 1-based line numbers, handles CRLF and BOM', () => {
    const text = '\ufeff' + JSON.stringify({ ...line('The author', 'The authors'), id: 7 }) + '\r\n\r\n' + JSON.stringify(line('The man', 'The men'));
    const out = parseAgreementJsonl(text, 'a.jsonl');
    expect(out.map((o) => o.line)).toEqual([1, 3]);
    expect(out[0].record.id).toBe(7);
    expect(out[1].record.patch_prefix).toBe('The men');
  });

  it('splits like Python readlines (a final newline adds no line)', () => {
    expect(splitLines('a\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('a\nb')).toEqual(['a', 'b']);
    expect(splitLines('a\n\nb\r\n')).toEqual(['a', '', 'b']);
    expect(splitLines('')).toEqual([]);
  });

  it('names file and line for each kind of bad input', () => {
    const good = JSON.stringify(line('The author', 'The authors'));
    expect(() => parseAgreementJsonl(`${good}\n{"clean_prefix": "The`, 'd.jsonl')).toThrow(/^d\.jsonl:2: malformed JSON/);
    expect(() => parseAgreementJsonl('[1, 2]', 'd.jsonl')).toThrow('d.jsonl:1: expected a JSON object, got an array');
    expect(() => parseAgreementJsonl('"x"', 'd.jsonl')).toThrow('d.jsonl:1: expected a JSON object, got string');
    const { case: _c, ...noCase } = line('The author', 'The authors');
    expect(() => parseAgreementJsonl(`${good}\n\n${JSON.stringify(noCase)}`, 'd.jsonl')).toThrow('d.jsonl:3: missing key "case"');
    expect(() => parseAgreementJsonl(JSON.stringify({ ...line('a', 'b'), clean_answer: 3 }), 'd.jsonl')).toThrow(
      'd.jsonl:1: key "clean_answer" must be a string, got 3',
    );
  });

  it('the loader rejects a bad line even when the scan would stop before it', () => {
    const text = jsonl([line('The author', 'The authors')]) + '{"clean_prefix": 1}\n';
    expect(() => loadAgreementExamples(text, 'e.jsonl', new FakeTokenizer(), { n: 1 })).toThrow('e.jsonl:2: key "clean_prefix" must be a string, got 1');
  });
});

describe('loadAgreementExamples', () => {
  it('tokenizes prefixes and answers (hand-computed ids)', () => {
    const tok = new FakeTokenizer({ vocab: ['The', ' author', ' authors', ' is', ' are'] });
    const { examples, report } = loadAgreementExamples(jsonl([line('The author', 'The authors')]), 'x.jsonl', tok, { n: 1 });
    expect(examples).toHaveLength(1);
    const e = examples[0];
    expect([e.cleanPrefixIds, e.patchPrefixIds, e.cleanAnswerId, e.patchAnswerId]).toEqual([[1, 2], [1, 3], 4, 5]);
    expect([e.cleanPrefix, e.patchPrefix, e.cleanAnswer, e.patchAnswer, e.case, e.line]).toEqual(['The author', 'The authors', ' is', ' are', 'singular', 1]);
    expect(report).toEqual({ file: 'x.jsonl', read: 1, requested: 1, kept: 1, dropped: {}, notScanned: 0, minLength: 2 });
  });

  it('applies the min-length rule in shuffled order (seed 12)', () => {
    // random.Random(12).shuffle([1..10]) == [9, 10, 7, 3, 1, 4, 2, 6, 5, 8]: the scan order.
    const L3 = line('The author near', 'The authors near');
    const L4 = line('The author near the', 'The authors near the');
    const L2 = (w: string) => line(`The ${w}`, `The ${w}s`);
    const byLine: Record<number, Rec> = {
      9: L3, // kept, min = 3
      10: L3, // kept
      7: L4, // longer than min: skipped
      3: L2('author'), // shorter: restart (2 collected are discarded), kept
      1: L3, // longer: skipped
      4: line('The cat', 'The cats', ' were', ' was'), // " were" is two tokens
      2: L2('girl'), // kept
      6: L2('boy'), // kept: 3 collected, stop
      5: L2('dog'), // not scanned
      8: L2('pig'), // not scanned
    };
    const text = jsonl(Array.from({ length: 10 }, (_, i) => byLine[i + 1]));
    const tok = new FakeTokenizer({ split: { ' were': [' we', 're'] } });
    const { examples, report } = loadAgreementExamples(text, 'm.jsonl', tok, { n: 3 });
    expect(examples.map((e) => e.line)).toEqual([3, 2, 6]);
    expect(examples.map((e) => e.cleanPrefix)).toEqual(['The author', 'The girl', 'The boy']);
    expect(report).toEqual({
      file: 'm.jsonl',
      read: 10,
      requested: 3,
      kept: 3,
      dropped: { longer_than_min: 2, discarded_by_shorter: 2, answer_not_single_token: 1 },
      notScanned: 2,
      minLength: 2,
    });

    // Without the rule the first three valid lines in scan order are kept.
    const all = loadAgreementExamples(text, 'm.jsonl', tok, { n: 3, minLengthOnly: false });
    expect(all.examples.map((e) => e.line)).toEqual([9, 10, 7]);
    expect(all.report.minLength).toBeUndefined();

    // Another seed gives another order: Random(3).shuffle([1..8]) == [1, 6, 8, 3, 2, 7, 5, 4].
    const eight = jsonl(Array.from({ length: 8 }, (_, i) => L2(`w${i + 1}`)));
    const s3 = loadAgreementExamples(eight, 's.jsonl', tok, { n: 4, seed: 3 });
    expect(s3.examples.map((e) => e.line)).toEqual([1, 6, 8, 3]);
  });

  it('counts every filter reason once, and notes a shortfall', () => {
    const tok = new FakeTokenizer({ split: { ' guards': [' guard', 's'], ' were': [' we', 're'] } });
    const recs = [
      line('The author near the guards', 'The authors near the guards'), // 6 tokens (" guards" splits): too_long
      line('The cat', 'The cats', ' were', ' was'), // answer_not_single_token
      line('The author near the guards', 'The author near the guard'), // prefix_length_mismatch
      line('The author', 'The authors', 'is', 'are'), // answer_merges_with_prefix ("The authoris")
      line('', '', ' is', ' are'), // empty_prefix
      line('The author near the guard', 'The authors near the guard'), // 5 tokens: kept
    ];
    const { examples, report } = loadAgreementExamples(jsonl(recs), 'r.jsonl', tok, { n: 10, maxLength: 5 });
    expect(examples.map((e) => e.line)).toEqual([6]);
    expect(report.dropped).toEqual({
      answer_not_single_token: 1,
      prefix_length_mismatch: 1,
      answer_merges_with_prefix: 1,
      empty_prefix: 1,
      too_long: 1,
    });
    expect(report.kept + Object.values(report.dropped).reduce((a, b) => a + b, 0) + report.notScanned).toBe(report.read);
    expect(report.note).toBe('only 1 of the 10 requested examples passed the filters; using 1');
    expect(formatReport(report)).toContain('r.jsonl: read 6, kept 1 of 10 requested');
  });

  it('throws, naming the file and the main reasons, when nothing survives', () => {
    const tok = new FakeTokenizer({ split: { ' were': [' we', 're'] } });
    const recs = [line('The cat', 'The cats', ' were', ' was'), line('The dog', 'The dogs', ' were', ' was'), line('The a', 'The a b')];
    expect(() => loadAgreementExamples(jsonl(recs), 'none.jsonl', tok, { n: 5 })).toThrow(
      'none.jsonl: no example passed the filters out of 3 read (an answer is not a single token: 2; clean and patch prefixes have different token lengths: 1)',
    );
    expect(() => loadAgreementExamples('\n\n', 'empty.jsonl', tok, { n: 5 })).toThrow(/empty\.jsonl: no example passed the filters out of 0 read/);
    expect(() => loadAgreementExamples(jsonl(recs), 'n.jsonl', tok, { n: 0 })).toThrow(/positive integer/);
  });

  it('a word the tokenizer lacks drops that line, naming the data file and line, not the whole run', () => {
    const tok = new FakeTokenizer({ strict: true, vocab: ['The', ' author', ' authors', ' key', ' is', ' are'] });
    const recs = [line('The author', 'The authors'), line('The key', 'The keys'), line('The authors', 'The author', ' are', ' is')];
    // Before: tokenizer.json's "not in the vocabulary" error stopped the load.
    const { examples, report } = loadAgreementExamples(jsonl(recs), 'u.jsonl', tok, { n: 3 });
    expect(examples.map((e) => e.line).sort()).toEqual([1, 3]);
    expect(report.dropped).toEqual({ unknown_token: 1 });
    expect(report.details).toEqual(['u.jsonl:2: " keys" (in "The keys") is not in the vocabulary of fake/tokenizer.json']);
    expect(formatReport(report)).toContain('u.jsonl:2: " keys"');
    // When every line has one, the error says which lines and why.
    expect(() => loadAgreementExamples(jsonl([recs[1]]), 'u.jsonl', tok, { n: 1 })).toThrow(
      /^u\.jsonl: no example passed the filters out of 1 read \(a word is not in the tokenizer's vocabulary: 1\): u\.jsonl:1: " keys"/,
    );
  });

  it('exampleLength keeps only prefixes of exactly that many tokens, instead of the min-length rule', () => {
    const tok = new FakeTokenizer();
    const L = (n: number, tag: string) => line(['The', ...Array.from({ length: n - 1 }, (_, i) => `${tag}${i}`)].join(' '), ['The', ...Array.from({ length: n - 1 }, (_, i) => `${tag}${i}x`)].join(' '));
    const recs = [L(3, 'a'), L(2, 'b'), L(3, 'c'), L(4, 'd'), L(2, 'e'), L(3, 'f')];
    const min = loadAgreementExamples(jsonl(recs), 'l.jsonl', tok, { n: 10 });
    expect(min.examples.every((e) => e.cleanPrefixIds.length === 2)).toBe(true);
    expect(min.report.minLength).toBe(2);
    const three = loadAgreementExamples(jsonl(recs), 'l.jsonl', tok, { n: 10, exampleLength: 3 });
    expect(three.examples.map((e) => e.line).sort()).toEqual([1, 3, 6]);
    expect(three.report.dropped).toEqual({ not_example_length: 3 });
    expect(three.report.minLength).toBeUndefined();
    expect(three.report.exampleLength).toBe(3);
    expect(formatReport(three.report)).toContain('example length 3');
    expect(() => loadAgreementExamples(jsonl(recs), 'l.jsonl', tok, { n: 10, exampleLength: 7 })).toThrow(
      'l.jsonl: no example passed the filters out of 6 read (the prefix does not have the asked example length: 6)',
    );
    expect(() => loadAgreementExamples(jsonl(recs), 'l.jsonl', tok, { n: 10, exampleLength: 0 })).toThrow('l.jsonl: example length must be a positive integer, got 0');
  });

  it('drops a BOS the tokenizer adds from answers, keeps it in prefixes', () => {
    const tok = new FakeTokenizer({ bos: true, vocab: ['The', ' author', ' authors', ' is', ' are'] });
    // ids: 0 pad, 1 bos, then 2..6
    const { examples, report } = loadAgreementExamples(jsonl([line('The author', 'The authors')]), 'b.jsonl', tok, { n: 1 });
    expect([examples[0].cleanPrefixIds, examples[0].patchPrefixIds, examples[0].cleanAnswerId, examples[0].patchAnswerId]).toEqual([[1, 2, 3], [1, 2, 4], 5, 6]);
    expect(report.minLength).toBe(3);
  });
});
