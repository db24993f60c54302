/**
 * No-pair ("cluster") data (docs/data-formats.md §2): one JSON object mapping a context id to
 * {context: string | string[], answer: string}. Loaded like load_examples_nopair: records in
 * the file's key order, kept when the answer is one token, until n.
 */
import { readFileSync } from 'node:fs';
import type { TextTokenizer } from '../models/tokenizer';
import { type LoadReport, answerIds, checkCount, countDrop, countDropAt, guardShortfall, prefixIds, unknownTokenWhy, unlessUnknownToken } from './common';

export interface ClusterRecord {
  key: string;
  /** "".join(context) when the file gives a list of token strings. */
  prefix: string;
  answer: string;
}

/** Field names follow the original's saved records {"clean_prefix", "clean_answer"}. */
export interface ClusterExample {
  key: string;
  cleanPrefix: string;
  cleanAnswer: string;
  cleanAnswerId: number;
  cleanPrefixIds: number[];
}

/**
 * Keys of the top-level JSON object in the order they appear in the text. JS objects list
 * integer-like keys first ("2" before "10" before "a"); Python's json keeps file order, and the
 * loader takes the first n records, so we read the order from the text. A repeated key keeps
 * its first position (as a Python dict does) while JSON.parse gives its last value (as Python).
 * Assumes `text` is valid JSON with an object at the top (call JSON.parse first).
 */
export function topLevelKeyOrder(text: string): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const k = JSON.parse(text.slice(i, j + 1)) as string;
        if (!seen.has(k)) {
          keys.push(k);
          seen.add(k);
        }
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

export function parseClusterJson(text: string, file: string): ClusterRecord[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: malformed JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    const got = Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`;
    throw new Error(`${file}: expected a JSON object of contexts, got ${got}`);
  }
  const obj = v as Record<string, unknown>;
  return topLevelKeyOrder(text).map((key) => {
    const where = `${file}: context "${key}"`;
    const r = obj[key];
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error(`${where}: expected an object with "context" and "answer"`);
    const { context, answer } = r as Record<string, unknown>;
    if (context === undefined) throw new Error(`${where}: missing "context"`);
    if (answer === undefined) throw new Error(`${where}: missing "answer"`);
    if (typeof answer !== 'string') throw new Error(`${where}: "answer" must be a string`);
    let prefix: string;
    if (typeof context === 'string') prefix = context;
    else if (Array.isArray(context) && context.every((t) => typeof t === 'string')) prefix = context.join('');
    else throw new Error(`${where}: "context" must be a string or a list of strings`);
    return { key, prefix, answer };
  });
}

/**
 * Keep records whose answer is one token (after dropping a leading BOS: the original counts
 * the BOS and so keeps nothing for BOS tokenizers) and whose prefix has a token; stop at n.
 */
export function loadClusterExamples(
  text: string,
  file: string,
  tok: TextTokenizer,
  opts: { n: number; exampleLength?: number | null },
): { examples: ClusterExample[]; report: LoadReport } {
  checkCount(opts.n, file);
  const exampleLength = opts.exampleLength ?? null;
  if (exampleLength !== null && !(Number.isInteger(exampleLength) && exampleLength >= 1)) {
    throw new Error(`${file}: example length must be a positive integer, got ${exampleLength}`);
  }
  const records = parseClusterJson(text, file);
  const report: LoadReport = { file, read: records.length, requested: opts.n, kept: 0, dropped: {}, notScanned: 0 };
  const examples: ClusterExample[] = [];
  let scanned = 0;
  for (const r of records) {
    if (examples.length >= opts.n) break;
    scanned++;
    const ids = unlessUnknownToken(() => ({ a: answerIds(tok, r.answer), p: prefixIds(tok, r.prefix) }));
    if ('unknown' in ids) {
      countDropAt(report, 'unknown_token', `${file}: context "${r.key}"`, unknownTokenWhy(ids.unknown));
      continue;
    }
    const { a, p } = ids;
    if (a.length !== 1) {
      countDrop(report, 'answer_not_single_token');
      continue;
    }
    if (p.length === 0) {
      countDrop(report, 'empty_prefix');
      continue;
    }
    if (exampleLength !== null && p.length !== exampleLength) {
      countDrop(report, 'not_example_length');
      continue;
    }
    examples.push({ key: r.key, cleanPrefix: r.prefix, cleanAnswer: r.answer, cleanAnswerId: a[0], cleanPrefixIds: p });
  }
  report.kept = examples.length;
  report.notScanned = records.length - scanned;
  if (exampleLength !== null) report.exampleLength = exampleLength;
  guardShortfall(report);
  return { examples, report };
}

export function loadClusterFile(path: string, tok: TextTokenizer, opts: { n: number; exampleLength?: number | null }): { examples: ClusterExample[]; report: LoadReport } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read cluster data (${(e as Error).message})`);
  }
  return loadClusterExamples(text, path, tok, opts);
}
