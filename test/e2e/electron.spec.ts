/**
 * The desktop app through Playwright's Electron driver. Runs only where the Electron binary is
 * installed (it cannot be downloaded on the build machines) and skips with the reason
 * elsewhere. Needs `npm run build` (it starts out/main/index.js).
 */
import { test, expect, _electron as electron } from '@playwright/test';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The Electron executable, or why there is none. Never `require('electron')`: when its binary
 * is missing, that tries to download it, and tests must not touch the network.
 */
function electronBinary(): { path: string } | { missing: string } {
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { missing: 'the electron package is absent (an optionalDependency whose install failed)' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return { missing: `${pathFile} is absent: the Electron download never completed` };
  const exe = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkgDir, 'dist'), readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? { path: exe } : { missing: `${exe} does not exist` };
}

const found = electronBinary();

test('the desktop app opens a locked-down window that talks to the engine over IPC', async () => {
  test.skip('missing' in found, `Electron binary not installed: ${'missing' in found ? found.missing : ''}`);
  const exe = (found as { path: string }).path;
  const app = await electron.launch({
    executablePath: exe,
    args: [resolve(root, 'out/main/index.js'), ...(process.platform === 'linux' ? ['--no-sandbox', '--disable-gpu'] : [])],
    cwd: root,
  });
  try {
    const page = await app.firstWindow();
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
  } finally {
    await app.close();
  }
});
