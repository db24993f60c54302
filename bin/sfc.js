#!/usr/bin/env node
// The `sfc` command. Runs the bundle out/cli/sfc.js (scripts/build-cli.js, built at install)
// while every source it was built from is unchanged, else the TypeScript sources through tsx
// (the dev path, about 0.6 s slower to start). SFC_TSX=1 always runs the sources.
import { freshBundle } from './cli-bundle.js';

const root = new URL('../', import.meta.url);
const dir = new URL('out/cli/', root);
const bundle = process.env.SFC_TSX === '1' ? null : freshBundle(dir, root);

/** Commands whose work runs in the compute worker (cli/jobs.ts). */
const JOB_COMMANDS = new Set(['discover', 'evaluate', 'predict', 'generate-data', 'model']);
const [command, ...rest] = process.argv.slice(2);
if (bundle && JOB_COMMANDS.has(command) && !rest.includes('--help') && !rest.includes('-h')) {
  // Start the compute worker now: its start-up (onnxruntime, the job code) then overlaps the
  // loading of the CLI itself. The runner adopts it (jobs/runner.ts); unused, it does not keep
  // the process alive.
  const { Worker } = await import('node:worker_threads');
  const w = new Worker(new URL('compute-worker.js', dir));
  w.unref();
  w.on('error', () => {}); // a worker that failed to start is replaced by a fresh one
  globalThis.__sfcEarlyWorker = w;
}
if (bundle) await import(bundle);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src-main/cli/main.ts');
}
