/**
 * loadSaeSet, fast. Where weights can be mapped from their files (the native addon, outside
 * Electron), loading is mostly the decoder transpose and runs right here: a mapping belongs to
 * the thread that made it. Elsewhere reading, CRC checks and the transpose of each file run in a
 * small worker pool (arrays are transferred back, so nothing is held twice). Same checks and
 * errors either way.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { type LoadSaeSetOptions, acceptSae, loadSaeSet, planSaeSet } from './load';
import { canMapFiles } from '../engine/native-kernels';
import type { LoadReply, LoadRequest } from './load-worker';
import type { Sae, SaeSet, Submodule } from './types';
import { spawnWorker } from '../util/spawn-worker';

export async function loadSaeSetParallel(dir: string, opts: LoadSaeSetOptions, threads = Math.min(2, availableParallelism())): Promise<SaeSet> {
  if (opts.mapWeights !== false && canMapFiles()) return loadSaeSet(dir, opts);
  const { paths } = planSaeSet(dir, opts);
  const subs = [...opts.submodules];
  const results = new Map<Submodule, { sae: Sae; notes: string[] }>();
  const workers: Worker[] = [];
  try {
    let next = 0;
    const runOne = async (w: Worker): Promise<void> => {
      while (next < subs.length) {
        const i = next++;
        const sub = subs[i];
        const req: LoadRequest = { id: i, dir, path: paths.get(sub)!, normalizeDecoder: opts.normalizeDecoder, run: opts.run };
        const reply = await new Promise<LoadReply>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
          w.postMessage(req);
        });
        w.removeAllListeners('error');
        if ('error' in reply) throw new Error(reply.error);
        results.set(sub, { sae: reply.sae, notes: reply.notes });
        opts.onProgress?.(results.size, subs.length, sub);
      }
    };
    for (let t = 0; t < Math.max(1, Math.min(threads, subs.length)); t++) {
      workers.push(spawnWorker(new URL('./load-worker.ts', import.meta.url), 'sae-load-worker.js', import.meta.url));
    }
    await Promise.all(workers.map(runOne));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  // Accept in model order (checks widths, forwards notes), exactly as the sequential loader.
  const set: SaeSet = new Map();
  const quiet = { ...opts, onProgress: undefined };
  for (const sub of subs) acceptSae(set, sub, results.get(sub)!.sae, results.get(sub)!.notes, quiet);
  return set;
}
