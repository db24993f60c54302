/**
 * A word-level TextTokenizer for the data tests: each word with its leading space is one token
 * ("The", " author"), unless `split` maps it to several pieces. Ids are assigned in the order
 * of `vocab` first, then on first sight, so tests can compute expected ids by hand.
 * Id 0 is the pad/eos token; with `bos`, id 1 is a BOS added when `special` is asked for.
 * With `strict`, a piece not in `vocab` throws UnknownTokenError, as a real tokenizer without an
 * unk token does.
 */
import { type TextTokenizer, UnknownTokenError } from '../../src-main/models/tokenizer';

export class FakeTokenizer implements TextTokenizer {
  private readonly pieces: string[];
  private readonly ids = new Map<string, number>();
  readonly padId = 0;
  readonly bosId: number | null;

  private readonly split: Record<string, string[]>;
  private readonly strict: boolean;

  constructor(opts: { vocab?: string[]; split?: Record<string, string[]>; bos?: boolean; strict?: boolean } = {}) {
    this.split = opts.split ?? {};
    this.pieces = ['<|endoftext|>'];
    if (opts.bos) this.pieces.push('<bos>');
    this.bosId = opts.bos ? 1 : null;
    this.pieces.forEach((p, i) => this.ids.set(p, i));
    for (const w of opts.vocab ?? []) this.id(w);
    this.strict = !!opts.strict; // after the vocabulary is in
  }

  private id(piece: string): number {
    let i = this.ids.get(piece);
    if (i === undefined) {
      i = this.pieces.length;
      this.pieces.push(piece);
      this.ids.set(piece, i);
    }
    return i;
  }

  encode(text: string, opts: { special?: boolean } = {}): number[] {
    const words = text.match(/ ?[^ ]+| +/g) ?? [];
    const out = words.flatMap((w) =>
      (this.split[w] ?? [w]).map((p) => {
        if (this.strict && !this.ids.has(p)) throw new UnknownTokenError('fake/tokenizer.json', p, text);
        return this.id(p);
      }),
    );
    return opts.special && this.bosId !== null ? [this.bosId, ...out] : out;
  }

  decode(ids: number[]): string {
    return ids.filter((i) => i !== this.bosId).map((i) => this.pieces[i]).join('');
  }

  tokenString(id: number): string {
    return this.pieces[id];
  }

  get vocabSize(): number {
    return this.pieces.length;
  }
}
