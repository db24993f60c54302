/**
 * Pieces shared by the agreement and cluster loaders: how an answer becomes one id, and the
 * report that tells the user what was kept and why the rest was dropped.
 */
import { type TextTokenizer, UnknownTokenError } from '../models/tokenizer';

/** Why an example was not kept. Checked in this order; an example counts under the first that applies. */
export type DropReason =
  | 'unknown_token'
  | 'answer_not_single_token'
  | 'prefix_length_mismatch'
  | 'answer_merges_with_prefix'
  | 'empty_prefix'
  | 'too_long'
  | 'not_example_length'
  | 'longer_than_min'
  | 'discarded_by_shorter';

export const DROP_REASON_TEXT: Record<DropReason, string> = {
  unknown_token: "a word is not in the tokenizer's vocabulary",
  answer_not_single_token: 'an answer is not a single token',
  prefix_length_mismatch: 'clean and patch prefixes have different token lengths',
  answer_merges_with_prefix: 'tokenize(prefix + answer) differs from tokenize(prefix) + tokenize(answer)',
  empty_prefix: 'the prefix has no tokens',
  too_long: 'the prefix is longer than max_length',
  not_example_length: 'the prefix does not have the asked example length',
  longer_than_min: 'the prefix is longer than the shortest one seen (min-length rule)',
  discarded_by_shorter: 'collected, then discarded when a shorter prefix restarted the collection',
};

export interface LoadReport {
  file: string;
  /** Records in the file (non-blank lines for JSONL, keys for cluster JSON). */
  read: number;
  requested: number;
  kept: number;
  /** Counts per reason; reasons that never applied are absent. */
  dropped: Partial<Record<DropReason, number>>;
  /** Records never looked at because n examples were collected first. */
  notScanned: number;
  /** Token length of the kept prefixes under the min-length rule (agreement data only). */
  minLength?: number;
  /** The exact prefix length asked for (--example-length), which replaces the min-length rule. */
  exampleLength?: number;
  /** The first few dropped records whose problem is in the data itself, each as "file:line: why". */
  details?: string[];
  /** Set when fewer than `requested` examples survived. */
  note?: string;
}

export function countDrop(report: LoadReport, reason: DropReason, by = 1): void {
  report.dropped[reason] = (report.dropped[reason] ?? 0) + by;
}

/** How many `details` a report keeps (the counts in `dropped` are complete). */
export const MAX_DETAILS = 5;

/** Counts a drop and, for the first few, says where and why ("data.jsonl:7: …"). */
export function countDropAt(report: LoadReport, reason: DropReason, where: string, why: string): void {
  countDrop(report, reason);
  report.details ??= [];
  if (report.details.length < MAX_DETAILS) report.details.push(`${where}: ${why}`);
}

/**
 * Runs `f` (which tokenizes one record); a piece of text the tokenizer has no id for becomes a
 * drop reason instead of an error (the message names the tokenizer file, not the data line).
 */
export function unlessUnknownToken<T>(f: () => T): T | { unknown: UnknownTokenError } {
  try {
    return f();
  } catch (e) {
    if (e instanceof UnknownTokenError) return { unknown: e };
    throw e;
  }
}

/** "the text "Ġkeys" (in "The keys") is not in the vocabulary of …/tokenizer.json". */
export function unknownTokenWhy(e: UnknownTokenError): string {
  return `"${e.piece}" (in ${JSON.stringify(e.text)}) is not in the vocabulary of ${e.tokenizerPath}`;
}

/** "answer not single token: 3, too long: 1", largest first. */
export function describeDrops(dropped: LoadReport['dropped']): string {
  const parts = (Object.entries(dropped) as [DropReason, number][])
    .filter(([, c]) => c > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([r, c]) => `${DROP_REASON_TEXT[r]}: ${c}`);
  return parts.length ? parts.join('; ') : 'nothing dropped';
}

/** One line for the CLI. */
export function formatReport(r: LoadReport): string {
  const head = `${r.file}: read ${r.read}, kept ${r.kept} of ${r.requested} requested`;
  const len = r.minLength !== undefined ? `, prefix length ${r.minLength}` : r.exampleLength !== undefined ? `, example length ${r.exampleLength}` : '';
  const unscanned = r.notScanned ? `, ${r.notScanned} not scanned` : '';
  const drops = Object.keys(r.dropped).length ? ` (dropped: ${describeDrops(r.dropped)})` : '';
  const details = r.details?.length ? ` [${r.details.join('; ')}]` : '';
  return head + len + unscanned + drops + details + (r.note ? `. ${r.note}` : '');
}

/**
 * Token ids of a prefix as the model sees it: with the post-processor's special tokens, as the
 * original's HF tokenizer call does (a no-op for Pythia, which adds no BOS).
 */
export function prefixIds(tok: TextTokenizer, text: string): number[] {
  return tok.encode(text, { special: true });
}

/** Token ids of an answer string, with a leading BOS dropped if the tokenizer adds one. */
export function answerIds(tok: TextTokenizer, text: string): number[] {
  const ids = tok.encode(text, { special: true });
  return tok.bosId !== null && ids.length > 0 && ids[0] === tok.bosId ? ids.slice(1) : ids;
}

export function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: number of examples must be a positive integer, got ${n}`);
}

/** The "fewer than n survived" guard shared by both loaders (the original returns None or a short list). */
export function guardShortfall(report: LoadReport): void {
  if (report.kept === 0) {
    const details = report.details?.length ? `: ${report.details.join('; ')}` : '';
    throw new Error(`${report.file}: no example passed the filters out of ${report.read} read (${describeDrops(report.dropped)})${details}`);
  }
  if (report.kept < report.requested) {
    report.note = `only ${report.kept} of the ${report.requested} requested examples passed the filters; using ${report.kept}`;
  }
}

/**
 * The objects of a JSON Lines text with their 1-based line numbers (a byte-order mark and blank
 * lines skipped). A line that is not a JSON object is refused, naming the file, the line and
 * what an object should hold (`what`, e.g. "Name and Annotation").
 */
export function jsonObjectLines(text: string, file: string, what: string): { line: number; record: Record<string, unknown> }[] {
  const out: { line: number; record: Record<string, unknown> }[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let o: unknown;
    try {
      o = JSON.parse(raw);
    } catch (e) {
      throw new Error(`${file}:${line}: not a JSON line (${(e as Error).message})`);
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) {
      throw new Error(`${file}:${line}: expected a JSON object with ${what}, got ${Array.isArray(o) ? 'a list' : JSON.stringify(o)}`);
    }
    out.push({ line, record: o as Record<string, unknown> });
  });
  return out;
}

