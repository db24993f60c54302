/**
 * The three Vite builds of the desktop app:
 * - main:     src-main/app/main.ts → out/main/index.js, and the compute worker
 *             src-main/jobs/worker.ts → out/main/compute-worker.js (runner.ts spawns it from
 *             next to the bundle). ESM; node_modules dependencies stay external (native ones:
 *             onnxruntime-node, better-sqlite3).
 * - preload:  src-preload/index.ts → out/preload/index.cjs. CommonJS because sandboxed preloads
 *             cannot be ES modules; fully bundled because a sandboxed preload cannot require
 *             packages. `.cjs` because package.json says "type": "module".
 * - renderer: src-renderer/ (index.html, React) → out/renderer; also what `sfc serve` serves.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';

// import.meta.url, not import.meta.dirname: electron-vite injects only the former when it
// bundles this file.
const root = dirname(fileURLToPath(import.meta.url));

// electron-vite picks the output format and the Node/Chrome targets from the installed
// electron package's version. Where the Electron download failed (CI, these build machines)
// that package is absent and electron-vite would fail, so fall back to the version this
// project pins (ELECTRON_MAJOR_VER is electron-vite's own override).
if (!process.env.ELECTRON_MAJOR_VER) {
  try {
    createRequire(import.meta.url).resolve('electron/package.json');
  } catch {
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
    const pinned: string = pkg.optionalDependencies?.electron ?? pkg.devDependencies?.electron ?? '';
    const major = /\d+/.exec(pinned)?.[0];
    if (major) process.env.ELECTRON_MAJOR_VER = major;
  }
}

/**
 * index.html carries a strict CSP (script-src 'self'). The dev server's React Fast Refresh
 * needs one inline script, so only `electron-vite dev` relaxes it; builds keep it strict.
 */
const relaxCspForDev = (): Plugin => ({
  name: 'sfc:relax-csp-for-dev',
  apply: 'serve',
  transformIndexHtml: (html) => html.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'"),
});

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      externalizeDeps: true,
      rolldownOptions: {
        input: {
          index: resolve(root, 'src-main/app/main.ts'),
          'compute-worker': resolve(root, 'src-main/jobs/worker.ts'),
          'sae-load-worker': resolve(root, 'src-main/saes/load-worker.ts'),
        },
        output: {
          entryFileNames: '[name].js',
          // Shared chunks sit next to the entries: runner.ts finds compute-worker.js through
          // its own import.meta.url, which must resolve to out/main/ wherever it is bundled.
          chunkFileNames: '[name]-[hash].js',
        },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(root, 'src-preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    plugins: [react(), relaxCspForDev()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      rolldownOptions: { input: resolve(root, 'src-renderer/index.html') },
    },
  },
});
