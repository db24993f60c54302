/**
 * Reconstruction quality of each SAE on the model's own activations, measured when a circuit
 * job loads them (issue: "report per-SAE reconstruction quality on a few examples"). Same
 * definitions as dictionary_learning (saes/encode-ref.ts saeQuality), on the engine's fast path.
 */
import type { Batch } from '../models/neox-model';
import type { CircuitContext } from './state';
import { saeOf } from './state';

export interface SaeQualityRow {
  submodule: string;
  varianceExplained: number;
  meanL0: number;
  /** Tokens the numbers are measured on (real tokens only). */
  tokens: number;
}

/** 1 − Σ_d Var(x − x̂)[d] / Σ_d Var(x)[d] over the given rows. */
export function varianceExplained(x: Float32Array, xhat: Float32Array, d: number, rows: number[]): number {
  const varSum = (get: (r: number, j: number) => number): number => {
    let total = 0;
    for (let j = 0; j < d; j++) {
      let mean = 0;
      for (const r of rows) mean += get(r, j);
      mean /= rows.length;
      let ss = 0;
      for (const r of rows) ss += (get(r, j) - mean) ** 2;
      total += ss;
    }
    return total;
  };
  return 1 - varSum((r, j) => x[r * d + j] - xhat[r * d + j]) / varSum((r, j) => x[r * d + j]);
}

export async function measureSaeQuality(ctx: CircuitContext, batch: Batch): Promise<SaeQualityRow[]> {
  const { acts } = await ctx.model.forward(batch);
  const [B, S] = batch.tokens.shape;
  const real = Array.from({ length: B * S }, (_, n) => n).filter((n) => batch.mask.data[n] === 1);
  const out: SaeQualityRow[] = [];
  for (const name of ctx.submodules) {
    const sae = saeOf(ctx, name);
    const x = acts.get(name)!.data;
    const f = await ctx.ops.encode(sae, x, B * S);
    const xhat = ctx.ops.decode(sae, f);
    let l0 = 0;
    for (const n of real) l0 += f.ptr[n + 1] - f.ptr[n];
    out.push({ submodule: name, varianceExplained: varianceExplained(x, xhat, sae.d, real), meanL0: l0 / real.length, tokens: real.length });
  }
  return out;
}
