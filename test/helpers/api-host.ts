/**
 * `sfc serve` in this process (the real API, worker and store) on a temporary database, with a
 * stub renderer folder so the tests do not need the built UI, and a WebSocket client.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src-main/cli/commands/serve';
import { ApiSocket } from '../e2e/ws-client';

export function stubRenderer(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sfc-renderer-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>stub</title>');
  return dir;
}

export interface Hosted {
  server: RunningServer;
  api: ApiSocket;
  close(): Promise<void>;
}

export async function host(db: string): Promise<Hosted> {
  mkdirSync(join(db, '..'), { recursive: true });
  const server = await startServer({ db, rendererDir: stubRenderer() });
  const api = await ApiSocket.open({ url: server.url, origin: `http://127.0.0.1:${server.port}`, token: server.token, stop: async () => {} });
  return {
    server,
    api,
    async close() {
      api.close();
      await server.close();
    },
  };
}

/** Calls a channel and returns its result, failing the test with the API's message otherwise. */
export async function ok<T = any>(api: ApiSocket, channel: string, payload?: unknown): Promise<T> {
  const r = await api.call(channel, payload);
  if (!r.ok) throw new Error(`${channel} failed: ${r.error.code}: ${r.error.message}`);
  return r.result as T;
}

/** Starts a job and waits for its end; returns the job.done result or throws job.failed's error. */
export async function runJob<T = any>(api: ApiSocket, channel: string, payload: unknown): Promise<{ result: T; progress: number }> {
  const { jobId } = await ok<{ jobId: string }>(api, channel, payload);
  const end = await api.nextEvent((e) => (e.payload as any).jobId === jobId && e.event !== 'job.progress');
  const progress = api.events.filter((e) => e.event === 'job.progress' && (e.payload as any).jobId === jobId).length;
  if (end.event === 'job.failed') throw Object.assign(new Error((end.payload as any).error.message), { code: (end.payload as any).error.code });
  return { result: (end.payload as any).result as T, progress };
}

export const demoLines = (name: string): Record<string, string>[] =>
  readFileSync(join(process.cwd(), 'resources', 'demo', 'data', name), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, string>);
