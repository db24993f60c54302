#!/usr/bin/env node
// `npm start [-- --model=DIR]`: builds out/ when it is older than the sources, then opens the
// desktop app. Where Electron cannot run (no binary, or Linux without a display) it serves the
// same UI with `sfc serve` and opens it in the browser instead, and says why in one line.
// The decisions are in scripts/start-plan.js (unit-tested); this file only carries them out.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  BUILD_INPUTS,
  BUILD_OUTPUTS,
  browserOpener,
  buildStaleness,
  chooseFace,
  electronBinary,
  newestMtime,
  outputMtimes,
} from './start-plan.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line) => process.stderr.write(`[sfc] ${line}\n`);

function resolvePackageDir(name) {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

function buildIfStale() {
  const { stale, why } = buildStaleness(newestMtime(root, BUILD_INPUTS), outputMtimes(root, BUILD_OUTPUTS));
  if (!stale) return;
  const evDir = resolvePackageDir('electron-vite');
  if (!evDir) {
    say(`cannot build (${why}): electron-vite is not installed; run \`npm ci\` (with dev dependencies) first`);
    process.exit(1);
  }
  say(`building the app (${why})`);
  const r = spawnSync(process.execPath, [join(evDir, 'bin', 'electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    say(`the build failed (electron-vite build exited with ${r.status ?? r.signal}); see the errors above`);
    process.exit(1);
  }
}

// On POSIX the child gets its own process group, so a signal reaches it once, from us, whether
// it came from the terminal (Ctrl-C goes to the whole foreground group) or was sent to our pid
// alone; `sfc serve` would take a second SIGINT mid-shutdown as "die now". Windows has no
// process groups to speak of (and detached there means a new console window).
const ownGroup = process.platform !== 'win32';

/** Waits for `child`, passing signals on, and exits with its status. */
function follow(child, what) {
  for (const sig of ownGroup ? ['SIGINT', 'SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      if (ownGroup || sig !== 'SIGINT') child.kill(sig); // on Windows the console delivers Ctrl-C itself
    });
  }
  child.on('error', (e) => {
    say(`could not start ${what}: ${e.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function openInBrowser(url) {
  const opener = browserOpener(process.platform, process.env);
  if (!opener) return say('no way to open a browser here (no display, or no xdg-open): open the URL yourself');
  const p = spawn(opener.command, [...opener.args, url], {
    detached: true,
    stdio: 'ignore',
    windowsHide: true,
    windowsVerbatimArguments: process.platform === 'win32', // keep `start ""` literal
  });
  p.on('error', (e) => say(`could not open the browser (${opener.command}: ${e.message}): open the URL yourself`));
  p.unref();
}

function serve(model, reason) {
  say(`${reason}, so the same UI is served to your browser instead (Ctrl+C stops it).`);
  const child = spawn(process.execPath, [join(root, 'bin', 'sfc.js'), 'serve', '--model', model], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: ownGroup,
  });
  follow(child, '`sfc serve`');
  let opened = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    process.stdout.write(`${line}\n`); // the URL, printed always
    if (!opened && /^https?:\/\//.test(line)) {
      opened = true;
      openInBrowser(line.trim());
    }
  });
}

buildIfStale();
const args = process.argv.slice(2);
const face = chooseFace({ electron: electronBinary(resolvePackageDir('electron')), platform: process.platform, env: process.env, args });
if (face.face === 'serve') serve(face.model, face.reason);
else {
  // An inherited ELECTRON_RUN_AS_NODE (set by some editors' terminals) would start plain Node.
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  follow(spawn(face.executable, face.args, { cwd: root, stdio: 'inherit', env, detached: ownGroup }), `Electron (${face.executable})`);
}
