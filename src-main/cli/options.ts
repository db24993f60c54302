/** Parsing helpers for CLI option values, with errors that name the option. */
import { existsSync } from 'node:fs';
import { UsageError } from './command';
import { DEMO_MODEL, DEMO_SAES, demoData } from '../defaults';
import { checkWritable } from '../util/atomic-write';
import { cachedSetupFolders } from '../hub/fetch';
import { SETUPS } from '../hub/registry';
import { hubSettings } from '../hub/settings';

export function num(values: Record<string, unknown>, key: string, opts: { int?: boolean; min?: number } = {}): number {
  const raw = values[key];
  const v = Number(raw);
  if (raw === undefined || raw === '' || !Number.isFinite(v)) throw new UsageError(`--${key} must be a number, got '${String(raw)}'`);
  if (opts.int && !Number.isInteger(v)) throw new UsageError(`--${key} must be an integer, got '${String(raw)}'`);
  if (opts.min !== undefined && v < opts.min) throw new UsageError(`--${key} must be at least ${opts.min}, got ${v}`);
  return v;
}

export function oneOf<T extends string>(values: Record<string, unknown>, key: string, allowed: readonly T[]): T {
  const v = values[key] as string;
  if (!allowed.includes(v as T)) throw new UsageError(`--${key} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

/**
 * A known setup's name (`pythia-70m-deduped`, `pythia-70m-deduped:saelens`) given where a folder
 * is expected: its folders in the Hugging Face cache after `sfc fetch` (hub/fetch.ts). Null when
 * the value is not a setup name.
 */
function setupFolder(value: string, which: 'modelDir' | 'saesDir', option: string): string | null {
  const [id, source] = value.split(':');
  if (existsSync(value) || !Object.hasOwn(SETUPS, id!)) return null;
  try {
    return cachedSetupFolders(hubSettings(), id!, source)[which];
  } catch (e) {
    throw new UsageError(`--${option} ${value}: ${(e as Error).message}`);
  }
}

/** --model, defaulting to the embedded demo model; a setup name means its cached folder. */
export function modelPath(values: Record<string, unknown>): string {
  const given = values.model as string | undefined;
  const m = (given && setupFolder(given, 'modelDir', 'model')) ?? given ?? DEMO_MODEL;
  if (!existsSync(m)) {
    throw new UsageError(values.model ? `--model ${m}: no such folder` : `no --model given and the embedded demo model is missing (${m}); run \`npm run demo:train\``);
  }
  return m;
}

export function saesPath(values: Record<string, unknown>, useDefault: boolean): string | null {
  const given = values.saes as string | undefined;
  const s = (given && setupFolder(given, 'saesDir', 'saes')) ?? given;
  if (s) {
    if (!existsSync(s)) throw new UsageError(`--saes ${s}: no such folder`);
    return s;
  }
  return useDefault ? DEMO_SAES : null;
}

/** A data file path, or a structure name (simple, nounpp, rc, within_rc) meaning the demo's data. */
export function dataPath(value: string | undefined, split: 'train' | 'test'): string {
  if (!value) throw new UsageError('--data is required (a JSONL/JSON file, or simple | nounpp | rc | within_rc for the demo data)');
  if (existsSync(value)) return value;
  const demo = demoData(value, split);
  if (demo) return demo;
  throw new UsageError(`--data ${value}: no such file (and not a demo dataset name: simple, nounpp, rc, within_rc)`);
}

/**
 * --example-length L: only examples whose clean prefix has exactly L tokens (the original's
 * paper-era scripts); absent: null, the min-length rule.
 */
export function exampleLength(values: Record<string, unknown>): number | null {
  return values['example-length'] === undefined ? null : num(values, 'example-length', { int: true, min: 1 });
}

/**
 * An output path option (--out, --test-out), checked to be writable before any work starts;
 * undefined when the option was not given.
 */
export function outPath(values: Record<string, unknown>, key: string): string | undefined {
  const v = values[key] as string | undefined;
  if (v === undefined) return undefined;
  if (v === '') throw new UsageError(`--${key}: expected a file name`);
  try {
    checkWritable(v);
  } catch (e) {
    throw new UsageError(`--${key} ${(e as Error).message}`);
  }
  return v;
}
