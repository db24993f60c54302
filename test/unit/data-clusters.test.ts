/** No-pair cluster JSON: file key order, validation messages, single-token answers. */
import { describe, expect, it } from 'vitest';
import { loadClusterExamples, parseClusterJson, topLevelKeyOrder } from '../../src-main/data/clusters';
import { FakeTokenizer } from './data-fake-tokenizer';

describe('cluster key order', () => {
  it('keeps file order, not JS integer-key order', () => {
    const text = '{"10": {"context": "a", "answer": " x"}, "2": {"context": "b", "answer": " y"}, "a": {"context": "c", "answer": " z"}, "1": {"context": "d", "answer": " w"}}';
    expect(Object.keys(JSON.parse(text))).toEqual(['1', '2', '10', 'a']); // what we must not use
    expect(topLevelKeyOrder(text)).toEqual(['10', '2', 'a', '1']);
    expect(parseClusterJson(text, 'c.json').map((r) => r.key)).toEqual(['10', '2', 'a', '1']);
  });

  it('ignores keys and brackets inside nested values and strings; a repeated key keeps its first place and last value', () => {
    const text = `{
      "b": {"context": ["{\\"q\\": [", " ]}\\\\"], "answer": " ,", "meta": {"z": 1, "y": [2, {"x": "}"}]}},
      "a\\"k": {"context": "s", "answer": " t"},
      "b": {"context": "again", "answer": " u"},
      "\\u0063": {"context": "c", "answer": " v"}
    }`;
    expect(topLevelKeyOrder(text)).toEqual(['b', 'a"k', 'c']);
    const recs = parseClusterJson(text, 'n.json');
    expect(recs).toEqual([
      { key: 'b', prefix: 'again', answer: ' u' },
      { key: 'a"k', prefix: 's', answer: ' t' },
      { key: 'c', prefix: 'c', answer: ' v' },
    ]);
  });
});

describe('parseClusterJson errors', () => {
  it('names the file and, for records, the key', () => {
    expect(() => parseClusterJson('[{"context": "a", "answer": " b"}]', 'l.json')).toThrow('l.json: expected a JSON object of contexts, got an array');
    expect(() => parseClusterJson('{"a": ', 'm.json')).toThrow(/^m\.json: malformed JSON/);
    expect(() => parseClusterJson('{"7": {"answer": " b"}}', 'k.json')).toThrow('k.json: context "7": missing "context"');
    expect(() => parseClusterJson('{"7": {"context": "a"}}', 'k.json')).toThrow('k.json: context "7": missing "answer"');
    expect(() => parseClusterJson('{"7": {"context": ["a", 3], "answer": " b"}}', 'k.json')).toThrow('k.json: context "7": "context" must be a string or a list of strings');
    expect(() => parseClusterJson('{"7": "text"}', 'k.json')).toThrow('k.json: context "7": expected an object');
    expect(() => parseClusterJson('{"7": {"context": "a", "answer": 5}}', 'k.json')).toThrow('k.json: context "7": "answer" must be a string');
  });
});

describe('loadClusterExamples', () => {
  // Written out so the file order ("10" before "2") is explicit; JS would list "2" first.
  const text = `{
    "10": {"context": ["The", " cat", " sat"], "answer": " on", "document_idx": 4},
    "2": {"context": "One two", "answer": " three four"},
    "a": {"context": "x", "answer": " y"},
    "b": {"context": "p", "answer": " q"}
  }`;

  it('joins list contexts, keeps one-token answers in file order, stops at n', () => {
    const tok = new FakeTokenizer({ vocab: ['The', ' cat', ' sat', ' on', 'x', ' y'] });
    const { examples, report } = loadClusterExamples(text, 'k.json', tok, { n: 2 });
    expect(examples).toEqual([
      { key: '10', cleanPrefix: 'The cat sat', cleanAnswer: ' on', cleanAnswerId: 4, cleanPrefixIds: [1, 2, 3] },
      { key: 'a', cleanPrefix: 'x', cleanAnswer: ' y', cleanAnswerId: 6, cleanPrefixIds: [5] },
    ]);
    expect(report).toEqual({ file: 'k.json', read: 4, requested: 2, kept: 2, dropped: { answer_not_single_token: 1 }, notScanned: 1 });
  });

  it('guards a shortfall and fails when nothing is usable', () => {
    const tok = new FakeTokenizer();
    const r = loadClusterExamples(text, 'k.json', tok, { n: 9 });
    expect(r.examples.map((e) => e.key)).toEqual(['10', 'a', 'b']);
    expect(r.report.note).toBe('only 3 of the 9 requested examples passed the filters; using 3');
    const bad = JSON.stringify({ x: { context: 'a', answer: ' b c' }, y: { context: '', answer: ' d' } });
    expect(() => loadClusterExamples(bad, 'bad.json', tok, { n: 2 })).toThrow(
      'bad.json: no example passed the filters out of 2 read (an answer is not a single token: 1; the prefix has no tokens: 1)',
    );
  });

  it('a word the tokenizer lacks drops that context, naming the file and key; exampleLength filters by prefix length', () => {
    // "One", " three" and "p" are not in the vocabulary.
    const tok = new FakeTokenizer({ strict: true, vocab: ['The', ' cat', ' sat', ' on', 'x', ' y', ' q'] });
    const r = loadClusterExamples(text, 'k.json', tok, { n: 9 });
    expect(r.examples.map((e) => e.key)).toEqual(['10', 'a']);
    expect(r.report.dropped).toEqual({ unknown_token: 2 });
    expect(r.report.details).toEqual([
      'k.json: context "2": " three" (in " three four") is not in the vocabulary of fake/tokenizer.json',
      'k.json: context "b": "p" (in "p") is not in the vocabulary of fake/tokenizer.json',
    ]);
    const one = loadClusterExamples(text, 'k.json', new FakeTokenizer(), { n: 9, exampleLength: 1 });
    expect(one.examples.map((e) => e.key)).toEqual(['a', 'b']);
    expect(one.report.dropped).toEqual({ answer_not_single_token: 1, not_example_length: 1 });
  });

  it('drops a leading BOS before counting answer tokens (the original keeps nothing here)', () => {
    const tok = new FakeTokenizer({ bos: true });
    const { examples } = loadClusterExamples(text, 'k.json', tok, { n: 1 });
    expect(examples[0].cleanPrefixIds[0]).toBe(1);
    expect(examples[0].cleanPrefixIds).toHaveLength(4);
    expect(tok.tokenString(examples[0].cleanAnswerId)).toBe(' on');
  });
});
