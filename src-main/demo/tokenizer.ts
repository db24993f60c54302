/**
 * The demo model's tokenizer: one token per word, in two variants, "word" (sentence start, no
 * space before it) and "Ġword" (after a space), exactly like Pythia's BPE makes " word" tokens.
 * It is a WordLevel model behind a ByteLevel pre-tokenizer and decoder, written as an ordinary
 * tokenizer.json that `loadTokenizer` (@huggingface/tokenizers) reads.
 *
 * Ids: 0 = "<|endoftext|>" (bos = eos = pad, as in Pythia); then for each word in the given
 * order, "word" and "Ġword". Unknown words have no id (loadTokenizer then throws), on purpose.
 *
 * `WordEncoder` maps word lists straight to the same ids without the tokenizer library (the
 * trainer encodes hundreds of thousands of sentences); tests check it against loadTokenizer.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const EOT = '<|endoftext|>';
const SPACE = '\u0120'; // ByteLevel's "Ġ"

/** Token strings by id. */
export function demoVocab(words: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const w of words) {
    if (!/^[A-Za-z.,']+$/.test(w)) throw new Error(`demo tokenizer: word ${JSON.stringify(w)} has characters outside [A-Za-z.,']`);
    if (seen.has(w)) throw new Error(`demo tokenizer: word ${JSON.stringify(w)} listed twice`);
    seen.add(w);
  }
  return [EOT, ...words.flatMap((w) => [w, SPACE + w])];
}

export function demoTokenizerJson(words: readonly string[]): object {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const vocab = demoVocab(words);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: EOT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    // unk_token outside the vocabulary: unknown words are errors, not some silent id.
    model: { type: 'WordLevel', vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), unk_token: '<unk>' },
  };
}

/** Writes tokenizer.json and tokenizer_config.json (Pythia-like: eos = bos = <|endoftext|>, no pad). */
export function writeDemoTokenizer(dir: string, words: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(demoTokenizerJson(words), null, 1) + '\n');
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify(
      {
        add_prefix_space: false,
        bos_token: EOT,
        eos_token: EOT,
        tokenizer_class: 'GPTNeoXTokenizer',
        clean_up_tokenization_spaces: false,
      },
      null,
      2,
    ) + '\n',
  );
}

/** Punctuation that attaches to the previous word in text ("tall." → "tall", "."). */
export const ATTACHED = new Set(['.', ',']);

/** Sentence text from words: spaces between words, none before punctuation. */
export function wordsToText(words: readonly string[]): string {
  let s = '';
  words.forEach((w, i) => {
    s += i === 0 || ATTACHED.has(w) ? w : ' ' + w;
  });
  return s;
}

/** Word lists → ids, the same ids the tokenizer gives for wordsToText(words). */
export class WordEncoder {
  readonly vocab: string[];
  private readonly ids = new Map<string, number>();

  constructor(words: readonly string[]) {
    this.vocab = demoVocab(words);
    this.vocab.forEach((t, i) => this.ids.set(t, i));
  }

  get size(): number {
    return this.vocab.length;
  }

  /** Id of a token string; a leading ' ' stands for 'Ġ' (' is' → 'Ġis'). */
  id(token: string): number {
    const id = this.ids.get(token.startsWith(' ') ? SPACE + token.slice(1) : token);
    if (id === undefined) throw new Error(`demo tokenizer: no token ${JSON.stringify(token)}`);
    return id;
  }

  encode(words: readonly string[]): number[] {
    return words.map((w, i) => this.id(i === 0 || ATTACHED.has(w) ? w : ' ' + w));
  }
}
