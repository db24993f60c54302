/**
 * The one place where every channel of the contract gets its handler, and the boundary where
 * every incoming message is validated. Transports (Electron IPC, WebSocket) only move bytes:
 * each connection opens an ApiSession and passes it (channel, payload) pairs untouched.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { z } from 'zod';
import { OPSET } from '../engine/onnx';
import type { JobRunner } from '../jobs/runner';
import {
  channels,
  isChannel,
  type ApiError,
  type ApiErrorCode,
  type ChannelName,
  type EventName,
  type EventPayload,
  type ParsedRequest,
  type Reply,
  type Response,
} from './contract';

export interface ApiSettings {
  /** Default model folder for model.* channels; null when none is configured. */
  model: string | null;
}

export interface ApiHost {
  runner: Pick<JobRunner, 'run'>;
  settings: ApiSettings;
  app: { name: string; version: string; host: 'electron' | 'serve' };
}

export type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** One connected UI (a window, a WebSocket). Closing it cancels the jobs it started. */
export interface ApiSession {
  handle(channel: unknown, payload: unknown): Promise<Reply>;
  close(): void;
}

export interface Api {
  connect(emit: Emit): ApiSession;
}

/** An error with a contract error code; anything else thrown by a handler becomes 'failed'. */
export class ApiFailure extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

interface HandlerContext {
  signal: AbortSignal;
  progress(fraction: number | null, message: string): void;
  /** Cancels a job of this session; false if it is unknown or already finished. */
  cancelJob(jobId: string): boolean;
}

type Handlers = { [C in ChannelName]: (req: ParsedRequest<C>, ctx: HandlerContext) => Promise<Response<C>> };

const PLATFORM_PROVIDER: Partial<Record<NodeJS.Platform, string>> = { linux: 'cuda', win32: 'dml', darwin: 'coreml' };

function runtimeVersion(): string | null {
  try {
    // Read at run time: onnxruntime-node stays external to the bundle (it is native).
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return null;
  }
}

export function createApi(host: ApiHost): Api {
  const modelPath = (override: string | undefined): string => {
    const m = override ?? host.settings.model;
    if (!m) {
      throw new ApiFailure('not_configured', 'No model configured: start with --model DIR, or pass "model" in the request.');
    }
    return m;
  };
  const jobOpts = (ctx: HandlerContext) => ({ signal: ctx.signal, onProgress: ctx.progress });

  const handlers: Handlers = {
    async 'app.info'() {
      const extra = PLATFORM_PROVIDER[process.platform];
      return {
        ...host.app,
        engine: { runtime: 'onnxruntime-node', runtimeVersion: runtimeVersion(), opset: OPSET },
        // The worker reads the same variable (jobs/runtime.ts).
        provider: process.env.SFC_PROVIDER ?? 'cpu',
        providers: extra ? ['cpu', extra] : ['cpu'],
        model: host.settings.model,
      };
    },
    async 'job.cancel'({ jobId }, ctx) {
      return { cancelled: ctx.cancelJob(jobId) };
    },
    async 'model.info'({ model }, ctx) {
      return host.runner.run('model.info', { model: modelPath(model) }, jobOpts(ctx));
    },
    async 'model.predict'({ model, text, top }, ctx) {
      return host.runner.run('model.predict', { model: modelPath(model), text, top }, jobOpts(ctx));
    },
    async 'debug.sleep'({ ms, steps }, ctx) {
      return host.runner.run('sleep', { ms, steps }, jobOpts(ctx));
    },
  };

  return {
    connect(emit) {
      const jobs = new Map<string, AbortController>();
      const cancelJob = (jobId: string): boolean => {
        const c = jobs.get(jobId);
        c?.abort();
        return !!c;
      };

      /** Runs a handler and checks its result against the contract. */
      async function execute(name: ChannelName, req: unknown, ctx: HandlerContext): Promise<unknown> {
        const result = await (handlers[name] as (r: unknown, c: HandlerContext) => Promise<unknown>)(req, ctx);
        const checked = channels[name].response.safeParse(result);
        if (!checked.success) {
          throw new ApiFailure('internal', `'${name}' produced a response that breaks the contract: ${formatIssues(checked.error).map((i) => `${i.path}: ${i.message}`).join('; ')}`);
        }
        return checked.data;
      }

      return {
        async handle(channel, payload) {
          if (!isChannel(channel)) {
            return fail('bad_request', `unknown channel ${JSON.stringify(channel)}; known: ${Object.keys(channels).join(', ')}`);
          }
          const spec = channels[channel];
          const parsed = spec.request.safeParse(payload ?? {});
          if (!parsed.success) {
            const issues = formatIssues(parsed.error);
            const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
            return { ok: false, error: { code: 'bad_request', message: `invalid request for '${channel}': ${summary}`, issues } };
          }

          if (spec.kind === 'call') {
            const ctx: HandlerContext = { signal: new AbortController().signal, progress: () => {}, cancelJob };
            try {
              return { ok: true, result: await execute(channel, parsed.data, ctx) };
            } catch (e) {
              return { ok: false, error: toApiError(e) };
            }
          }

          const jobId = randomUUID();
          const controller = new AbortController();
          jobs.set(jobId, controller);
          const ctx: HandlerContext = {
            signal: controller.signal,
            progress: (fraction, message) => emit('job.progress', { jobId, fraction, message }),
            cancelJob,
          };
          // Start on the next turn so the `{ jobId }` reply is sent before any job event: both
          // transports deliver in order, so a client always knows the id before its events.
          setImmediate(() => {
            // Forget the job before announcing its end, so a cancel after the end says false.
            execute(channel, parsed.data, ctx).then(
              (result) => (jobs.delete(jobId), emit('job.done', { jobId, result })),
              (e: unknown) => (jobs.delete(jobId), emit('job.failed', { jobId, error: toApiError(e) })),
            );
          });
          return { ok: true, result: { jobId } };
        },
        close() {
          for (const c of jobs.values()) c.abort();
          jobs.clear();
        },
      };
    },
  };
}

function fail(code: ApiErrorCode, message: string): Reply {
  return { ok: false, error: { code, message } };
}

function formatIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiFailure) return { code: e.code, message: e.message };
  if (e instanceof Error && e.name === 'CancelledError') return { code: 'cancelled', message: 'cancelled' };
  return { code: 'failed', message: e instanceof Error ? e.message : String(e) };
}
