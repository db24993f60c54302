/**
 * What a long computation gets: a way to report progress and to notice cancellation. It lives
 * below circuits/ so the method never imports from jobs/ (the worker only provides one).
 */

export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

export interface JobContext {
  progress(fraction: number | null, message: string): void;
  /** Throws CancelledError once the caller has cancelled. Call it between compute steps. */
  checkCancelled(): void;
}

export const noopContext: JobContext = { progress: () => {}, checkCancelled: () => {} };

/** A context whose cancel flag is an Int32Array over a SharedArrayBuffer (set by another thread). */
export function sharedFlagContext(flag: Int32Array, progress: JobContext['progress']): JobContext {
  return {
    progress,
    checkCancelled() {
      if (Atomics.load(flag, 0) !== 0) throw new CancelledError();
    },
  };
}
