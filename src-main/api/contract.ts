/**
 * The API contract between the UI and the engine: every channel with the zod schemas of its
 * request and response, and every event the engine pushes. Both transports (Electron IPC,
 * WebSocket) and both ends (handlers.ts, the renderer's client) are typed from this one file;
 * the host validates every incoming request against it (see handlers.ts).
 *
 * Two kinds of channel:
 * - `call`: quick; `invoke` replies with the response.
 * - `job`: long (runs in the compute worker); `invoke` replies at once with `{ jobId }`, then
 *   the host emits `job.progress` events and finally `job.done` (whose `result` matches the
 *   channel's response schema) or `job.failed`. `job.cancel` stops it.
 *
 * The renderer imports this file for types only, so zod stays out of the UI bundle.
 */
import { z } from 'zod';

// ---- shared shapes -------------------------------------------------------------------------

export const ModelInfo = z.object({
  path: z.string(),
  architecture: z.string(),
  config: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  parameters: z.number(),
  hookPoints: z.array(z.string()),
  vocabSize: z.number(),
});

export const TokenProb = z.object({ id: z.number().int(), token: z.string(), prob: z.number() });

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  /** Where the host runs: the desktop app or `sfc serve`. */
  host: z.enum(['electron', 'serve']),
  engine: z.object({
    runtime: z.string(),
    /** onnxruntime-node version, null if it could not be determined. */
    runtimeVersion: z.string().nullable(),
    opset: z.number().int(),
  }),
  /** The execution provider jobs run on (SFC_PROVIDER, default cpu). */
  provider: z.string(),
  /** Providers onnxruntime offers on this platform; CPU always works, the others need their
   *  runtime installed (e.g. CUDA on Linux is an opt-in install). */
  providers: z.array(z.string()),
  /** The configured default model folder, or null when none is configured. */
  model: z.string().nullable(),
});

/** Optional per-request model override; absent = the host's configured default model. */
const modelPath = z.string().min(1).max(4096).optional();

export const JobStarted = z.object({ jobId: z.string() });

export const ApiErrorCode = z.enum([
  'bad_request', // unknown channel or a payload that fails its schema
  'not_configured', // e.g. no model configured and none given
  'not_found', // e.g. unknown job id
  'cancelled',
  'failed', // the work itself failed (message says why)
  'internal', // a host bug: the response broke the contract
]);
export const ApiError = z.object({
  code: ApiErrorCode,
  message: z.string(),
  /** For bad_request: where the payload failed validation. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

// ---- channels ------------------------------------------------------------------------------

const call = <Q extends z.ZodType, R extends z.ZodType>(request: Q, response: R) =>
  ({ kind: 'call', request, response }) as const;
const job = <Q extends z.ZodType, R extends z.ZodType>(request: Q, response: R) =>
  ({ kind: 'job', request, response }) as const;

export const channels = {
  'app.info': call(z.object({}).strict(), AppInfo),
  'job.cancel': call(z.object({ jobId: z.string().min(1).max(100) }).strict(), z.object({ cancelled: z.boolean() })),
  'model.info': job(z.object({ model: modelPath }).strict(), ModelInfo),
  'model.predict': job(
    z
      .object({
        model: modelPath,
        text: z.string().min(1, 'text must not be empty').max(10_000),
        top: z.number().int().min(1).max(100).default(10),
      })
      .strict(),
    z.array(TokenProb),
  ),
  /** Diagnostic job (no model needed): sleeps in steps with progress; used to test cancel. */
  'debug.sleep': job(
    z.object({ ms: z.number().int().min(0).max(600_000), steps: z.number().int().min(1).max(10_000).default(10) }).strict(),
    z.object({ slept: z.number() }),
  ),
} as const;

// ---- events (host → UI) --------------------------------------------------------------------

export const events = {
  'job.progress': z.object({ jobId: z.string(), fraction: z.number().nullable(), message: z.string() }),
  'job.done': z.object({ jobId: z.string(), result: z.unknown() }),
  'job.failed': z.object({ jobId: z.string(), error: ApiError }),
} as const;

// ---- derived types -------------------------------------------------------------------------

type Channels = typeof channels;
export type ChannelName = keyof Channels;
export type CallName = { [C in ChannelName]: Channels[C]['kind'] extends 'call' ? C : never }[ChannelName];
export type JobName = { [C in ChannelName]: Channels[C]['kind'] extends 'job' ? C : never }[ChannelName];
/** What a caller sends (defaults may be omitted). */
export type Request<C extends ChannelName> = z.input<Channels[C]['request']>;
/** What a handler receives (after validation and defaults). */
export type ParsedRequest<C extends ChannelName> = z.output<Channels[C]['request']>;
export type Response<C extends ChannelName> = z.output<Channels[C]['response']>;
export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;
export type ApiError = z.output<typeof ApiError>;
export type ApiErrorCode = z.output<typeof ApiErrorCode>;
export type AppInfo = z.output<typeof AppInfo>;
export type ModelInfo = z.output<typeof ModelInfo>;
export type TokenProb = z.output<typeof TokenProb>;

/** Every invoke, on either transport, answers with one of these (never throws across). */
export type Reply<T = unknown> = { ok: true; result: T } | { ok: false; error: ApiError };

/** What the preload exposes as `window.sfc`; the WebSocket client implements the same. */
export interface SfcBridge {
  invoke(channel: string, payload: unknown): Promise<Reply>;
  on(event: EventName, cb: (payload: unknown) => void): () => void;
}

export const isChannel = (name: unknown): name is ChannelName =>
  typeof name === 'string' && Object.hasOwn(channels, name);

// ---- WebSocket framing (the IPC transport needs none: Electron frames its messages) ---------

export const WsRequest = z.object({
  /** Chosen by the client to match the reply; unique per connection. */
  id: z.union([z.number().int(), z.string().max(100)]),
  channel: z.string().max(200),
  payload: z.unknown().optional(),
});
export type WsRequest = z.output<typeof WsRequest>;
export type WsMessage =
  | ({ type: 'reply'; id: number | string | null } & Reply)
  | { type: 'event'; event: EventName; payload: unknown };
