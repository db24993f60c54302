// The decisions behind `npm start` (scripts/start.js), as plain functions over plain data so
// test/unit/start-plan.test.ts can check them without launching Electron or a browser. Types:
// scripts/start-plan.d.ts. Plain JavaScript: `npm start` must run before anything is built.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** What electron-vite builds from: when any is newer than an output, the build is stale. */
export const BUILD_INPUTS = ['src-main', 'src-preload', 'src-renderer', 'electron.vite.config.ts', 'package.json'];
/** One output of each build (main, preload, renderer). */
export const BUILD_OUTPUTS = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
/** What the browser fallback serves when no model is given. */
export const DEMO_MODEL = 'resources/demo/model';

/**
 * Whether `out/` must be rebuilt. `newestInputMs`: the newest mtime among the inputs;
 * `outputs`: each output's path and mtime (null when missing).
 */
export function buildStaleness(newestInputMs, outputs) {
  const missing = outputs.find((o) => o.mtimeMs === null);
  if (missing) return { stale: true, why: `${missing.path} is missing` };
  const oldest = outputs.reduce((a, b) => (b.mtimeMs < a.mtimeMs ? b : a));
  if (newestInputMs > oldest.mtimeMs) return { stale: true, why: `sources changed since ${oldest.path} was built` };
  return { stale: false, why: 'up to date' };
}

/** The newest mtime of the files under `paths` (files or folders), skipping node_modules and dot-entries. */
export function newestMtime(root, paths) {
  let newest = 0;
  const visit = (p) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return; // an input that does not exist cannot be newer
    }
    if (!st.isDirectory()) {
      newest = Math.max(newest, st.mtimeMs);
      return;
    }
    for (const name of readdirSync(p)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      visit(join(p, name));
    }
  };
  for (const p of paths) visit(join(root, p));
  return newest;
}

/** Each output's mtime, or null where it is missing. */
export function outputMtimes(root, paths) {
  return paths.map((path) => {
    try {
      return { path, mtimeMs: statSync(join(root, path)).mtimeMs };
    } catch {
      return { path, mtimeMs: null };
    }
  });
}

/**
 * The Electron executable, or why there is none. Mirrors node_modules/electron/index.js without
 * calling it: requiring the electron package starts a download when the binary is missing.
 * `pkgDir`: node_modules/electron, or null when the package is not installed.
 */
export function electronBinary(pkgDir, env = process.env, fs = { existsSync, readFileSync }) {
  if (pkgDir === null) return { missing: 'the electron package is not installed (npm ci --omit=dev, or its install failed)' };
  const pathFile = join(pkgDir, 'path.txt');
  if (!fs.existsSync(pathFile)) return { missing: `${pathFile} is absent: the Electron download never completed` };
  const exe = join(env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkgDir, 'dist'), fs.readFileSync(pathFile, 'utf8').trim());
  return fs.existsSync(exe) ? { path: exe } : { missing: `${exe} does not exist` };
}

/** The model for the browser fallback: `--model=DIR` or `--model DIR`, else SFC_MODEL, else the demo. */
export function serveModel(args, env = process.env) {
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith('--model=')) return args[i].slice('--model='.length);
    if (args[i] === '--model' && i + 1 < args.length) return args[i + 1];
  }
  return env.SFC_MODEL || DEMO_MODEL;
}

/**
 * Desktop window or browser. `electron`: electronBinary()'s answer. On Linux without a display
 * Electron cannot open a window, so the browser fallback is chosen there too (its URL works
 * through an SSH tunnel).
 */
export function chooseFace({ electron, platform, env, args }) {
  const hint = 'fetch it with `npm run electron:download`';
  if ('missing' in electron) {
    return { face: 'serve', model: serveModel(args, env), reason: `no Electron binary (${electron.missing}; ${hint})` };
  }
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { face: 'serve', model: serveModel(args, env), reason: 'no display for a desktop window ($DISPLAY and $WAYLAND_DISPLAY are unset)' };
  }
  // `--model DIR` becomes `--model=DIR`, the form main.ts reads.
  const electronArgs = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--model' && i + 1 < args.length) electronArgs.push(`--model=${args[++i]}`);
    else electronArgs.push(args[i]);
  }
  return { face: 'electron', executable: electron.path, args: ['.', ...electronArgs] };
}

/** Whether `name` is an executable file on PATH. */
export function onPath(name, env = process.env, exists = existsSync) {
  return (env.PATH ?? '').split(delimiter).some((dir) => dir && exists(join(dir, name)));
}

/**
 * How to open a URL in the user's browser, or null where there is no sensible way: on Linux
 * only with a display (xdg-open falls back to a text browser in the terminal otherwise).
 */
export function browserOpener(platform, env = process.env, hasCommand = (n) => onPath(n, env)) {
  if (platform === 'darwin') return { command: 'open', args: [] };
  // `start` is a cmd built-in; its first quoted argument is the window title.
  if (platform === 'win32') return { command: 'cmd', args: ['/d', '/c', 'start', '""'] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return hasCommand('xdg-open') ? { command: 'xdg-open', args: [] } : null;
}
