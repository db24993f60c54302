import { CancelledError } from './protocol';

/** What a long computation gets: a way to report progress and to notice cancellation. */
export interface JobContext {
  progress(fraction: number | null, message: string): void;
  /** Throws CancelledError once the caller has cancelled. Call it between compute steps. */
  checkCancelled(): void;
}

export const noopContext: JobContext = { progress: () => {}, checkCancelled: () => {} };

export function sharedFlagContext(flag: Int32Array, progress: JobContext['progress']): JobContext {
  return {
    progress,
    checkCancelled() {
      if (Atomics.load(flag, 0) !== 0) throw new CancelledError();
    },
  };
}
