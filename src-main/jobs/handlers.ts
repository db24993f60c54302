/**
 * Job handlers, run inside the compute worker: one per entry of `workerJobs` in
 * api/contract.ts, which also validates their parameters (worker.ts).
 */
import type { JobContext } from '../util/job-context';
import type { WorkerJobName, WorkerParams, WorkerResult } from '../api/contract';
import { modelInfo, runtime } from './runtime';
import { estimateJob } from './estimate-job';
import { featureExamplesJob } from './feature-job';
import { ablateJob, discoverJob, evaluateJob, generateDataJob } from './circuit-jobs';
import { probeTrainJob, shiftDiscoverJob, shiftFeaturesJob, shiftRunJob } from './shift-jobs';
import { hubFetchJob } from './hub-job';

type Handlers = { [K in WorkerJobName]: (params: WorkerParams<K>, ctx: JobContext) => Promise<WorkerResult<K>> };

export const HANDLERS: Handlers = {
  async 'debug.sleep'({ ms, steps }, ctx) {
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
  'hub.fetch': hubFetchJob,
  'circuit.estimate': estimateJob,
  'feature.examples': featureExamplesJob,
  'circuit.evaluate': evaluateJob,
  'circuit.ablate': ablateJob,
  'data.generate': generateDataJob,
  'probe.train': probeTrainJob,
  'shift.discover': shiftDiscoverJob,
  'shift.features': shiftFeaturesJob,
  'shift.run': shiftRunJob,
};
