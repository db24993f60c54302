/**
 * Job handlers, run inside the compute worker. Each takes typed params and a JobContext.
 */
import type { JobContext } from '../util/job-context';
import type { JobKind, JobParams, JobResult } from './kinds';
import { modelInfo, runtime } from './runtime';
import { discoverJob, evaluateJob, generateDataJob } from './circuit-jobs';

type Handlers = { [K in JobKind]: (params: JobParams<K>, ctx: JobContext) => Promise<JobResult<K>> };

export const HANDLERS: Handlers = {
  async ping({ echo }) {
    return { echo, pid: process.pid };
  },
  async sleep({ ms, steps }, ctx) {
    for (let i = 0; i < steps; i++) {
      ctx.checkCancelled();
      await new Promise((r) => setTimeout(r, ms / steps));
      ctx.progress((i + 1) / steps, `step ${i + 1}/${steps}`);
    }
    return { slept: ms };
  },
  async 'model.info'({ model }) {
    return modelInfo(await runtime().model(model));
  },
  async 'model.predict'({ model, text, top }) {
    const m = await runtime().model(model);
    return m.predictNext(text, top);
  },
  'circuit.discover': discoverJob,
  'circuit.evaluate': evaluateJob,
  'data.generate': generateDataJob,
};
