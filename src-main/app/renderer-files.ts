/**
 * Serving the built renderer (out/renderer): the policy and the path check shared by the
 * Electron app's `app://` protocol (app-protocol.ts) and `sfc serve` (cli/commands/serve.ts),
 * so the two faces cannot drift apart. No Electron import: serve and the tests load it in Node.
 */
import { resolve, sep } from 'node:path';

/** Sent with every file. index.html carries the same policy as a meta tag, less frame-ancestors (a meta tag cannot carry it). */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'", // same-origin ws: is covered by 'self' (CSP level 3)
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers for every response of either server. */
export const RENDERER_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': RENDERER_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer', // serve's page URL carries the token
  'Cache-Control': 'no-store',
};

export const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export type RendererPath = { file: string } | { status: 400 | 404; message: string };

/**
 * The file under `dir` that a URL path names, or why not: 400 when the path is not valid
 * percent-encoding or holds a NUL byte, 404 when it would leave `dir` (`../`, or encoded as
 * `%2e%2e%2f` or `..%5c`). `dir` must be absolute. A path ending in `/` means its index.html.
 */
export function resolveRendererPath(dir: string, urlPathname: string): RendererPath {
  let path: string;
  try {
    path = decodeURIComponent(urlPathname);
  } catch {
    return { status: 400, message: 'Bad Request' };
  }
  if (path.includes('\0')) return { status: 400, message: 'Bad Request' };
  if (path.endsWith('/')) path += 'index.html';
  const file = resolve(dir, `.${path}`);
  // Never anything outside the renderer folder.
  return file.startsWith(dir.endsWith(sep) ? dir : dir + sep) ? { file } : { status: 404, message: 'Not Found' };
}
