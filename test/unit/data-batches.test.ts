/** Consecutive batching and left padding, against hand-written matrices. */
import { describe, expect, it } from 'vitest';
import { loadAgreementExamples } from '../../src-main/data/agreement';
import { chunk, leftPad, makeBatches, rows } from '../../src-main/data/batches';
import { loadClusterExamples } from '../../src-main/data/clusters';
import { FakeTokenizer } from './data-fake-tokenizer';

describe('chunk', () => {
  it('makes consecutive batches, the last smaller', () => {
    expect(chunk([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(chunk([1, 2], 2)).toEqual([[1, 2]]);
    expect(chunk([], 4)).toEqual([]);
    expect(() => chunk([1], 0)).toThrow('batch size must be a positive integer, got 0');
  });
});

describe('leftPad', () => {
  it('pads on the left with the pad id and masks the padding', () => {
    const p = leftPad([[5, 6, 7], [8], [9, 10]], 0);
    expect([p.batch, p.seqLen]).toEqual([3, 3]);
    expect(Array.from(p.ids)).toEqual([5, 6, 7, 0, 0, 8, 0, 9, 10]);
    expect(Array.from(p.mask)).toEqual([1, 1, 1, 0, 0, 1, 0, 1, 1]);
    expect(rows(p)).toEqual([[5, 6, 7], [0, 0, 8], [0, 9, 10]]);
    expect(rows(leftPad([[1], [2, 3]], 42))).toEqual([[42, 1], [2, 3]]);
  });
});

describe('makeBatches', () => {
  it('paired examples: clean and patch matrices and answer ids per batch', () => {
    const tok = new FakeTokenizer({ vocab: ['The', ' boy', ' boys', ' girl', ' girls', ' is', ' are'] });
    const recs = ['boy', 'girl', 'boy'].map((w, i) => ({
      clean_prefix: `The ${w}`,
      patch_prefix: `The ${w}s`,
      clean_answer: i === 2 ? ' are' : ' is',
      patch_answer: i === 2 ? ' is' : ' are',
      case: 'singular',
    }));
    const text = recs.map((r) => JSON.stringify(r)).join('\n');
    const { examples } = loadAgreementExamples(text, 'p.jsonl', tok, { n: 3, minLengthOnly: false });
    const batches = makeBatches(examples, 2, tok);
    expect(batches.map((b) => b.examples.length)).toEqual([2, 1]);
    // ids: The 1, boy 2, boys 3, girl 4, girls 5, is 6, are 7; order follows the examples
    const expectClean = examples.map((e) => (e.cleanPrefix === 'The boy' ? [1, 2] : [1, 4]));
    const expectPatch = examples.map((e) => (e.patchPrefix === 'The boys' ? [1, 3] : [1, 5]));
    expect([...rows(batches[0].clean), ...rows(batches[1].clean)]).toEqual(expectClean);
    expect([...rows(batches[0].patch!), ...rows(batches[1].patch!)]).toEqual(expectPatch);
    const answers = examples.map((e) => [e.cleanAnswer === ' is' ? 6 : 7, e.patchAnswer === ' is' ? 6 : 7]);
    expect([...batches[0].cleanAnswerIds, ...batches[1].cleanAnswerIds]).toEqual(answers.map((a) => a[0]));
    expect([...batches[0].patchAnswerIds!, ...batches[1].patchAnswerIds!]).toEqual(answers.map((a) => a[1]));
  });

  it('no-pair examples of different lengths are left-padded with the tokenizer pad id', () => {
    const tok = new FakeTokenizer({ vocab: ['a', ' b', ' c', 'd', ' e'] });
    const text = '{"k1": {"context": "a b c", "answer": " e"}, "k2": {"context": "d", "answer": " e"}}';
    const { examples } = loadClusterExamples(text, 'c.json', tok, { n: 2 });
    const [b] = makeBatches(examples, 32, { padId: 9 });
    expect(rows(b.clean)).toEqual([[1, 2, 3], [9, 9, 4]]);
    expect(rows(b.clean, 'mask')).toEqual([[1, 1, 1], [0, 0, 1]]);
    expect(Array.from(b.cleanAnswerIds)).toEqual([5, 5]);
    expect(b.patch).toBeNull();
    expect(b.patchAnswerIds).toBeNull();
  });

  it('refuses a mix of paired and no-pair examples', () => {
    const paired = { cleanPrefixIds: [1], cleanAnswerId: 2, patchPrefixIds: [3], patchAnswerId: 4 };
    const single = { cleanPrefixIds: [1], cleanAnswerId: 2 };
    expect(() => makeBatches([paired, single], 2, { padId: 0 })).toThrow('makeBatches: examples mix paired and no-pair data');
    expect(makeBatches([], 2, { padId: 0 })).toEqual([]);
  });
});
