#!/usr/bin/env node
// `npm ci` runs this (package.json "install"): bundles the CLI (scripts/build-cli.js, offline),
// builds the native kernels (scripts/build-native.js), then tries the Electron download
// (scripts/fetch-electron.js). Each only warns when it fails, so an install without a compiler
// or without network still succeeds.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const script of ['build-cli.js', 'build-native.js', 'fetch-electron.js']) {
  spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], { stdio: 'inherit' });
}
