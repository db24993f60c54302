/**
 * The desktop app through Playwright's Electron driver. Runs only where the Electron binary is
 * installed (it cannot be downloaded on the build machines) and skips with the reason
 * elsewhere. Needs `npm run build` (it starts out/main/index.js).
 */
import { test, expect } from '@playwright/test';
import { launchDesktopApp } from './electron-app';

test('the desktop app opens a locked-down window that talks to the engine over IPC', async () => {
  const app = await launchDesktopApp('electron.spec');
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
    expect(exposed).toEqual({ bridge: ['invoke', 'on', 'pathForFile'], require: 'undefined', process: 'undefined' });
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
