/**
 * Consecutive batches and left-padded id matrices (method.md §8 steps 3–4). Left padding keeps
 * every example's last real token at position −1, where the metrics read the logits.
 */
import type { TextTokenizer } from '../models/tokenizer';

/** A [batch, seqLen] row-major id matrix with its attention mask (1 = real token). */
export interface PaddedIds {
  ids: Int32Array;
  mask: Int32Array;
  batch: number;
  seqLen: number;
}

/** What a batch needs from an example; agreement examples have the patch fields, cluster ones not. */
export interface BatchableExample {
  cleanPrefixIds: number[];
  cleanAnswerId: number;
  patchPrefixIds?: number[];
  patchAnswerId?: number;
}

export interface ExampleBatch<E extends BatchableExample> {
  examples: E[];
  clean: PaddedIds;
  cleanAnswerIds: Int32Array;
  /** null for no-pair data. */
  patch: PaddedIds | null;
  patchAnswerIds: Int32Array | null;
}

/** Consecutive slices of `batchSize`; the last may be smaller. */
export function chunk<T>(items: T[], batchSize: number): T[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) out.push(items.slice(i, i + batchSize));
  return out;
}

export function leftPad(seqs: number[][], padId: number): PaddedIds {
  const batch = seqs.length;
  const seqLen = seqs.reduce((m, s) => Math.max(m, s.length), 0);
  const ids = new Int32Array(batch * seqLen).fill(padId);
  const mask = new Int32Array(batch * seqLen);
  seqs.forEach((s, b) => {
    const off = b * seqLen + seqLen - s.length;
    ids.set(s, off);
    mask.fill(1, off, off + s.length);
  });
  return { ids, mask, batch, seqLen };
}

/** Rows of a padded matrix, for display and tests. */
export function rows(p: PaddedIds, which: 'ids' | 'mask' = 'ids'): number[][] {
  const a = p[which];
  return Array.from({ length: p.batch }, (_, b) => Array.from(a.subarray(b * p.seqLen, (b + 1) * p.seqLen)));
}

export function makeBatches<E extends BatchableExample>(
  examples: E[],
  batchSize: number,
  tok: Pick<TextTokenizer, 'padId'>,
): ExampleBatch<E>[] {
  const paired = examples.length > 0 && examples[0].patchPrefixIds !== undefined;
  if (examples.some((e) => (e.patchPrefixIds !== undefined) !== paired || (e.patchAnswerId !== undefined) !== paired)) {
    throw new Error('makeBatches: examples mix paired and no-pair data');
  }
  return chunk(examples, batchSize).map((es) => ({
    examples: es,
    clean: leftPad(es.map((e) => e.cleanPrefixIds), tok.padId),
    cleanAnswerIds: Int32Array.from(es, (e) => e.cleanAnswerId),
    patch: paired ? leftPad(es.map((e) => e.patchPrefixIds!), tok.padId) : null,
    patchAnswerIds: paired ? Int32Array.from(es, (e) => e.patchAnswerId!) : null,
  }));
}
