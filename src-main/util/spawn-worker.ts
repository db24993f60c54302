/**
 * Starts a worker thread from a TypeScript entry. From the sources (CLI via tsx, tests) a small
 * boot file registers tsx in the new thread first; in the bundled app (electron-vite) each
 * worker is a sibling entry of the bundle, named `bundledName`.
 */
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function spawnWorker(entry: URL, bundledName: string, callerUrl: string, workerData: Record<string, unknown> = {}): Worker {
  const caller = fileURLToPath(callerUrl);
  if (caller.endsWith('.ts')) {
    const boot = fileURLToPath(new URL('../jobs/worker-boot.mjs', import.meta.url));
    return new Worker(boot, { workerData: { ...workerData, entry: entry.href } });
  }
  return new Worker(join(dirname(caller), bundledName), { workerData });
}
