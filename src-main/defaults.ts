/**
 * Where the embedded demo lives (resources/demo), found from this module's location so it works
 * from the TypeScript sources (CLI, tests), the bundled app (out/main) and the packaged app alike.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findUp(rel: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', rel);
}

/** A packaged desktop app ships the demo as an extraResource, `<resources>/demo` (package.json "build"), outside app.asar. */
function packagedDemo(): string | null {
  const resources = (process as { resourcesPath?: string }).resourcesPath; // set by Electron only
  return resources && existsSync(join(resources, 'demo')) ? join(resources, 'demo') : null;
}

export const DEMO_DIR = process.env.SFC_DEMO_DIR ?? packagedDemo() ?? findUp(join('resources', 'demo'));
export const DEMO_MODEL = join(DEMO_DIR, 'model');
export const DEMO_SAES = join(DEMO_DIR, 'saes');

/** `--data simple` means the demo's simple_train.jsonl (or _test for evaluation). */
export function demoData(name: string, split: 'train' | 'test'): string | null {
  const p = join(DEMO_DIR, 'data', `${name}_${split}.jsonl`);
  return existsSync(p) ? p : null;
}

/** The SHIFT demo (docs/shift.md): biographies, a small model and its SAEs, beside the agreement demo. */
export const SHIFT_DEMO_DIR = join(DEMO_DIR, 'shift');
export const SHIFT_DEMO_MODEL = join(SHIFT_DEMO_DIR, 'model');
export const SHIFT_DEMO_SAES = join(SHIFT_DEMO_DIR, 'saes');
export const SHIFT_DEMO_DATA = join(SHIFT_DEMO_DIR, 'data', 'bios.jsonl');
