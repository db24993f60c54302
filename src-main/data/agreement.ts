/**
 * Paired subject–verb agreement data (docs/data-formats.md §1): JSON Lines with clean/patch prefixes and
 * answers, loaded with the original's filtering and seeded shuffle (docs/data-formats.md §1).
 */
import { readFileSync } from 'node:fs';
import type { TextTokenizer, UnknownTokenError } from '../models/tokenizer';
import {
  type DropReason,
  type LoadReport,
  answerIds,
  checkCount,
  countDrop,
  countDropAt,
  guardShortfall,
  prefixIds,
  unknownTokenWhy,
  unlessUnknownToken,
} from './common';
import { PyRandom } from './py-random';

export const AGREEMENT_KEYS = ['clean_prefix', 'patch_prefix', 'clean_answer', 'patch_answer', 'case'] as const;

/** One line as written in the file; extra keys are kept so the record can be saved back unchanged. */
export interface AgreementRecord {
  clean_prefix: string;
  patch_prefix: string;
  clean_answer: string;
  patch_answer: string;
  case: string;
  [extra: string]: unknown;
}

export interface AgreementExample {
  cleanPrefix: string;
  patchPrefix: string;
  cleanAnswer: string;
  patchAnswer: string;
  case: string;
  /** Last token id of each answer (docs/method-notes.md, Metrics and answers); after filtering the answer is exactly this token. */
  cleanAnswerId: number;
  patchAnswerId: number;
  /** Prefix token ids as the model sees them (with special tokens, if the tokenizer adds any). */
  cleanPrefixIds: number[];
  patchPrefixIds: number[];
  /** 1-based line in the file. */
  line: number;
  record: AgreementRecord;
}

export interface AgreementLoadOptions {
  /** How many examples to collect (num_examples). */
  n: number;
  /** Shuffle seed; the original always uses 12. */
  seed?: number;
  /** Drop prefixes longer than this many tokens. */
  maxLength?: number;
  /** The original's use_min_length_only (always true in its driver). */
  minLengthOnly?: boolean;
  /**
   * Keep only examples whose clean prefix has exactly this many tokens (the paper-era scripts'
   * example length), instead of the min-length rule.
   */
  exampleLength?: number | null;
}

/**
 * Split like Python's text-mode readlines(): universal newlines, a trailing newline adds no line.
 * The count matters: the seeded shuffle permutes exactly this list.
 */
export function splitLines(text: string): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Validate one line; `where` is "file:line" for messages. */
export function parseAgreementLine(line: string, where: string): AgreementRecord {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new Error(`${where}: malformed JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Error(`${where}: expected a JSON object, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`);
  }
  const o = v as Record<string, unknown>;
  for (const k of AGREEMENT_KEYS) {
    if (!(k in o)) throw new Error(`${where}: missing key "${k}"`);
    if (typeof o[k] !== 'string') throw new Error(`${where}: key "${k}" must be a string, got ${JSON.stringify(o[k])}`);
  }
  return o as AgreementRecord;
}

/** Parse every non-blank line (all lines are validated, not only the ones the loader reaches). */
export function parseAgreementJsonl(text: string, file: string): { line: number; record: AgreementRecord }[] {
  const out: { line: number; record: AgreementRecord }[] = [];
  splitLines(text).forEach((l, i) => {
    if (l.trim() !== '') out.push({ line: i + 1, record: parseAgreementLine(l, `${file}:${i + 1}`) });
  });
  return out;
}

/**
 * The per-example filters of the original, in its order (min-length rule and max_length are
 * applied by the loader). Returns the tokenized example or the first reason it fails.
 */
export function tokenizeAgreement(
  tok: TextTokenizer,
  rec: AgreementRecord,
  line = 0,
): { ok: true; example: AgreementExample } | { ok: false; reason: DropReason; unknown?: UnknownTokenError } {
  const r = unlessUnknownToken(() => filterAgreement(tok, rec, line));
  return 'unknown' in r ? { ok: false, reason: 'unknown_token', unknown: r.unknown } : r;
}

function filterAgreement(tok: TextTokenizer, rec: AgreementRecord, line: number): { ok: true; example: AgreementExample } | { ok: false; reason: DropReason } {
  const ca = answerIds(tok, rec.clean_answer);
  const pa = answerIds(tok, rec.patch_answer);
  if (ca.length !== 1 || pa.length !== 1) return { ok: false, reason: 'answer_not_single_token' };
  const cp = prefixIds(tok, rec.clean_prefix);
  const pp = prefixIds(tok, rec.patch_prefix);
  if (cp.length !== pp.length) return { ok: false, reason: 'prefix_length_mismatch' };
  // The answer must be the token the model predicts after the prefix, not a piece that BPE
  // would merge with the prefix's last word.
  if (!sameIds(prefixIds(tok, rec.clean_prefix + rec.clean_answer), [...cp, ...ca])) return { ok: false, reason: 'answer_merges_with_prefix' };
  if (!sameIds(prefixIds(tok, rec.patch_prefix + rec.patch_answer), [...pp, ...pa])) return { ok: false, reason: 'answer_merges_with_prefix' };
  // Not in the original; a zero-token prefix cannot be run and would win the min-length rule.
  if (cp.length === 0) return { ok: false, reason: 'empty_prefix' };
  return {
    ok: true,
    example: {
      cleanPrefix: rec.clean_prefix,
      patchPrefix: rec.patch_prefix,
      cleanAnswer: rec.clean_answer,
      patchAnswer: rec.patch_answer,
      case: rec.case,
      cleanAnswerId: ca[ca.length - 1],
      patchAnswerId: pa[pa.length - 1],
      cleanPrefixIds: cp,
      patchPrefixIds: pp,
      line,
      record: rec,
    },
  };
}

function sameIds(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * load_examples(..., use_min_length_only=True): shuffle the file's lines with
 * Python's random.Random(seed), then scan, filter and collect until n are kept.
 * Unlike the original, a shortfall returns what survived with `report.note` set, and
 * throws (naming the file and the main reasons) when nothing survived.
 */
export function loadAgreementExamples(
  text: string,
  file: string,
  tok: TextTokenizer,
  opts: AgreementLoadOptions,
): { examples: AgreementExample[]; report: LoadReport } {
  checkCount(opts.n, file);
  const { n, seed = 12, maxLength, exampleLength = null } = opts;
  if (exampleLength !== null && !(Number.isInteger(exampleLength) && exampleLength >= 1)) {
    throw new Error(`${file}: example length must be a positive integer, got ${exampleLength}`);
  }
  const minLengthOnly = exampleLength === null && (opts.minLengthOnly ?? true);
  // Validate everything first so a bad line is reported whether or not the scan reaches it.
  const lines = splitLines(text);
  const parsed = new Map(parseAgreementJsonl(text, file).map((p) => [p.line, p.record]));
  const order = new PyRandom(seed).shuffle(lines.map((_, i) => i + 1));
  const report: LoadReport = { file, read: parsed.size, requested: n, kept: 0, dropped: {}, notScanned: 0 };

  let examples: AgreementExample[] = [];
  let minLength = Infinity;
  let scanned = 0;
  for (const lineNo of order) {
    if (examples.length >= n) break;
    const rec = parsed.get(lineNo);
    if (!rec) continue; // blank line (the original would crash on it)
    scanned++;
    const r = tokenizeAgreement(tok, rec, lineNo);
    if (!r.ok) {
      if (r.unknown) countDropAt(report, r.reason, `${file}:${lineNo}`, unknownTokenWhy(r.unknown));
      else countDrop(report, r.reason);
      continue;
    }
    const len = r.example.cleanPrefixIds.length;
    if (maxLength !== undefined && len > maxLength) {
      countDrop(report, 'too_long');
      continue;
    }
    if (exampleLength !== null && len !== exampleLength) {
      countDrop(report, 'not_example_length');
      continue;
    }
    if (minLengthOnly) {
      if (len < minLength) {
        if (examples.length) countDrop(report, 'discarded_by_shorter', examples.length);
        examples = [];
        minLength = len;
      } else if (len > minLength) {
        countDrop(report, 'longer_than_min');
        continue;
      }
    }
    examples.push(r.example);
  }
  report.kept = examples.length;
  report.notScanned = report.read - scanned;
  if (minLengthOnly && examples.length) report.minLength = minLength;
  if (exampleLength !== null) report.exampleLength = exampleLength;
  guardShortfall(report);
  return { examples, report };
}

export function loadAgreementFile(path: string, tok: TextTokenizer, opts: AgreementLoadOptions): { examples: AgreementExample[]; report: LoadReport } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read agreement data (${(e as Error).message})`);
  }
  return loadAgreementExamples(text, path, tok, opts);
}
