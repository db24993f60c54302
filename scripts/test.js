#!/usr/bin/env node
// `npm test`: build the renderer (the e2e tests serve it), run vitest (unit + integration),
// then Playwright against the served UI in Debian's Chromium. Installs Chromium with apt when it
// is missing and we may (root); prints one closing line with the combined counts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const reports = join(root, 'test-results');
mkdirSync(reports, { recursive: true });
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function ensureChromium() {
  if (existsSync(chromium)) return true;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`[test] ${chromium} is missing: installing Debian's chromium with apt-get`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'chromium'], { DEBIAN_FRONTEND: 'noninteractive' });
  }
  if (existsSync(chromium)) return true;
  console.error(`[test] no Chromium at ${chromium}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  return false;
}

// Nothing a test starts may touch the user's library: point the default store at a scratch file.
process.env.SFC_DB = join(reports, 'scratch.db');
// Nor the user's caches (content hashes, compiled graphs, hub downloads): a scratch folder too.
process.env.SFC_CACHE_DIR = join(reports, 'cache');

const counts = { passed: 0, failed: 0, skipped: 0 };
let status = 0;

console.log('[test] building the app (electron-vite build)');
if (run('npx', ['electron-vite', 'build']) !== 0) {
  console.error('[test] build failed');
  process.exit(1);
}

console.log('[test] unit and integration tests (vitest)');
const vitestJson = join(reports, 'vitest.json');
status |= run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`]);
if (existsSync(vitestJson)) {
  const v = JSON.parse(readFileSync(vitestJson, 'utf8'));
  counts.passed += v.numPassedTests ?? 0;
  counts.failed += v.numFailedTests ?? 0;
  counts.skipped += (v.numPendingTests ?? 0) + (v.numTodoTests ?? 0);
}

console.log('[test] end-to-end tests (Playwright + Chromium against `sfc serve`)');
if (ensureChromium()) {
  const pwJson = join(reports, 'playwright.json');
  status |= run('npx', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson });
  if (existsSync(pwJson)) {
    const s = JSON.parse(readFileSync(pwJson, 'utf8')).stats ?? {};
    counts.passed += (s.expected ?? 0) + (s.flaky ?? 0);
    counts.failed += s.unexpected ?? 0;
    counts.skipped += s.skipped ?? 0;
  }
} else status = 1;

console.log(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(status === 0 && counts.failed === 0 ? 0 : 1);
