/**
 * The typed API client the UI uses. It runs over `window.sfc` (the Electron preload) when
 * present, otherwise over a WebSocket to `sfc serve` with the token from the page URL.
 * Job channels resolve when their `job.done` event arrives; progress goes to a callback.
 */
import type {
  ApiError,
  CallName,
  EventName,
  EventPayload,
  JobName,
  Request,
  Response,
  SfcBridge,
} from '../../../src-main/api/contract';
import { connectWebSocket, type ConnectionStatus } from './ws-bridge';

export type { ConnectionStatus };

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser. */
    sfc?: SfcBridge;
  }
}

export class ApiCallError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
    this.name = 'ApiCallError';
  }
}

interface PendingJob {
  resolve(result: unknown): void;
  reject(e: Error): void;
  onProgress?: (fraction: number | null, message: string) => void;
}

/** The store's import cap (src-main/store/import.ts); the WebSocket server takes messages that size. */
export const MAX_IMPORT_BYTES = 64 << 20;

export interface JobOptions {
  onProgress?: (fraction: number | null, message: string) => void;
  signal?: AbortSignal;
}

export class ApiClient {
  private readonly jobs = new Map<string, PendingJob>();

  /** @param transport IPC (the desktop app) or the served UI's WebSocket. */
  constructor(
    private readonly bridge: SfcBridge,
    readonly transport: 'ipc' | 'ws' = 'ipc',
  ) {
    bridge.on('job.progress', (p) => {
      const { jobId, fraction, message } = p as EventPayload<'job.progress'>;
      this.jobs.get(jobId)?.onProgress?.(fraction, message);
    });
    bridge.on('job.done', (p) => {
      const { jobId, result } = p as EventPayload<'job.done'>;
      this.jobs.get(jobId)?.resolve(result);
      this.jobs.delete(jobId);
    });
    bridge.on('job.failed', (p) => {
      const { jobId, error } = p as EventPayload<'job.failed'>;
      this.jobs.get(jobId)?.reject(new ApiCallError(error));
      this.jobs.delete(jobId);
    });
  }

  /** Listens to a host event (e.g. the desktop menu's `app.command`); returns the unsubscribe. */
  on<E extends EventName>(event: E, cb: (payload: EventPayload<E>) => void): () => void {
    return this.bridge.on(event, (p) => cb(p as EventPayload<E>));
  }

  /** A dropped file's path in the desktop app (the preload's webUtils); null in the browser. */
  pathForFile(file: File): string | null {
    try {
      return this.bridge.pathForFile?.(file) || null;
    } catch {
      return null; // not a file from disk (e.g. made by a page script)
    }
  }

  async call<C extends CallName>(channel: C, request: Request<C>): Promise<Response<C>> {
    const reply = await this.bridge.invoke(channel, request);
    if (!reply.ok) throw new ApiCallError(reply.error);
    return reply.result as Response<C>;
  }

  async job<C extends JobName>(channel: C, request: Request<C>, opts: JobOptions = {}): Promise<Response<C>> {
    const reply = await this.bridge.invoke(channel, request);
    if (!reply.ok) throw new ApiCallError(reply.error);
    const { jobId } = reply.result as { jobId: string };
    // Registered in the same turn the reply arrives; the host sends job events only after
    // the reply, so none can be missed.
    return new Promise<Response<C>>((resolve, reject) => {
      this.jobs.set(jobId, { resolve: resolve as (r: unknown) => void, reject, onProgress: opts.onProgress });
      opts.signal?.addEventListener('abort', () => void this.call('job.cancel', { jobId }).catch(() => {}), { once: true });
    });
  }
}

/** Picks the transport: the preload's bridge in Electron, else a WebSocket to `sfc serve`. */
export function connect(onStatus: (status: ConnectionStatus, detail?: string) => void): ApiClient | null {
  if (window.sfc) {
    onStatus('connected', 'Electron IPC');
    return new ApiClient(window.sfc);
  }
  const token = new URLSearchParams(location.search).get('token');
  if (!token) {
    onStatus('error', 'no token in the page URL: open the URL that `sfc serve` printed');
    return null;
  }
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`;
  return new ApiClient(connectWebSocket(url, onStatus));
}
