/**
 * npm run demo:train:shift — regenerates resources/demo/shift (the SHIFT demo: biographies, a
 * small model, its SAEs, the demo's judgement list, README.md and metrics.json)
 * deterministically. See docs/shift.md.
 *
 *   node bin/run-ts.js scripts/demo-train-shift.ts [--out DIR] [--quick]
 *
 * --quick: a tiny recipe to check the pipeline end to end; its numbers mean little. The result
 * is built in a temporary folder next to the destination and swapped in only when complete.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIFT_DEMO_RECIPE, type ShiftDemoRecipe, buildShiftDemo } from '../src-main/demo/build-shift';
import { tempPathFor } from '../src-main/util/atomic-write';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let out = join(root, 'resources', 'demo', 'shift');
let quick = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') out = resolve(args[++i] ?? '');
  else if (args[i] === '--quick') quick = true;
  else {
    console.error(`usage: node bin/run-ts.js scripts/demo-train-shift.ts [--out DIR] [--quick]  (unknown argument ${args[i]})`);
    process.exit(2);
  }
}

const R = SHIFT_DEMO_RECIPE;
const recipe: ShiftDemoRecipe = quick
  ? {
      ...R,
      lm: { ...R.lm, steps: 150 },
      sae: { ...R.sae, bios: 800, steps: 150, decayStart: 120, resampleEvery: 50, deadWindow: 25, warmup: 20, sparsityWarmup: 20 },
    }
  : R;

const start = performance.now();
const stamp = () => `[${((performance.now() - start) / 1000).toFixed(0).padStart(4)} s]`;
const tmp = tempPathFor(out);
rmSync(tmp, { recursive: true, force: true });
try {
  const report = await buildShiftDemo(tmp, { recipe, log: (line) => console.log(`${stamp()} ${line}`) });
  const old = tempPathFor(`${out}.old`);
  if (existsSync(out)) renameSync(out, old);
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
  console.log(`${stamp()} wrote ${out}: ${report.files.length} files, ${(report.totalBytes / 1e6).toFixed(2)} MB, ${report.seconds.total.toFixed(0)} s`);
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  console.error(`demo-train-shift failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
}
