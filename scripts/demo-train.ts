/**
 * npm run demo:train — regenerates resources/demo (the embedded demo model, its SAEs, its
 * agreement data, README.md and metrics.json) deterministically. See docs/demo-model.md.
 *
 *   node bin/run-ts.js scripts/demo-train.ts [--out DIR] [--quick]
 *
 * --quick: a tiny recipe (a minute or so) to check the pipeline end to end; its numbers do not
 * meet the targets. The result is built in a temporary folder next to the destination and
 * swapped in only when complete, so a failed run leaves the old artifact untouched.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_RECIPE, type DemoRecipe, buildDemo } from '../src-main/demo/build';
import { tempPathFor } from '../src-main/util/atomic-write';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let out = join(root, 'resources', 'demo');
let quick = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') out = resolve(args[++i] ?? '');
  else if (args[i] === '--quick') quick = true;
  else {
    console.error(`usage: node bin/run-ts.js scripts/demo-train.ts [--out DIR] [--quick]  (unknown argument ${args[i]})`);
    process.exit(2);
  }
}

const recipe: DemoRecipe = quick
  ? {
      ...DEMO_RECIPE,
      data: { ...DEMO_RECIPE.data, maxTrain: 200, maxTest: 100 },
      lm: { ...DEMO_RECIPE.lm, steps: 150 },
      sae: { ...DEMO_RECIPE.sae, sentences: 1500, steps: 150, decayStart: 120, resampleEvery: 50, deadWindow: 25, warmup: 20, sparsityWarmup: 20 },
      heldOut: { ...DEMO_RECIPE.heldOut, sentences: 300 },
    }
  : DEMO_RECIPE;

const start = performance.now();
const stamp = () => `[${((performance.now() - start) / 1000).toFixed(0).padStart(4)} s]`;
// A fresh folder next to the target, swapped in only when complete (util/atomic-write.ts names it).
const tmp = tempPathFor(out);
rmSync(tmp, { recursive: true, force: true });
try {
  const report = await buildDemo(tmp, { recipe, log: (line) => console.log(`${stamp()} ${line}`) });
  const old = tempPathFor(`${out}.old`);
  if (existsSync(out)) renameSync(out, old);
  renameSync(tmp, out);
  // The SHIFT demo lives inside (resources/demo/shift) and has a build of its own (demo:train:shift): keep it.
  if (existsSync(join(old, 'shift'))) renameSync(join(old, 'shift'), join(out, 'shift'));
  rmSync(old, { recursive: true, force: true });
  console.log(`${stamp()} wrote ${out}: ${report.files.length} files, ${(report.totalBytes / 1e6).toFixed(2)} MB, ${report.seconds.total.toFixed(0)} s`);
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  console.error(`demo-train failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
}
