/**
 * Where a feature is most active: the contexts the Inspector shows beside a node. Runs the
 * model over the given sequences, encodes the submodule's activations with its SAE, and keeps
 * the sequences whose strongest activation of the feature is largest, with the value at every
 * token (so the UI can highlight them). The error node's "activation" is the norm of the SAE
 * error at that token.
 */
import type { JobContext } from '../util/job-context';
import { type CircuitContext, decompose, saeOf } from './state';

export interface FeatureContext {
  /** Index of the sequence in the input list. */
  sequence: number;
  /** Token ids of the sequence (the UI turns them into strings). */
  ids: number[];
  /** Where the activation is largest, and its value. */
  position: number;
  activation: number;
  /** The activation at every token of the sequence. */
  values: number[];
}

export async function topActivations(
  ctx: CircuitContext,
  sequences: number[][],
  submodule: string,
  feature: number | 'error',
  opts: { top: number; batchSize?: number; job?: JobContext },
): Promise<{ contexts: FeatureContext[]; scanned: number; active: number }> {
  const sae = saeOf(ctx, submodule);
  if (feature !== 'error' && !(Number.isInteger(feature) && feature >= 0 && feature < sae.f)) {
    throw new Error(`${submodule}/${feature}: feature out of range (0..${sae.f - 1})`);
  }
  const batchSize = opts.batchSize ?? 32;
  const best: FeatureContext[] = [];
  let active = 0;
  for (let b0 = 0; b0 < sequences.length; b0 += batchSize) {
    opts.job?.checkCancelled();
    opts.job?.progress(b0 / sequences.length, `scanning ${submodule}/${feature}: ${b0}/${sequences.length} sequences`);
    const seqs = sequences.slice(b0, b0 + batchSize);
    const batch = ctx.model.batchFromIds(seqs);
    const [B, S] = batch.tokens.shape;
    const { acts } = await ctx.model.forward(batch);
    const st = await decompose(ctx, submodule, acts.get(submodule)!.data, B * S);
    for (let b = 0; b < B; b++) {
      const len = seqs[b].length;
      const off = S - len; // left padding
      const values = new Array<number>(len).fill(0);
      for (let s = 0; s < len; s++) {
        const n = b * S + off + s;
        if (feature === 'error') {
          let sq = 0;
          for (let d = 0; d < sae.d; d++) sq += st.err[n * sae.d + d] ** 2;
          values[s] = Math.sqrt(sq);
        } else {
          for (let q = st.f.ptr[n]; q < st.f.ptr[n + 1]; q++) if (st.f.idx[q] === feature) values[s] = st.f.val[q];
        }
      }
      let position = 0;
      for (let s = 1; s < len; s++) if (values[s] > values[position]) position = s;
      if (values[position] <= 0) continue;
      active++;
      best.push({ sequence: b0 + b, ids: seqs[b], position, activation: values[position], values });
      best.sort((x, y) => y.activation - x.activation || x.sequence - y.sequence);
      if (best.length > opts.top) best.pop();
    }
  }
  opts.job?.progress(1, 'done');
  return { contexts: best, scanned: sequences.length, active };
}
