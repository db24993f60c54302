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
