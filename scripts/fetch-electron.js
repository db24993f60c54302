#!/usr/bin/env node
// Downloads the Electron binary (node_modules/electron/install.js), which `npm ci` does not run
// itself (package.json "allowScripts" turns electron's own install script off so installs
// without network pass). Run by scripts/install.js on every `npm ci`, and by
// `npm run electron:download`. It never fails: without the binary `npm start` serves the UI to
// the browser instead. The attempt is bounded (SFC_ELECTRON_DOWNLOAD_TIMEOUT seconds, default
// 180), so a stalled network cannot hang an install; offline it fails in well under a second.
// ELECTRON_SKIP_BINARY_DOWNLOAD=1 skips it (the variable Electron's installer used to honour).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { electronBinary } from './start-plan.js';

const warn = (why) =>
  console.warn(
    `[sfc] warning: the Electron binary was not downloaded (${why}). ` +
      '`npm start` will serve the UI to your browser instead; `npm run electron:download` retries.',
  );

function main() {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD && process.env.ELECTRON_SKIP_BINARY_DOWNLOAD !== '0') return;
  let pkgDir;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return; // installed without dev dependencies: the CLI and `sfc serve` need no Electron
  }
  if ('path' in electronBinary(pkgDir)) return;

  const raw = process.env.SFC_ELECTRON_DOWNLOAD_TIMEOUT ?? '180';
  const seconds = Number(raw);
  if (!(seconds > 0)) return warn(`SFC_ELECTRON_DOWNLOAD_TIMEOUT must be a number of seconds above 0, got '${raw}'`);
  console.log(`[sfc] downloading the Electron binary (at most ${seconds} s)…`);
  const r = spawnSync(process.execPath, [join(pkgDir, 'install.js')], {
    stdio: ['ignore', 'inherit', 'pipe'],
    timeout: seconds * 1000,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
  });
  if (r.error?.code === 'ETIMEDOUT') return warn(`no result after ${seconds} s; set SFC_ELECTRON_DOWNLOAD_TIMEOUT to allow longer`);
  if (r.error) return warn(r.error.message);
  // install.js prints a whole stack; its first line says what went wrong.
  const first = (r.stderr ?? '').split('\n').find((l) => l.trim()) ?? `exit status ${r.status}`;
  const offline = /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH/.test(r.stderr ?? '');
  if (r.status !== 0) return warn(`${first.trim()}${offline ? ': no connection to the download server' : ''}`);
  if ('missing' in electronBinary(pkgDir)) return warn('install.js finished but no executable appeared');
  console.log('[sfc] Electron is installed: `npm start` opens the desktop app.');
}

main();
