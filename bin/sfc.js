#!/usr/bin/env node
// The `sfc` command. Runs the bundle out/cli/sfc.js (scripts/build-cli.js, built at install)
// while every source it was built from is unchanged, else the TypeScript sources through tsx
// (the dev path, about 0.6 s slower to start). SFC_TSX=1 always runs the sources.
import { freshBundle } from './cli-bundle.js';

const root = new URL('../', import.meta.url);
const dir = new URL('out/cli/', root);
const bundle = process.env.SFC_TSX === '1' ? null : freshBundle(dir, root);

// No compute worker is started here ahead of the CLI: a process that exits early (a usage
// error) while that worker is still loading onnxruntime can abort (SIGABRT), and it saved ~0.05 s.
if (bundle) await import(bundle);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src-main/cli/main.ts');
}
