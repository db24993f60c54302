/**
 * What a person needs to judge a feature (docs/shift.md, Judging): the contexts where it is most
 * active, with the value at every token, and the tokens its decoder direction promotes most
 * through the unembedding (the final LayerNorm's scale applied, its centring and normalisation
 * not: the usual "logit lens" reading of a direction). One pass over the sequences serves every
 * listed feature.
 */
import { globalParams } from '../models/gptneox';
import type { NeoxModel } from '../models/neox-model';
import type { JobContext } from '../util/job-context';
import type { FeatureRef } from './shift';
import { type CircuitContext, decompose, saeOf } from './state';

export interface DashboardContext {
  /** Index of the sequence in the input list. */
  sequence: number;
  /** Where the activation is largest, and its value. */
  position: number;
  activation: number;
  /** The activation at every token of the sequence. */
  values: number[];
}

export interface Dashboard extends FeatureRef {
  contexts: DashboardContext[];
  /** Sequences on which the feature fired anywhere. */
  active: number;
  /** Tokens with the largest logit effect (unembedding · (ln_f scale ⊙ decoder direction)), strongest first. */
  topTokens: { id: number; logit: number }[];
}

export async function featureDashboards(
  ctx: CircuitContext,
  fullModel: NeoxModel,
  sequences: number[][],
  features: readonly FeatureRef[],
  o: { top: number; tokens: number; batchSize?: number; job?: JobContext },
): Promise<Dashboard[]> {
  const bySub = new Map<string, number[]>();
  features.forEach((f, k) => {
    const sae = saeOf(ctx, f.submodule);
    if (!Number.isInteger(f.feature) || f.feature < 0 || f.feature >= sae.f) throw new Error(`${f.submodule}/${f.feature}: feature out of range (0..${sae.f - 1})`);
    bySub.set(f.submodule, [...(bySub.get(f.submodule) ?? []), k]);
  });
  const out: Dashboard[] = features.map((f) => ({ ...f, contexts: [], active: 0, topTokens: logitEffects(fullModel, ctx, f, o.tokens) }));
  const bs = o.batchSize ?? 32;
  for (let b0 = 0; b0 < sequences.length; b0 += bs) {
    o.job?.checkCancelled();
    o.job?.progress(b0 / sequences.length, `feature contexts: ${b0}/${sequences.length} sequences`);
    const seqs = sequences.slice(b0, b0 + bs);
    const batch = ctx.model.batchFromIds(seqs);
    const [B, S] = batch.tokens.shape;
    const { acts } = await ctx.model.forward(batch);
    for (const [sub, ks] of bySub) {
      const st = await decompose(ctx, sub, acts.get(sub)!.data, B * S);
      const want = new Map(ks.map((k) => [features[k].feature, k]));
      for (let b = 0; b < B; b++) {
        const len = seqs[b].length;
        const off = S - len; // left padding
        const values = new Map<number, number[]>();
        for (let s = 0; s < len; s++) {
          const n = b * S + off + s;
          for (let q = st.f.ptr[n]; q < st.f.ptr[n + 1]; q++) {
            const k = want.get(st.f.idx[q]);
            if (k === undefined || st.f.val[q] <= 0) continue;
            if (!values.has(k)) values.set(k, new Array<number>(len).fill(0));
            values.get(k)![s] = st.f.val[q];
          }
        }
        for (const [k, v] of values) {
          let position = 0;
          for (let s = 1; s < len; s++) if (v[s] > v[position]) position = s;
          const d = out[k];
          d.active++;
          d.contexts.push({ sequence: b0 + b, position, activation: v[position], values: v });
          d.contexts.sort((x, y) => y.activation - x.activation || x.sequence - y.sequence);
          if (d.contexts.length > o.top) d.contexts.pop();
        }
      }
    }
  }
  o.job?.progress(1, 'feature contexts done');
  return out;
}

/** The `count` tokens a feature's decoder direction raises most, read through the unembedding. */
function logitEffects(model: NeoxModel, ctx: CircuitContext, f: FeatureRef, count: number): { id: number; logit: number }[] {
  const sae = saeOf(ctx, f.submodule);
  if (sae.kind === 'identity' || count <= 0) return [];
  const D = sae.d;
  const U = model.weight(globalParams.unembed).data; // [V, D]
  const g = model.weight(globalParams.lnf_w).data;
  const V = U.length / D;
  const v = Float64Array.from({ length: D }, (_, d) => sae.dec[f.feature * D + d] * g[d]);
  const logits = new Float64Array(V);
  for (let t = 0; t < V; t++) {
    let z = 0;
    for (let d = 0; d < D; d++) z += U[t * D + d] * v[d];
    logits[t] = z;
  }
  return Array.from(logits.keys())
    .sort((a, b) => logits[b] - logits[a] || a - b)
    .slice(0, count)
    .map((id) => ({ id, logit: logits[id] }));
}
