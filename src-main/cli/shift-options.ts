/** Options shared by `sfc probe` and `sfc shift`: the SHIFT demo as the default model, SAEs and data. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './command';
import { num, oneOf } from './options';
import { SHIFT_DEMO_DATA, SHIFT_DEMO_DIR, SHIFT_DEMO_MODEL, SHIFT_DEMO_SAES } from '../defaults';
import { type ProbeFile, validateProbeFile } from '../circuits/probe-file';
import { shiftDemoDefaults } from '../store/shift-demo';

const missingDemo = `the SHIFT demo is missing (${SHIFT_DEMO_DIR}); run \`npm run demo:train:shift\``;

function pathOption(values: Record<string, unknown>, key: string, fallback: string, what: string): string {
  const v = values[key] as string | undefined;
  if (v !== undefined) {
    if (!existsSync(v)) throw new UsageError(`--${key} ${v}: no such ${what}`);
    return v;
  }
  if (!existsSync(fallback)) throw new UsageError(`no --${key} given and ${missingDemo}`);
  return fallback;
}

export const shiftModel = (v: Record<string, unknown>): string => pathOption(v, 'model', SHIFT_DEMO_MODEL, 'folder');
export const shiftSaes = (v: Record<string, unknown>): string => pathOption(v, 'saes', SHIFT_DEMO_SAES, 'folder');
export const shiftData = (v: Record<string, unknown>): string => pathOption(v, 'data', SHIFT_DEMO_DATA, 'file or folder');

/** The demo's settings when the model is the demo's, else null. */
export function demoDefaults(model: string): ReturnType<typeof shiftDemoDefaults> | null {
  return resolve(model) === resolve(SHIFT_DEMO_MODEL) && existsSync(SHIFT_DEMO_DIR) ? shiftDemoDefaults(SHIFT_DEMO_DIR) : null;
}

export function readProbe(values: Record<string, unknown>): { file: string; probe: ProbeFile } {
  const file = values.probe as string | undefined;
  if (!file) throw new UsageError('--probe is required (a probe file from `sfc probe train`)');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--probe ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `invalid JSON (${(e as Error).message})`}`);
  }
  try {
    return { file, probe: validateProbeFile(raw, file) };
  } catch (e) {
    throw new UsageError(`--probe ${(e as Error).message}`);
  }
}

export const PROBE_RECIPE_OPTIONS = {
  seed: { type: 'string', default: '42' },
  lr: { type: 'string', default: '0.01' },
  epochs: { type: 'string', default: '1' },
  'probe-batch-size': { type: 'string' },
  'weight-decay': { type: 'string', default: '0.01' },
} as const;

/** The probe recipe from the options; the batch size defaults to the demo's for the demo model, else 32. */
export function recipeOptions(values: Record<string, unknown>, model: string) {
  return {
    seed: num(values, 'seed', { int: true }),
    lr: num(values, 'lr', { min: 1e-12 }),
    epochs: num(values, 'epochs', { int: true, min: 1 }),
    batchSize: values['probe-batch-size'] === undefined ? demoDefaults(model)?.probeBatchSize ?? 32 : num(values, 'probe-batch-size', { int: true, min: 1 }),
    weightDecay: num(values, 'weight-decay', { min: 0 }),
  };
}

export const trainSetOption = (v: Record<string, unknown>) => oneOf(v, 'train-set', ['ambiguous', 'balanced'] as const);
export const labelOption = (v: Record<string, unknown>) => oneOf(v, 'label', ['profession', 'gender'] as const);

export const pct = (x: number): string => (Number.isNaN(x) ? '   –' : `${(x * 100).toFixed(1)}`.padStart(5));
