/**
 * Starting the desktop app for a Playwright `_electron` test: skips the test, with the reason on
 * the console too, where the Electron binary is not installed (it cannot be downloaded on the
 * build machines), and gives every start a store of its own, never the user's library.
 * Needs `npm run build` (it starts out/main/index.js).
 */
import { test, _electron as electron, type ElectronApplication } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary } from '../../scripts/start-plan.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function electronPackageDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
}

/** Call inside a test; `spec` names the file in the skip line. */
export async function launchDesktopApp(spec: string): Promise<ElectronApplication> {
  // Never `require('electron')`: when its binary is missing, that tries to download it, and
  // tests must not touch the network. The same check as `npm start` (scripts/start-plan.js).
  const found = electronBinary(electronPackageDir());
  if ('missing' in found) {
    // The list reporter shows no skip reason, so say it on the console as well.
    const why = `Electron binary not installed: ${found.missing}`;
    console.log(`[${spec}] skipped: ${why}`);
    test.skip(true, why);
  }
  const db = join(mkdtempSync(join(tmpdir(), 'sfc-e2e-electron-')), 'sfc.db');
  return electron.launch({
    executablePath: (found as { path: string }).path,
    args: [resolve(root, 'out/main/index.js'), ...(process.platform === 'linux' ? ['--no-sandbox', '--disable-gpu'] : [])],
    cwd: root,
    env: { ...process.env, SFC_DB: db },
  });
}
