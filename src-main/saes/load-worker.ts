/**
 * Loads single SAEs in a worker thread (see load-parallel.ts); the arrays come back transferred,
 * not copied. Nothing is mapped here: a mapping belongs to the thread that made it.
 */
import { parentPort } from 'node:worker_threads';
import { SAE_LAYOUTS, detectSaeLayout } from './load';
import type { Sae } from './types';

export interface LoadRequest {
  id: number;
  dir: string;
  path: string;
  normalizeDecoder?: boolean;
  run?: string;
}

export type LoadReply = { id: number; sae: Sae; notes: string[] } | { id: number; error: string };

export function transferList(sae: Sae): ArrayBuffer[] {
  const bufs = new Set<ArrayBuffer>();
  for (const a of [sae.enc, sae.bEnc, sae.dec, sae.bDec, sae.threshold]) if (a && a.buffer instanceof ArrayBuffer) bufs.add(a.buffer);
  return [...bufs];
}

const port = parentPort;
if (port) {
  port.on('message', (req: LoadRequest) => {
    try {
      const plan = detectSaeLayout(req.dir, SAE_LAYOUTS);
      const { sae, notes } = plan.load(req.path, { submodules: [], d: 0, normalizeDecoder: req.normalizeDecoder, run: req.run, mapWeights: false });
      port.postMessage({ id: req.id, sae, notes } satisfies LoadReply, transferList(sae));
    } catch (e) {
      port.postMessage({ id: req.id, error: (e as Error).message } satisfies LoadReply);
    }
  });
}
