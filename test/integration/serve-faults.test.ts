/**
 * `sfc serve` under a misbehaving client: a frame over the size limit or a text frame that is
 * not UTF-8 closes that client's socket with the matching close code, and the server keeps
 * serving the other connections (before, the socket had no 'error' listener and the thrown
 * error ended the process).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningServer, startServer } from '../../src-main/cli/commands/serve';
import { MAX_MESSAGE_BYTES } from '../../src-main/api/ws-server';

let root: string;
let server: RunningServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sfc-serve-faults-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  server = await startServer({ rendererDir: root });
});
afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

function connect(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
  return new Promise((ok, fail) => {
    ws.once('open', () => ok(ws));
    ws.once('error', fail);
  });
}

/** Resolves with the close code the server sent. */
function closed(ws: WebSocket): Promise<number> {
  ws.on('error', () => {}); // the client may see the reset after the close frame
  return new Promise((ok) => ws.once('close', (code) => ok(code)));
}

async function appInfo(ws: WebSocket): Promise<unknown> {
  const reply = new Promise<unknown>((ok) => ws.once('message', (d) => ok(JSON.parse(String(d)))));
  ws.send(JSON.stringify({ id: 1, channel: 'app.info', payload: null }));
  return reply;
}

describe('sfc serve: one faulty client', () => {
  it('a frame over the size limit (128 MiB + 1 MiB) closes that socket with 1009; the others are still served', async () => {
    const good = await connect();
    const bad = await connect();
    const code = closed(bad);
    bad.send('x'.repeat(MAX_MESSAGE_BYTES + 1));
    expect(await code).toBe(1009);
    expect(good.readyState).toBe(WebSocket.OPEN);
    expect(await appInfo(good)).toMatchObject({ type: 'reply', id: 1, ok: true });
    // New connections are still accepted.
    const again = await connect();
    expect(await appInfo(again)).toMatchObject({ ok: true });
    good.close();
    again.close();
  });

  it('a text frame that is not valid UTF-8 closes that socket with 1007; the others are still served', async () => {
    const good = await connect();
    const bad = await connect();
    const code = closed(bad);
    bad.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await code).toBe(1007);
    expect(await appInfo(good)).toMatchObject({ type: 'reply', id: 1, ok: true });
    good.close();
  });
});
