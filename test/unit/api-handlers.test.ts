/**
 * The API boundary without a transport: validation, errors, the job lifecycle and
 * cancellation, over a fake JobRunner (so no worker and no model are needed).
 */
import { describe, expect, it } from 'vitest';
import { createApi, type ApiHost } from '../../src-main/api/handlers';
import type { EventName } from '../../src-main/api/contract';
import { openStore } from '../../src-main/store';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Emitted = { event: EventName; payload: any };

function setup(model: string | null = '/models/m', testChannels = true) {
  const calls: { kind: string; params: unknown }[] = [];
  const runner: ApiHost['runner'] = {
    run: ((kind: string, params: any, opts: { signal?: AbortSignal; onProgress?: (f: number | null, m: string) => void } = {}) => {
      calls.push({ kind, params });
      if (kind === 'debug.sleep') {
        return new Promise<unknown>((resolve, reject) => {
          opts.onProgress?.(0.5, 'half');
          const t = setTimeout(() => resolve({ slept: params.ms }), params.ms);
          opts.signal?.addEventListener('abort', () => {
            clearTimeout(t);
            reject(Object.assign(new Error('cancelled'), { name: 'CancelledError' }));
          });
        });
      }
      if (kind === 'model.predict') return Promise.resolve([{ id: 1, token: 'a', prob: 0.5 }]);
      if (kind === 'model.info') return Promise.resolve({ path: params.model, architecture: 'x', config: {}, parameters: 1, hookPoints: [], vocabSize: 2, extra: 'dropped' });
      return Promise.reject(new Error(`unexpected ${kind}`));
    }) as ApiHost['runner']['run'],
  };
  const api = createApi({ runner, store: openStore(':memory:'), cacheDir: join(tmpdir(), 'sfc-test-cache'), settings: { model, testChannels }, app: { name: 'SFC Workbench', version: '9.9.9', host: 'serve' } });
  const events: Emitted[] = [];
  const waiters: [(e: Emitted) => boolean, (e: Emitted) => void][] = [];
  const session = api.connect((event, payload) => {
    const e = { event, payload };
    events.push(e);
    for (const [pred, ok] of waiters) if (pred(e)) ok(e);
  });
  const end = (jobId: string) =>
    new Promise<Emitted>((ok) => {
      const pred = (e: Emitted) => e.payload.jobId === jobId && e.event !== 'job.progress';
      const seen = events.find(pred);
      if (seen) ok(seen);
      else waiters.push([pred, ok]);
    });
  return { session, calls, events, end };
}

describe('api handlers', () => {
  it('answers app.info and validates it against the contract', async () => {
    const { session } = setup();
    const r = await session.handle('app.info', undefined);
    expect(r).toMatchObject({ ok: true, result: { name: 'SFC Workbench', version: '9.9.9', model: '/models/m', engine: { opset: expect.any(Number) } } });
  });

  it('refuses unknown channels and invalid payloads with bad_request', async () => {
    const { session, calls } = setup();
    expect(await session.handle('nope', {})).toMatchObject({ ok: false, error: { code: 'bad_request', message: /unknown channel/ } });
    expect(await session.handle(42, {})).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    const r = await session.handle('model.predict', { text: 5 });
    expect(r).toMatchObject({ ok: false, error: { code: 'bad_request', issues: [{ path: 'text' }] } });
    expect(await session.handle('job.cancel', { jobId: 'x', more: 1 })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(calls).toEqual([]);
  });

  it('runs a job: {jobId} first, then job.done with the result (defaults applied, extra fields stripped)', async () => {
    const { session, calls, events, end } = setup();
    const r = await session.handle('model.predict', { text: 'hi' });
    expect(r.ok).toBe(true);
    const jobId = (r as any).result.jobId as string;
    expect(events).toEqual([]); // nothing is emitted before the reply
    expect(await end(jobId)).toEqual({ event: 'job.done', payload: { jobId, result: [{ id: 1, token: 'a', prob: 0.5 }] } });
    expect(calls).toEqual([{ kind: 'model.predict', params: { model: '/models/m', text: 'hi', top: 10 } }]);

    const info = await session.handle('model.info', { model: '/other' });
    const done = await end((info as any).result.jobId);
    expect(done.payload.result).not.toHaveProperty('extra');
    expect(done.payload.result.path).toBe('/other');
  });

  it('fails model jobs with not_configured when no model is set', async () => {
    const { session, end } = setup(null);
    const r = await session.handle('model.info', {});
    expect(await end((r as any).result.jobId)).toMatchObject({ event: 'job.failed', payload: { error: { code: 'not_configured' } } });
  });

  it('cancels a job on job.cancel and on session close', async () => {
    const { session, events, end } = setup();
    const a = ((await session.handle('debug.sleep', { ms: 10_000 })) as any).result.jobId;
    await new Promise((r) => setImmediate(r));
    expect(events.some((e) => e.event === 'job.progress' && e.payload.jobId === a)).toBe(true);
    expect(await session.handle('job.cancel', { jobId: a })).toEqual({ ok: true, result: { cancelled: true } });
    expect(await end(a)).toMatchObject({ event: 'job.failed', payload: { error: { code: 'cancelled' } } });
    expect(await session.handle('job.cancel', { jobId: a })).toEqual({ ok: true, result: { cancelled: false } });

    const b = ((await session.handle('debug.sleep', { ms: 10_000 })) as any).result.jobId;
    await new Promise((r) => setImmediate(r));
    session.close();
    expect(await end(b)).toMatchObject({ event: 'job.failed', payload: { error: { code: 'cancelled' } } });
  });

  it('hides the test channels on production hosts', async () => {
    const { session, calls } = setup('/models/m', false);
    const r = await session.handle('debug.sleep', { ms: 1 });
    expect(r).toMatchObject({ ok: false, error: { code: 'bad_request', message: /unknown channel "debug.sleep"/ } });
    expect((r as any).error.message).not.toMatch(/known: .*debug/);
    expect(calls).toHaveLength(0);
  });

  it('bounds the jobs one connection may queue, and frees a place when one ends', async () => {
    const { session, end } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) {
      const r = (await session.handle('debug.sleep', { ms: 10_000 })) as any;
      expect(r.ok).toBe(true);
      ids.push(r.result.jobId);
    }
    expect(await session.handle('debug.sleep', { ms: 1 })).toMatchObject({ ok: false, error: { code: 'busy' } });
    await new Promise((r) => setImmediate(r)); // the jobs have started
    await session.handle('job.cancel', { jobId: ids[0] });
    await end(ids[0]);
    expect(await session.handle('debug.sleep', { ms: 1 })).toMatchObject({ ok: true });
    session.close();
  });
});
