/**
 * Electron main process: owns the store, the JobRunner (compute worker) and the API, and shows the
 * renderer in a locked-down window. The renderer reaches the engine only through the
 * preload's `window.sfc` (invoke/on), and every message is validated in api/handlers.ts.
 * Security decisions: docs/app.md ("Security choices").
 *
 * Model: `--model=DIR` on the command line, else SFC_MODEL, else the embedded demo model.
 */
import { app, BrowserWindow, protocol, session, shell } from 'electron';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiHost, type ApiHostProcess } from '../api/host';
import { APP_DIR_NAME } from '../store/database';
import { DEMO_MODEL } from '../defaults';
import { APP_VERSION } from '../version';
import { registerIpc } from './ipc';
import { installMenu } from './menu';
import { APP_INDEX_URL, APP_SCHEME, handleAppRequest, isTrustedRendererUrl } from './app-protocol';

const here = dirname(fileURLToPath(import.meta.url)); // out/main
const rendererDir = resolve(here, '..', 'renderer');
// electron-vite dev serves the renderer over HTTP and tells us where; a build uses app://.
const devUrl = process.env.ELECTRON_RENDERER_URL ?? null;
const devOrigin = devUrl ? new URL(devUrl).origin : null;

const isTrustedUrl = (url: string): boolean => isTrustedRendererUrl(url, devOrigin);

// The compute workers find the demo (an extraResource in a packaged app) through this: they
// inherit the environment when they start, which is after this line.
process.env.SFC_DEMO_DIR ??= dirname(DEMO_MODEL);

function modelArg(): string {
  const flag = process.argv.find((a) => a.startsWith('--model='));
  return flag ? flag.slice('--model='.length) : (process.env.SFC_MODEL ?? DEMO_MODEL);
}

// Must run before 'ready'. standard: relative URLs and a real origin ('self' in the CSP means
// app://sfc); secure: counts as a secure context, like https.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

// Every renderer is sandboxed, whatever a window's options say.
app.enableSandbox();

// The store lives in userData under the same folder name the CLI uses (store/database.ts), so
// `sfc` and the app share one library whatever the packaged product name is.
app.setPath('userData', join(app.getPath('appData'), APP_DIR_NAME));
let hosted: ApiHostProcess | null = null;

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
  void win.loadURL(devUrl ?? APP_INDEX_URL);
  return win;
}

// Lock down every web contents: no new windows, no navigation away, no webviews.
app.on('web-contents-created', (_e, wc) => {
  wc.setWindowOpenHandler(({ url }) => {
    // Feature pages on Neuronpedia open in the user's browser; nothing opens inside the app.
    if (url.startsWith('https://www.neuronpedia.org/')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  wc.on('will-navigate', (e, url) => {
    if (!isTrustedUrl(url)) e.preventDefault();
  });
  wc.on('will-attach-webview', (e) => e.preventDefault());
});

app
  .whenReady()
  .then(() => {
    // The UI needs no camera, notifications, etc.: refuse every request and answer every check no.
    session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
    protocol.handle(APP_SCHEME, (request) => handleAppRequest(rendererDir, request));

    // The SQLite store (SFC_DB, else userData/sfc.db), the compute worker and the API.
    hosted = startApiHost({
      dbPath: process.env.SFC_DB || join(app.getPath('userData'), 'sfc.db'),
      model: modelArg(),
      app: { name: 'SFC Workbench', version: APP_VERSION, host: 'electron' },
    });
    const api = hosted.api;
    registerIpc(api, isTrustedUrl);
    installMenu();
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  })
  .catch((e: unknown) => {
    console.error(`SFC Workbench could not start: ${e instanceof Error ? e.message : String(e)}`);
    app.exit(1);
  });

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('will-quit', () => {
  void hosted?.close();
});
