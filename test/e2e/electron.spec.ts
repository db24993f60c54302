/**
 * The desktop app through Playwright's Electron driver. Runs only where the Electron binary is
 * installed (it cannot be downloaded on the build machines) and skips with the reason
 * elsewhere. Needs `npm run build` (it starts out/main/index.js).
 */
import { test, expect, _electron as electron } from '@playwright/test';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary } from '../../scripts/start-plan.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function electronPackageDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
}

// Never `require('electron')`: when its binary is missing, that tries to download it, and tests
// must not touch the network. The same check as `npm start` (scripts/start-plan.js).
const found = electronBinary(electronPackageDir());

test('the desktop app opens a locked-down window that talks to the engine over IPC', async () => {
  if ('missing' in found) {
    // The list reporter shows no skip reason, so say it on the console as well.
    const why = `Electron binary not installed: ${found.missing}`;
    console.log(`[electron.spec] skipped: ${why}`);
    test.skip(true, why);
  }
  const exe = (found as { path: string }).path;
  const app = await electron.launch({
    executablePath: exe,
    args: [resolve(root, 'out/main/index.js'), ...(process.platform === 'linux' ? ['--no-sandbox', '--disable-gpu'] : [])],
    cwd: root,
  });
  try {
    const page = await app.firstWindow();
    // The renderer comes from the app:// protocol (src-main/app/app-protocol.ts), not file://.
    expect(page.url()).toBe('app://sfc/index.html');
    await expect(page.getByRole('heading', { name: 'SFC Workbench' })).toBeVisible();
    await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');
    await expect(page.getByTestId('engine-runtime')).toContainText('onnxruntime-node');
    // The renderer has the typed bridge and nothing of Node.
    const exposed = await page.evaluate(() => ({
      bridge: Object.keys((window as unknown as { sfc: object }).sfc).sort(),
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
    }));
    expect(exposed).toEqual({ bridge: ['invoke', 'on'], require: 'undefined', process: 'undefined' });
    const bad = await page.evaluate(() => (window as unknown as { sfc: { invoke(c: string, p: unknown): Promise<unknown> } }).sfc.invoke('nope', {}));
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    // The protocol serves the renderer folder only, with the CSP header.
    const probe = await page.evaluate(async () => {
      const index = await fetch('/index.html');
      const escape = await fetch('/..%2F..%2Fpackage.json');
      return { csp: index.headers.get('content-security-policy'), escape: escape.status };
    });
    expect(probe.csp).toContain("frame-ancestors 'none'");
    expect(probe.escape).toBe(404);
  } finally {
    await app.close();
  }
});
