#!/usr/bin/env node
// `npm ci` runs this (through scripts/install.js): builds native/ (the C kernels, N-API) with the
// node-gyp that npm ships. Without a C compiler the app still works on the TypeScript twins of
// the kernels, only slower, so a failed build warns instead of failing the install.
//
// `--electron` (used by `npm run dist`) builds against the headers of the Electron version this
// project pins instead, for the packaged app; that needs network for the headers, and a failure
// fails, so a package never ships without its kernels by accident.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const nativeDir = fileURLToPath(new URL('../native', import.meta.url));
const forElectron = process.argv.includes('--electron');

const args = ['rebuild'];
if (forElectron) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const version = /\d+\.\d+\.\d+/.exec(pkg.devDependencies?.electron ?? '')?.[0];
  if (!version) {
    console.error(`[sfc] build-native --electron: package.json devDependencies.electron ('${pkg.devDependencies?.electron}') is not an x.y.z version`);
    process.exit(1);
  }
  // Electron's documented manual rebuild: its own header tarball instead of Node's.
  args.push(`--target=${version}`, `--arch=${process.env.npm_config_arch ?? process.arch}`, '--dist-url=https://electronjs.org/headers');
}
const r = spawnSync('node-gyp', args, { cwd: nativeDir, stdio: 'inherit', shell: process.platform === 'win32' });
if (r.status !== 0) {
  const why = r.error ? ` (${r.error.message})` : '';
  if (forElectron) {
    console.error(`\n[sfc] error: the native kernels (native/) did not build for Electron${why}; \`npm run dist\` needs a C compiler, Python 3 and network for Electron's headers.\n`);
    process.exit(1);
  }
  console.warn(
    `\n[sfc] warning: the native kernels (native/) did not build${why}` +
      '. SFC Workbench will use its TypeScript kernels: same results, slower SAE loading and decoding.' +
      ' Install a C compiler, Python 3 and make, then run `npm run build:native`.\n',
  );
}
