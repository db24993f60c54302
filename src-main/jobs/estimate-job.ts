/**
 * The estimate shown before a discovery starts: expected time and peak memory from the model
 * and SAE shapes, the data's token count, the IG steps and this machine's measured MatMul rate
 * (circuits/cost.ts), and a refusal when the run will not fit in memory. It loads the model
 * (small, and needed by the run anyway) but never the SAE weights: their sizes come from the
 * files. How the constants were measured: docs/store.md, "Estimates".
 */
import { statSync } from 'node:fs';
import { discoveryFlops } from '../circuits/cost';
import { planSaeSet } from '../saes/load';
import type { JobContext } from '../util/job-context';
import type { WorkerParams } from '../api/contract';
import { loadExamples } from './circuit-jobs';
import { runtime } from './runtime';
import { memoryPlan } from './memory';

/**
 * Calibrated on this VM (docs/store.md, "Estimates"): a whole discovery runs at about 1.5× its
 * FLOP floor at Pythia scale, plus costs the floor does not see, which dominate on small models:
 * per session call (IG steps per submodule per batch), per token and submodule (sparse
 * bookkeeping of node effects) and, with edges, per token and submodule again.
 */
const FLOOR_MULTIPLE = 1.5;
const SECONDS_PER_CALL = 3.5e-4;
const NODE_SECONDS_PER_TOKEN_SUBMODULE = 1.5e-4;
const EDGE_SECONDS_PER_TOKEN_SUBMODULE = 0.8e-4;
/** Reading SAE weights that are not loaded yet (bytes per second, warm page cache). */
const LOAD_BYTES_PER_SECOND = 1.5e9;
/** Working memory per token of a batch, per submodule: activations, IG steps, gradients. */
const BYTES_PER_TOKEN_SUBMODULE = (d: number, steps: number): number => 4 * d * (steps + 6);

export async function estimateJob(p: WorkerParams<'circuit.estimate'>, job: JobContext) {
  const rt = runtime();
  job.progress(null, 'reading the model');
  const m = await rt.model(p.model);
  const c = m.cfg;
  const D = c.hiddenSize;
  const subs = m.hookPoints;
  let features: { submodule: string; f: number }[];
  let saeBytes = 0;
  const loaded = p.neurons || !p.saes ? null : rt.loadedSaes(p.saes, { submodules: subs, d: D });
  if (p.neurons || !p.saes) features = subs.map((submodule) => ({ submodule, f: D }));
  else if (loaded) {
    const set = await loaded;
    features = subs.map((submodule) => ({ submodule, f: set.get(submodule)!.f }));
  } else {
    // Unloaded: encoder + decoder dominate each file (2·D·F floats), so F ≈ bytes / (8·D).
    const { paths } = planSaeSet(p.saes, { submodules: subs, d: D, layers: c.numLayers });
    features = subs.map((submodule) => {
      const bytes = statSync(paths.get(submodule)!).size;
      saeBytes += bytes;
      return { submodule, f: Math.max(1, Math.round(bytes / (8 * D))) };
    });
  }
  job.checkCancelled();
  job.progress(null, 'reading the data');
  const { examples } = loadExamples({ model: m }, p.data, p.nopair, p.n, p.seed, p.exampleLength);
  if (!examples.length) throw new Error(`${p.data}: no usable examples with these settings`);
  const tokens = examples.reduce((s, e) => s + e.clean.length, 0);
  const seqLen = Math.max(...examples.map((e) => e.clean.length));
  job.progress(null, 'measuring this machine');
  const gflops = await rt.matmulRate();
  const steps = p.method === 'ig' ? p.steps : 1;
  const flops = discoveryFlops({ hiddenSize: D, intermediateSize: c.intermediateSize, numLayers: c.numLayers, features }, tokens, seqLen, steps);
  const batches = Math.ceil(examples.length / p.batchSize);
  const calls = batches * subs.length * (steps + 3);
  const perTokenSubmodule = NODE_SECONDS_PER_TOKEN_SUBMODULE + (p.nodesOnly ? 0 : EDGE_SECONDS_PER_TOKEN_SUBMODULE);
  const seconds = (flops / (gflops * 1e9)) * FLOOR_MULTIPLE + calls * SECONDS_PER_CALL + tokens * subs.length * perTokenSubmodule + saeBytes / LOAD_BYTES_PER_SECOND;

  const batchTokens = Math.min(examples.length, p.batchSize) * seqLen * 2; // clean and patch
  const working = batchTokens * subs.length * BYTES_PER_TOKEN_SUBMODULE(D, steps) + batchTokens * Math.max(...features.map((f) => f.f)) * 4 * 2;
  // The same account the run checks before it loads anything (jobs/memory.ts): the dictionaries
  // from their headers (float32 once loaded), the model already in this worker's RSS.
  const plan = memoryPlan({ model: p.model, saes: p.saes, neurons: p.neurons }, working);
  const limit = Number(process.env.SFC_MEMORY_LIMIT);
  const gb = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;
  return {
    seconds,
    peakBytes: plan.peakBytes,
    availableBytes: plan.availableBytes,
    fits: plan.fits,
    reason: plan.fits
      ? null
      : `needs about ${gb(plan.peakBytes)} at its peak but about ${gb(plan.availableBytes)} is available (${plan.parts}): lower the batch size (${p.batchSize}) or close other programs${Number.isFinite(limit) && limit > 0 ? ' (SFC_MEMORY_LIMIT is set)' : ''}`,
    gflops,
    tokens,
    memory: { modelBytes: plan.modelBytes, saeBytes: plan.saeBytes, runBytes: plan.runBytes, baseBytes: plan.baseBytes },
  };
}
