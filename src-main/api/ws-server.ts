/**
 * WebSocket transport for the API: a thin adapter that frames (channel, payload) pairs as JSON
 * and hands them to an ApiSession, which validates them. Used by `sfc serve` (browser UI,
 * remote engines, end-to-end tests).
 *
 * Security: the upgrade is refused unless the URL carries the per-start token (compared in
 * constant time), the Host header names a loopback address (defeats DNS rebinding) and any
 * Origin header matches that host (a page elsewhere cannot drive the engine).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHash, timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Api } from './handlers';
import { MAX_IMPORT_BYTES } from '../store/import';
import { WsRequest, type WsMessage } from './contract';

/**
 * The largest message a client may send: a request carrying an imported file's text (the
 * store's cap, MAX_IMPORT_BYTES) with room for its JSON escaping. Everything else is small.
 */
export const MAX_MESSAGE_BYTES = 2 * MAX_IMPORT_BYTES + (1 << 20);

export interface WsApiOptions {
  token: string;
  /** URL path of the endpoint. */
  path?: string;
  /** Largest accepted message; requests are small (the big data stays in the engine). */
  maxPayload?: number;
  /** Told about a client's faulty frame or socket error (that client is closed, the rest go on). */
  onClientError?: (err: Error) => void;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True when a Host header (or an Origin's host) names a loopback address. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return LOOPBACK_HOSTS.has(name.toLowerCase());
}

function sameToken(given: string | null, expected: string): boolean {
  if (given === null) return false;
  // Hash first so lengths match and timingSafeEqual never throws.
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(given), h(expected));
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason}\n`);
}

/** Why an upgrade request is refused, or null when it may connect. */
function checkUpgrade(req: IncomingMessage, path: string, token: string): [number, string] | null {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname !== path) return [404, 'Not Found'];
  if (!isLoopbackHost(req.headers.host)) return [403, 'Forbidden: Host must be a loopback address'];
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host}`) return [403, 'Forbidden: cross-origin request'];
  if (!sameToken(url.searchParams.get('token'), token)) return [401, 'Unauthorized: missing or wrong token'];
  return null;
}

export function attachWebSocketApi(server: Server, api: Api, opts: WsApiOptions): { close(): void } {
  const path = opts.path ?? '/ws';
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload ?? MAX_MESSAGE_BYTES });

  server.on('upgrade', (req, socket, head) => {
    const refused = checkUpgrade(req, path, opts.token);
    if (refused) return refuse(socket, ...refused);
    wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, api, opts.onClientError ?? (() => {})));
  });

  return {
    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

function serveConnection(ws: WebSocket, api: Api, onClientError: (err: Error) => void): void {
  const send = (m: WsMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  const badRequest = (id: number | string | null, message: string): void =>
    send({ type: 'reply', id, ok: false, error: { code: 'bad_request', message } });

  const session = api.connect((event, payload) => send({ type: 'event', event, payload }));
  ws.on('close', () => session.close());
  // A frame over maxPayload (close code 1009), a text frame that is not UTF-8 (1007) or any other
  // protocol fault makes ws emit 'error' after it has started closing this socket with the
  // right code. Without a listener the error is thrown and takes the whole server down, with
  // every other connection and running job: refuse the message, drop this client only.
  ws.on('error', (err) => {
    onClientError(err);
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1011, 'internal error');
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return badRequest(null, 'binary messages are not supported; send JSON text');
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch {
      return badRequest(null, 'message is not valid JSON');
    }
    const env = WsRequest.safeParse(raw);
    if (!env.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      return badRequest(typeof id === 'number' || typeof id === 'string' ? id : null, 'message must be {"id": number|string, "channel": string, "payload": ...}');
    }
    const { id, channel, payload } = env.data;
    void session.handle(channel, payload).then((reply) => send({ type: 'reply', id, ...reply }));
  });
}
