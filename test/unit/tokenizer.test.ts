import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkVocab, loadTokenizer } from '../../src-main/models/tokenizer';
import { NEOX_VOCAB, tokenId, tokenizerJson } from '../helpers/neox-folder';

const dir = mkdtempSync(join(tmpdir(), 'tok-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh folder with the given tokenizer.json (object or raw text; null = none) and config. */
function folder(name: string, tokenizer: object | string | null, config?: object): string {
  const d = join(dir, name);
  mkdirSync(d);
  if (tokenizer !== null) writeFileSync(join(d, 'tokenizer.json'), typeof tokenizer === 'string' ? tokenizer : JSON.stringify(tokenizer));
  if (config) writeFileSync(join(d, 'tokenizer_config.json'), JSON.stringify(config));
  return d;
}

describe('loadTokenizer (WordLevel + ByteLevel test tokenizer)', () => {
  it('encodes phrases to the known ids, Pythia-style leading-space tokens', async () => {
    const t = await loadTokenizer(folder('plain', tokenizerJson(), { eos_token: '<|endoftext|>', bos_token: '<|endoftext|>' }));
    const ids = t.encode('The keys to the cabinet');
    expect(ids).toEqual([tokenId('The'), tokenId(' keys'), tokenId(' to'), tokenId(' the'), tokenId(' cabinet')]);
    expect(ids).toEqual([1, 8, 10, 4, 12]);
    expect(t.encode('The keys to the cabinet', { special: true })).toEqual(ids); // no post-processor
    expect(t.decode(ids)).toBe('The keys to the cabinet');
    expect(t.decode([])).toBe('');
    expect(t.tokenString(tokenId(' is'))).toBe(' is');
    expect(t.tokenString(tokenId('is'))).toBe('is');
    expect(t.tokenString(0)).toBe('<|endoftext|>');
    expect(t.tokenString(60)).toBe('<unused 60>'); // embedding rows past the tokenizer's ids
    expect(t.vocabSize).toBe(NEOX_VOCAB.length);
    expect(t.padId).toBe(0); // no pad token: eos
    expect(t.bosId).toBeNull();
    expect(t.encode('<|endoftext|>The')).toEqual([0, 1]); // special tokens in text are recognised
  });

  it('unknown words and bad ids are errors naming tokenizer.json', async () => {
    const d = folder('unk', tokenizerJson());
    const t = await loadTokenizer(d);
    expect(() => t.encode('The dog')).toThrow(/unk[/\\]tokenizer\.json: "Ġdog" in "The dog" is not in the vocabulary/);
    expect(() => t.decode([1, 999])).toThrow(/tokenizer\.json: token id 999 is not in the vocabulary/);
  });

  it('bosId when the post-processor prepends one', async () => {
    const t = await loadTokenizer(folder('bos', tokenizerJson(true)));
    expect(t.bosId).toBe(0);
    expect(t.encode('The keys', { special: true })).toEqual([0, 1, 8]);
    expect(t.encode('The keys')).toEqual([1, 8]);
  });

  it('padId: config pad token (string or AddedToken object), option, eos, <|endoftext|>, 0', async () => {
    const tj = tokenizerJson();
    expect((await loadTokenizer(folder('pad1', tj, { pad_token: { content: 'Ġ.', __type: 'AddedToken' } }))).padId).toBe(tokenId(' .'));
    expect((await loadTokenizer(folder('pad2', tj, { pad_token: 'Ġis' }), { padToken: 'are' })).padId).toBe(tokenId('are'));
    expect((await loadTokenizer(folder('pad3', tj, { eos_token: 'Ġthe' }))).padId).toBe(tokenId(' the'));
    expect((await loadTokenizer(folder('pad4', tj))).padId).toBe(0);
    // no <|endoftext|> anywhere: 0
    const noEot = { ...tj, added_tokens: [], model: { type: 'WordLevel', vocab: { a: 0, b: 1, c: 2 }, unk_token: '<unk>' } } as object;
    const t = await loadTokenizer(folder('pad5', noEot, { eos_token: '</s>' }));
    expect(t.padId).toBe(0);
    expect(t.vocabSize).toBe(3);
  });

  it('missing or invalid tokenizer.json names the path', async () => {
    await expect(loadTokenizer(folder('none', null))).rejects.toThrow(/none[/\\]tokenizer\.json: tokenizer\.json not found/);
    await expect(loadTokenizer(folder('badjson', '{"model": '))).rejects.toThrow(/badjson[/\\]tokenizer\.json: tokenizer\.json is not valid JSON/);
    await expect(loadTokenizer(folder('nomodel', '{"version": "1.0"}'))).rejects.toThrow(/nomodel[/\\]tokenizer\.json: tokenizer\.json has no "model" section/);
    const d = folder('badcfg', tokenizerJson());
    writeFileSync(join(d, 'tokenizer_config.json'), '{oops');
    await expect(loadTokenizer(d)).rejects.toThrow(/badcfg[/\\]tokenizer_config\.json: tokenizer_config\.json is not valid JSON/);
    const weird = { ...tokenizerJson(), pre_tokenizer: { type: 'NoSuchPreTokenizer' } };
    await expect(loadTokenizer(folder('weird', weird))).rejects.toThrow(/weird[/\\]tokenizer\.json: cannot build tokenizer/);
  });
});

describe('checkVocab', () => {
  it('accepts fewer tokenizer ids than embedding rows, rejects more', async () => {
    const t = await loadTokenizer(folder('cv', tokenizerJson()));
    expect(() => checkVocab(t, 64, '/m/config.json')).not.toThrow();
    expect(() => checkVocab(t, NEOX_VOCAB.length, '/m/config.json')).not.toThrow();
    expect(() => checkVocab(t, 40, '/m/config.json'))
      .toThrow(`/m/config.json: tokenizer produces ids up to ${NEOX_VOCAB.length - 1} but the model has only 40 embedding rows`);
  });
});

describe('loadTokenizer on a Pythia-format byte-level BPE tokenizer.json', () => {
  it('merges to whole words with Ġ prefixes and decodes back', async () => {
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    const vocab: Record<string, number> = { '<|endoftext|>': 0 };
    for (const t of ['T', 'h', 'e', 'Ġ', 'k', 'y', 's', 'i', 'Th', 'The', 'Ġk', 'ey', 'Ġkey', 'Ġkeys', 'is', 'Ġis']) vocab[t] = Object.keys(vocab).length;
    const json = {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [{ id: 0, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      normalizer: { type: 'NFC' }, pre_tokenizer: byteLevel, post_processor: byteLevel, decoder: byteLevel,
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false,
        vocab, merges: ['T h', 'Th e', 'Ġ k', 'e y', 'Ġk ey', 'Ġkey s', 'i s', 'Ġ is'],
      },
    };
    const t = await loadTokenizer(folder('bpe', json, { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' }));
    const ids = t.encode('The keys is');
    expect(ids).toEqual([vocab.The, vocab['Ġkeys'], vocab['Ġis']]);
    expect(t.decode(ids)).toBe('The keys is');
    expect(t.tokenString(vocab['Ġis'])).toBe(' is');
    expect(t.bosId).toBeNull();
    expect(t.padId).toBe(0);
    expect(t.vocabSize).toBe(17);
  });
});
