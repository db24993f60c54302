/**
 * Messages between the job runner (main thread) and the compute worker.
 */
export interface JobRequest {
  type: 'run';
  id: number;
  kind: string;
  params: unknown;
  /** Int32Array(1) over a SharedArrayBuffer: the worker checks it between compute steps. */
  cancel: SharedArrayBuffer;
}

export interface JobProgress {
  type: 'progress';
  id: number;
  /** 0..1, or null when unknown. */
  fraction: number | null;
  message: string;
}

export interface JobDone {
  type: 'done';
  id: number;
  result: unknown;
}

export interface JobFailed {
  type: 'failed';
  id: number;
  error: { name: string; message: string; stack?: string };
}

export type WorkerMessage = JobProgress | JobDone | JobFailed;

export { CancelledError } from '../util/job-context';
