import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

/**
 * The tokenizer interface the rest of the program uses. Implemented over a local tokenizer.json
 * with @huggingface/tokenizers (see loadTokenizer).
 */
export interface TextTokenizer {
  /** Token ids of `text`, without special tokens added by a post-processor unless `special`. */
  encode(text: string, opts?: { special?: boolean }): number[];
  decode(ids: number[]): string;
  /** The string of one token id (for display), e.g. " is". */
  tokenString(id: number): string;
  /** Number of ids the tokenizer can produce (max id + 1). */
  readonly vocabSize: number;
  /** Id used for left padding (Pythia: eos = 0). */
  readonly padId: number;
  /** Id prepended as BOS by the post-processor, if any. */
  readonly bosId: number | null;
}

/**
 * A piece of text the vocabulary has no id for (tokenizers without an unk token). A typed error
 * so data loaders can drop that example, naming their own file and line, instead of failing
 * the whole run.
 */
export class UnknownTokenError extends Error {
  constructor(
    readonly tokenizerPath: string,
    /** The token string the model has no id for, e.g. "Ġdog". */
    readonly piece: string,
    readonly text: string,
  ) {
    super(`${tokenizerPath}: "${piece}" in "${text}" is not in the vocabulary`);
    this.name = 'UnknownTokenError';
  }
}

export interface LoadTokenizerOptions {
  /** Token string to pad with, overriding tokenizer_config.json. */
  padToken?: string;
}

function readJson(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${path}: ${code === 'ENOENT' ? `${what} not found` : `cannot read ${what} (${code ?? e})`}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: ${what} is not valid JSON (${(e as Error).message})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${path}: ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** tokenizer_config.json names tokens either as strings or as AddedToken objects {content}. */
function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/**
 * Loads `tokenizer.json` (and `tokenizer_config.json` if present) from a local folder.
 * padId: pad token of the config (or opts), else eos, else `<|endoftext|>`, else 0.
 * bosId: the id the post-processor puts in front of the text, found by tokenizing a probe with
 * and without special tokens (so any post-processor kind is handled), else null.
 * encode throws, naming the tokenizer file, on text pieces the vocabulary has no id for.
 */
export async function loadTokenizer(dir: string, opts: LoadTokenizerOptions = {}): Promise<TextTokenizer> {
  const path = join(dir, 'tokenizer.json');
  const json = readJson(path, 'tokenizer.json');
  if (!json.model || typeof json.model !== 'object') throw new Error(`${path}: tokenizer.json has no "model" section`);
  const configPath = join(dir, 'tokenizer_config.json');
  let rawConfig: Record<string, unknown> = {};
  try {
    rawConfig = readJson(configPath, 'tokenizer_config.json');
  } catch (e) {
    if (!(e as Error).message.endsWith('not found')) throw e;
  }
  // The library expects plain token strings in the config.
  const config: Record<string, unknown> = { ...rawConfig };
  for (const k of ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token']) {
    if (k in config) config[k] = tokenName(config[k]);
  }
  if (Array.isArray(config.additional_special_tokens)) {
    config.additional_special_tokens = config.additional_special_tokens.map(tokenName).filter((t) => t !== undefined);
  }

  let tok: Tokenizer;
  try {
    tok = new Tokenizer(
      { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...json, added_tokens: json.added_tokens ?? [] },
      config,
    );
  } catch (e) {
    throw new Error(`${path}: cannot build tokenizer (${(e as Error).message})`);
  }

  let vocabSize = 0;
  for (const id of tok.get_vocab(true).values()) if (id + 1 > vocabSize) vocabSize = id + 1;
  if (vocabSize === 0) throw new Error(`${path}: tokenizer vocabulary is empty`);

  const idOf = (t: string | undefined) => (t === undefined ? undefined : tok.token_to_id(t));
  const padId = idOf(opts.padToken ?? (config.pad_token as string | undefined))
    ?? idOf(config.eos_token as string | undefined)
    ?? idOf('<|endoftext|>')
    ?? 0;

  let bosId: number | null = null;
  const plain = tok.tokenize('a', { add_special_tokens: false });
  const special = tok.tokenize('a', { add_special_tokens: true });
  if (special.length > plain.length && special[0] !== plain[0]) bosId = idOf(special[0]) ?? null;

  const checkId = (id: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize || tok.id_to_token(id) === undefined) {
      throw new RangeError(`${path}: token id ${id} is not in the vocabulary`);
    }
  };

  return {
    vocabSize,
    padId,
    bosId,
    encode(text, o) {
      const enc = tok.encode(text, { add_special_tokens: o?.special ?? false });
      enc.ids.forEach((id, i) => {
        if (id === undefined) throw new UnknownTokenError(path, enc.tokens[i], text);
      });
      return enc.ids;
    },
    decode(ids) {
      if (ids.length === 0) return '';
      ids.forEach(checkId);
      return tok.decode(ids);
    },
    tokenString(id) {
      // Ids past the tokenizer's vocabulary exist as embedding rows (Pythia: 50304 rows).
      if (!Number.isInteger(id) || id < 0 || tok.id_to_token(id) === undefined) return `<unused ${id}>`;
      return tok.decode([id], { clean_up_tokenization_spaces: false });
    },
  };
}

/**
 * Throws (naming `path`) if the tokenizer can produce an id the model has no embedding row for.
 * Fewer tokenizer ids than rows is normal (Pythia: 50304 rows, ~50277 tokens).
 */
export function checkVocab(tokenizer: TextTokenizer, modelVocabSize: number, path: string): void {
  if (tokenizer.vocabSize > modelVocabSize) {
    throw new Error(`${path}: tokenizer produces ids up to ${tokenizer.vocabSize - 1} but the model has only ${modelVocabSize} embedding rows`);
  }
}
