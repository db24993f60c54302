/**
 * Runs one job in the compute worker for a CLI command: progress on stderr (a single updating
 * line on a terminal), Ctrl-C cancels the job cleanly.
 */
import { JobRunner } from '../jobs/runner';
import type { WorkerJobName, WorkerParams, WorkerResult } from '../api/contract';

export async function runCliJob<K extends WorkerJobName>(kind: K, params: WorkerParams<K>, opts: { quiet?: boolean } = {}): Promise<WorkerResult<K>> {
  const runner = new JobRunner();
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\nsfc: cancelling… (Ctrl-C again to force)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const tty = process.stderr.isTTY;
  let lastLine = '';
  try {
    return await runner.run(kind, params, {
      signal: abort.signal,
      onProgress: (fraction, message) => {
        if (opts.quiet) return;
        const pct = fraction === null ? '' : `${(fraction * 100).toFixed(0).padStart(3)}% `;
        const line = `${pct}${message}`;
        if (line === lastLine) return;
        lastLine = line;
        process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      },
    });
  } finally {
    if (tty && lastLine) process.stderr.write('\n');
    process.off('SIGINT', onSigint);
    await runner.close();
  }
}
