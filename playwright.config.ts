/**
 * End-to-end tests. The browser is Debian's Chromium (no Playwright browser download here);
 * the tests start `sfc serve` themselves (test/e2e/serve.ts) on 127.0.0.1 and need the built
 * renderer: run `npm run build` first. Nothing here reaches beyond 127.0.0.1.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'test/e2e',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1, // each test file starts its own engine (a worker thread); 2 cores here
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    },
  },
});
