/**
 * `sfc serve`: the workbench UI in any browser. One HTTP server on 127.0.0.1 serves the built
 * renderer (out/renderer) and the API over a WebSocket at /ws. A random token is made at each
 * start and only the printed URL carries it, so other local users' pages and processes that do
 * not know it cannot drive the engine.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { startApiHost } from '../../api/host';
import { defaultDbPath } from '../../store';
import { attachWebSocketApi, isLoopbackHost } from '../../api/ws-server';
import { UsageError, type Command } from '../command';
import { APP_VERSION } from '../../version';
import { MIME, RENDERER_HEADERS, resolveRendererPath } from '../../app/renderer-files';

export interface ServeOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Name printed in the URL; the server binds 127.0.0.1 either way. */
  host?: '127.0.0.1' | 'localhost';
  /** Default model folder for the UI; null/undefined = none configured. */
  model?: string | null;
  /** The store's file (default: SFC_DB, else the app's user-data folder). */
  db?: string;
  /** Built renderer; default <package root>/out/renderer. */
  rendererDir?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** The folder holding this package's package.json (works from sources and from a bundle). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the sfc package root (no package.json above serve.ts)');
    dir = up;
  }
  return dir;
}

export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const root = packageRoot();
  const rendererDir = resolve(opts.rendererDir ?? join(root, 'out', 'renderer'));
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new UsageError(`the web UI is not built (${join(rendererDir, 'index.html')} is missing): run \`npm run build\` first`);
  }
  const model = opts.model ? resolve(opts.model) : null;
  if (model && !(existsSync(model) && statSync(model).isDirectory())) {
    throw new UsageError(`--model: folder not found: ${model}`);
  }

  const hosted = startApiHost({ dbPath: opts.db ?? defaultDbPath(), model, app: { name: 'SFC Workbench', version: APP_VERSION, host: 'serve' } });
  const api = hosted.api;
  const token = randomBytes(32).toString('base64url');

  const server = createServer((req, res) => {
    serveStatic(rendererDir, req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    });
  });
  const ws = attachWebSocketApi(server, api, {
    token,
    path: '/ws',
    // One client's bad frame closes that client only; say so, the server keeps serving.
    onClientError: (e) => process.stderr.write(`sfc serve: closed a client connection: ${e.message}\n`),
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}/?token=${token}`;

  return {
    url,
    port,
    token,
    async close() {
      ws.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await hosted.close();
    },
  };
}

async function serveStatic(dir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // The same headers and path check as the desktop app's app:// protocol (app/renderer-files.ts).
  const headers = RENDERER_HEADERS;
  const reply = (status: number, text: string): void => {
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
  };
  if (!isLoopbackHost(req.headers.host)) return reply(403, 'Forbidden: Host must be a loopback address');
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'Method Not Allowed');

  let pathname: string;
  try {
    pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return reply(400, 'Bad Request');
  }
  const target = resolveRendererPath(dir, pathname);
  if (!('file' in target)) return reply(target.status, target.message);
  const file = target.file;
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return reply(404, 'Not Found');
  }
  res.writeHead(200, { ...headers, 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the workbench UI to a browser on this machine (127.0.0.1, per-start token)',
  usage: 'sfc serve [--port N] [--host 127.0.0.1|localhost] [--model DIR] [--db FILE]',
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    model: { type: 'string' },
    db: { type: 'string' },
  },
  async run({ values }) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: expected 0..65535, got '${values.port}'`);
    const host = values.host;
    if (host !== '127.0.0.1' && host !== 'localhost') {
      throw new UsageError(`--host: only 127.0.0.1 or localhost is allowed (got '${host}'); the engine is never exposed to the network — use an SSH tunnel to reach a remote machine`);
    }
    const server = await startServer({ port, host, model: typeof values.model === 'string' ? values.model : null, db: typeof values.db === 'string' ? values.db : undefined });
    // The URL alone on stdout (scripts and tests read it); the chatter goes to stderr.
    process.stderr.write('SFC Workbench is being served; open this URL (Ctrl+C to stop):\n');
    process.stdout.write(`${server.url}\n`);
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
  },
};
