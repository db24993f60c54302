/**
 * Runs jobs in the compute worker: typed promises, progress callbacks, cancellation through an
 * AbortSignal (forwarded to the worker as a shared flag it polls between compute steps).
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../util/spawn-worker';
import type { WorkerJobName, WorkerParams, WorkerResult } from '../api/contract';
import { CancelledError, type JobRequest, type WorkerMessage } from './protocol';

export interface RunOptions {
  onProgress?: (fraction: number | null, message: string) => void;
  signal?: AbortSignal;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?: RunOptions['onProgress'];
}

export class JobRunner {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  run<K extends WorkerJobName>(kind: K, params: WorkerParams<K>, opts: RunOptions = {}): Promise<WorkerResult<K>> {
    if (opts.signal?.aborted) return Promise.reject(new CancelledError());
    const w = this.ensureWorker();
    w.ref(); // keep the process alive while a job is pending
    const id = this.nextId++;
    const cancel = new SharedArrayBuffer(4);
    const flag = new Int32Array(cancel);
    return new Promise<WorkerResult<K>>((resolve, reject) => {
      const onAbort = (): void => {
        Atomics.store(flag, 0, 1);
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => opts.signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (v) => (done(), resolve(v as WorkerResult<K>)),
        reject: (e) => (done(), reject(e)),
        onProgress: opts.onProgress,
      });
      const req: JobRequest = { type: 'run', id, kind, params, cancel };
      w.postMessage(req);
    });
  }

  /** Stops the worker; pending jobs fail. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    this.failAll(new Error('job runner closed'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = spawnWorker(new URL('./worker.ts', import.meta.url), 'compute-worker.js', import.meta.url);
    w.on('message', (m: WorkerMessage) => this.onMessage(m));
    w.on('error', (e) => this.failAll(new Error(`compute worker crashed: ${e.message}`)));
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = null;
      if (code !== 0) this.failAll(new Error(`compute worker exited with code ${code}`));
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private onMessage(m: WorkerMessage): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') {
      p.onProgress?.(m.fraction, m.message);
      return;
    }
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (m.type === 'done') p.resolve(m.result);
    else {
      const e = m.error.name === 'CancelledError' ? new CancelledError(m.error.message) : new Error(m.error.message);
      if (m.error.name !== 'CancelledError') e.name = m.error.name;
      p.reject(e);
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
