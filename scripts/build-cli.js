#!/usr/bin/env node
// `npm ci` (through scripts/install.js) and `npm run build:cli` run this: bundles the `sfc` CLI
// and its worker threads with esbuild (tsx's own dependency, so no download) into out/cli/, so
// `sfc` starts without compiling TypeScript (about 0.6 s per start, docs/performance.md).
// bin/sfc.js runs the bundle only while every source it was built from is unchanged
// (out/cli/manifest.json holds their modification times) and falls back to the sources through
// tsx otherwise, so an edited checkout never runs stale code. A failed build only warns.
//
//   node scripts/build-cli.js [--outdir DIR] [--quiet]    (DIR inside the checkout: the bundle
//   imports the native packages from its node_modules)
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { outdir: { type: 'string' }, quiet: { type: 'boolean', default: false } } });
const outdir = resolve(values.outdir ?? join(root, 'out', 'cli'));

/** The entries: the CLI and every worker it spawns (util/spawn-worker.ts finds them by name next to the bundle). */
export const CLI_ENTRIES = {
  sfc: 'src-main/cli/main.ts',
  'compute-worker': 'src-main/jobs/worker.ts',
  'sae-load-worker': 'src-main/saes/load-worker.ts',
};

/** Packages that load a native addon (or are Electron): never bundled. */
const NATIVE_PACKAGES = ['onnxruntime-node', 'better-sqlite3', '@resvg/resvg-js', 'electron', 'esbuild', 'tsx'];

async function main() {
  const t0 = performance.now();
  const { build } = await import('esbuild');
  // Built beside the target and swapped in whole, so a running `sfc` never sees half a bundle.
  const tmp = `${outdir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const entryPoints = Object.fromEntries(Object.entries(CLI_ENTRIES).map(([k, v]) => [k, join(root, v)]));
  const result = await build({
    entryPoints,
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Pure-JavaScript packages are bundled (zod alone is ~300 modules, 50–130 ms to import one by
    // one); packages with native addons stay imports of node_modules.
    external: NATIVE_PACKAGES,
    sourcemap: 'linked',
    metafile: true,
    chunkNames: 'chunk-[hash]',
    // Bundled CommonJS packages (ws) call require() for Node's built-ins.
    banner: { js: "import { createRequire as __sfcCreateRequire } from 'node:module'; const require = __sfcCreateRequire(import.meta.url);" },
    logLevel: 'warning',
    absWorkingDir: root,
  });
  const inputs = {};
  // Bundled package files count as sources too: `npm ci` after a version change makes it stale.
  for (const f of Object.keys(result.metafile.inputs)) inputs[f] = statSync(join(root, f)).mtimeMs;
  // A bundle that cannot even start is never installed: bin/sfc.js would fail instead of falling back.
  const smoke = spawnSync(process.execPath, [join(tmp, 'sfc.js'), '--version'], { encoding: 'utf8' });
  if (smoke.status !== 0) throw new Error(`the bundle does not start: ${(smoke.stderr || smoke.error?.message || '').trim().split('\n')[0]}`);
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ builtAt: new Date().toISOString(), node: process.version, inputs }, null, 1));
  mkdirSync(join(outdir, '..'), { recursive: true });
  const old = `${outdir}.old-${process.pid}`;
  try {
    renameSync(outdir, old);
  } catch {
    // no previous bundle
  }
  renameSync(tmp, outdir);
  rmSync(old, { recursive: true, force: true });
  if (!values.quiet) console.log(`[sfc] CLI bundled into ${relative(process.cwd(), outdir) || '.'} (${Object.keys(inputs).length} sources, ${((performance.now() - t0) / 1000).toFixed(2)} s)`);
}

try {
  await main();
} catch (e) {
  rmSync(`${outdir}.tmp-${process.pid}`, { recursive: true, force: true });
  console.warn(`\n[sfc] warning: the CLI bundle (${relative(root, outdir) || outdir}) did not build (${e instanceof Error ? e.message : e}); \`sfc\` will run from the TypeScript sources, only slower to start. Retry with \`npm run build:cli\`.\n`);
}
