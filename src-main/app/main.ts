/**
 * Electron main process: owns the JobRunner (compute worker) and the API, and shows the
 * renderer in a locked-down window. The renderer reaches the engine only through the
 * preload's `window.sfc` (invoke/on), and every message is validated in api/handlers.ts.
 *
 * Model: `--model=DIR` on the command line or SFC_MODEL in the environment.
 */
import { app, BrowserWindow, session } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JobRunner } from '../jobs/runner';
import { createApi } from '../api/handlers';
import { APP_VERSION } from '../version';
import { registerIpc } from './ipc';

const here = dirname(fileURLToPath(import.meta.url)); // out/main
// electron-vite dev serves the renderer over HTTP and tells us where; a build loads files.
const devUrl = process.env.ELECTRON_RENDERER_URL;
const indexHtml = join(here, '..', 'renderer', 'index.html');
const rendererBase = devUrl ? new URL(devUrl).origin + '/' : pathToFileURL(dirname(indexHtml)).href + '/';

const isTrustedUrl = (url: string): boolean => url.startsWith(rendererBase);

function modelArg(): string | null {
  const flag = process.argv.find((a) => a.startsWith('--model='));
  return flag ? flag.slice('--model='.length) : (process.env.SFC_MODEL ?? null);
}

// Every renderer is sandboxed, whatever a window's options say.
app.enableSandbox();

const runner = new JobRunner();
const api = createApi({
  runner,
  settings: { model: modelArg() },
  app: { name: 'SFC Workbench', version: APP_VERSION, host: 'electron' },
});

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    title: 'SFC Workbench',
    show: false,
    webPreferences: {
      preload: join(here, '..', 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  win.once('ready-to-show', () => win.show());
  if (devUrl) void win.loadURL(devUrl);
  else void win.loadFile(indexHtml);
  return win;
}

// Lock down every web contents: no new windows, no navigation away, no webviews.
app.on('web-contents-created', (_e, wc) => {
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  wc.on('will-navigate', (e, url) => {
    if (!isTrustedUrl(url)) e.preventDefault();
  });
  wc.on('will-attach-webview', (e) => e.preventDefault());
});

app.whenReady().then(() => {
  // The UI needs no camera, notifications, etc.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  registerIpc(api, isTrustedUrl);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('will-quit', () => {
  void runner.close();
});
