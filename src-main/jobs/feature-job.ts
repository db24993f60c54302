/** The `feature.examples` job: the contexts of a dataset where one feature is most active. */
import { topActivations } from '../circuits/feature-examples';
import type { JobContext } from '../util/job-context';
import type { WorkerParams, WorkerResult } from '../api/contract';
import { loadContext, loadExamples } from './circuit-jobs';

export async function featureExamplesJob(p: WorkerParams<'feature.examples'>, job: JobContext): Promise<WorkerResult<'feature.examples'>> {
  const { ctx } = await loadContext(p.model, p.saes, p.neurons, job);
  const { examples } = loadExamples(ctx, p.data, p.nopair, p.n, p.seed);
  // Clean and patch prefixes: the contexts the circuit was measured on.
  const seqs = examples.flatMap((e) => (e.patch ? [e.clean, e.patch] : [e.clean]));
  const { contexts, scanned, active } = await topActivations(ctx, seqs, p.submodule, p.feature, { top: p.top, job });
  const tok = ctx.model.tokenizer!;
  return {
    scanned,
    active,
    contexts: contexts.map((c) => ({ tokens: c.ids.map((id) => tok.tokenString(id)), position: c.position, activation: c.activation, values: c.values })),
  };
}
