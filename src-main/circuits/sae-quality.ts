/**
 * Reconstruction quality of each SAE on the model's own activations, measured when a circuit
 * job loads them (issue: "report per-SAE reconstruction quality on a few examples"). Same
 * definitions as dictionary_learning (saes/encode-ref.ts saeQuality), on the engine's fast path.
 */
import type { Batch } from '../models/neox-model';
import type { ObservedBatch } from './discover';
import type { CircuitContext, RunState } from './state';
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

/** Variance explained from the activations x and the errors ε = x − x̂ (rows [n, d]). */
export function varianceExplainedFromErrors(x: Float32Array, err: Float32Array, d: number): number {
  const rows = Array.from({ length: x.length / d }, (_, r) => r);
  return 1 - varSum(err, d, rows) / varSum(x, d, rows);
}

function varSum(a: Float32Array, d: number, rows: number[]): number {
  let total = 0;
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (const r of rows) mean += a[r * d + j];
    mean /= rows.length;
    let ss = 0;
    for (const r of rows) ss += (a[r * d + j] - mean) ** 2;
    total += ss;
  }
  return total;
}

/**
 * The same numbers as measureSaeQuality, taken from the clean and patch passes discovery runs
 * anyway (circuits/discover.ts onBatch) instead of a pass of their own: that pass encoded ~128
 * tokens with all 19 SAEs, 0.4–0.9 s of every Pythia-70M discovery (docs/performance.md). It
 * keeps the real tokens of the examples listed in `examples` (clean, and patch when paired).
 */
export class SaeQualityCollector {
  private readonly x = new Map<string, Float32Array[]>();
  private readonly err = new Map<string, Float32Array[]>();
  private readonly active = new Map<string, number>();
  private tokens = 0;

  constructor(
    private readonly ctx: CircuitContext,
    private readonly examples: ReadonlySet<number>,
  ) {}

  add(b: ObservedBatch): void {
    const runs: [Batch, RunState][] = [[b.clean, b.cleanRun]];
    if (b.patch && b.patchRun) runs.push([b.patch, b.patchRun]);
    for (const [batch, run] of runs) {
      const [B, S] = batch.tokens.shape;
      const real: number[] = [];
      for (let r = 0; r < B; r++) {
        if (!this.examples.has(b.first + r)) continue;
        for (let s = 0; s < S; s++) if (batch.mask.data[r * S + s] === 1) real.push(r * S + s);
      }
      if (!real.length) continue;
      this.tokens += real.length;
      for (const name of this.ctx.submodules) {
        const st = run.states.get(name)!;
        const D = saeOf(this.ctx, name).d;
        const xs = new Float32Array(real.length * D);
        const es = new Float32Array(real.length * D);
        let l0 = 0;
        real.forEach((n, i) => {
          xs.set(st.x.subarray(n * D, (n + 1) * D), i * D);
          es.set(st.err.subarray(n * D, (n + 1) * D), i * D);
          l0 += st.f.ptr[n + 1] - st.f.ptr[n];
        });
        if (!this.x.has(name)) this.x.set(name, []), this.err.set(name, []);
        this.x.get(name)!.push(xs);
        this.err.get(name)!.push(es);
        this.active.set(name, (this.active.get(name) ?? 0) + l0);
      }
    }
  }

  rows(): SaeQualityRow[] {
    if (!this.tokens) return [];
    const cat = (parts: Float32Array[]): Float32Array => {
      const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) out.set(p, o), (o += p.length);
      return out;
    };
    return this.ctx.submodules.map((name) => ({
      submodule: name,
      varianceExplained: varianceExplainedFromErrors(cat(this.x.get(name)!), cat(this.err.get(name)!), saeOf(this.ctx, name).d),
      meanL0: this.active.get(name)! / this.tokens,
      tokens: this.tokens,
    }));
  }
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
