/**
 * The compute worker: owns the onnxruntime sessions and loaded models, runs one job at a time.
 * onnxruntime's session.run blocks its thread, which is why all of this lives off the main one.
 */
import { parentPort } from 'node:worker_threads';
import { HANDLERS } from './handlers';
import { workerJobs, type WorkerJobName } from '../api/contract';
import { sharedFlagContext } from '../util/job-context';
import type { JobRequest, WorkerMessage } from './protocol';

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;
const post = (m: WorkerMessage): void => port.postMessage(m);

let queue: Promise<void> = Promise.resolve();

port.on('message', (req: JobRequest) => {
  queue = queue.then(() => runOne(req));
});

async function runOne(req: JobRequest): Promise<void> {
  const flag = new Int32Array(req.cancel);
  let last = 0;
  const ctx = sharedFlagContext(flag, (fraction, message) => {
    const now = Date.now();
    if (now - last < 50 && fraction !== 1) return; // at most ~20 progress messages a second
    last = now;
    post({ type: 'progress', id: req.id, fraction, message });
  });
  try {
    if (!Object.hasOwn(workerJobs, req.kind)) throw new Error(`unknown job kind '${req.kind}'`);
    const kind = req.kind as WorkerJobName;
    // The worker's own boundary: parameters are checked against the contract here too, so a
    // caller that skips the API (the CLI) cannot hand a job a malformed request.
    const parsed = workerJobs[kind].params.safeParse(req.params);
    if (!parsed.success) {
      throw new Error(`invalid parameters for job '${kind}': ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    ctx.checkCancelled();
    const result = await (HANDLERS[kind] as (p: unknown, c: typeof ctx) => Promise<unknown>)(parsed.data, ctx);
    post({ type: 'done', id: req.id, result });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ type: 'failed', id: req.id, error: { name: err.name, message: err.message, stack: err.stack } });
  }
}
