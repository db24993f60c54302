/**
 * The `app://sfc/` protocol the desktop window loads the renderer from, instead of file://
 * (Electron security checklist: a file:// page may read any local file its URL can name, and
 * the file: origin is shared by every local file). The request handler and the trust check are
 * pure (web Request/Response, no Electron import) so unit tests run them in Node; main.ts
 * registers them with Electron's `protocol`.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { MIME, RENDERER_HEADERS, resolveRendererPath } from './renderer-files';

export const APP_SCHEME = 'app';
export const APP_HOST = 'sfc';
/** Where the window starts. */
export const APP_INDEX_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * Whether a frame at `url` is our renderer, so that it may use the API (ipc.ts) and navigate
 * (main.ts). A build trusts `app://sfc/` only; `electron-vite dev` (devOrigin set) trusts only
 * its dev server's origin. Parsed, not prefix-matched, so `app://sfc.evil/` or
 * `app://sfc@evil/` never pass.
 */
export function isTrustedRendererUrl(url: string, devOrigin: string | null = null): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  if (devOrigin !== null) return u.origin === devOrigin;
  // `app:` is not a WHATWG special scheme, so URL.origin is 'null'; compare its parts.
  return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
}

/**
 * Answers one `app://` request from the built renderer folder (`rendererDir`, absolute), with
 * the same headers as `sfc serve` (renderer-files.ts). Only GET/HEAD on host `sfc`.
 */
export async function handleAppRequest(rendererDir: string, request: Request): Promise<Response> {
  const reply = (status: number, text: string): Response =>
    new Response(`${text}\n`, { status, headers: { ...RENDERER_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
  if (request.method !== 'GET' && request.method !== 'HEAD') return reply(405, 'Method Not Allowed');
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return reply(400, 'Bad Request');
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return reply(404, 'Not Found');
  const target = resolveRendererPath(rendererDir, url.pathname);
  if (!('file' in target)) return reply(target.status, target.message);
  let body: Buffer;
  try {
    body = await readFile(target.file);
  } catch {
    return reply(404, 'Not Found'); // missing, or a folder
  }
  const headers = { ...RENDERER_HEADERS, 'Content-Type': MIME[extname(target.file)] ?? 'application/octet-stream' };
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
}
