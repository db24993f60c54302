#!/usr/bin/env node
// `npm ci` runs this (package.json "install"): builds native/ (the C kernels, N-API) with the
// node-gyp that npm ships. Without a C compiler the app still works on the TypeScript twins of
// the kernels, only slower, so a failed build warns instead of failing the install.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const nativeDir = fileURLToPath(new URL('../native', import.meta.url));
const r = spawnSync('node-gyp', ['rebuild'], { cwd: nativeDir, stdio: 'inherit', shell: process.platform === 'win32' });
if (r.status !== 0) {
  console.warn(
    '\n[sfc] warning: the native kernels (native/) did not build' +
      (r.error ? ` (${r.error.message})` : '') +
      '. SFC Workbench will use its TypeScript kernels: same results, slower SAE loading and decoding.' +
      ' Install a C compiler, Python 3 and make, then run `npm run build:native`.\n',
  );
}
