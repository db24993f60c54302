/**
 * Edge attribution (docs/method-notes.md, Edge attribution) for a parallel-residual model (Pythia):
 *
 *   edge(u→d) = (∂m/∂d)|IG · (∂d/∂u)|clean, midstream held fixed · (u_patch − u_clean)
 *
 * For a selected downstream node d at token n, its cotangent on the downstream activation y is
 * closed form: feature k → (ḡ·v_k)·1[f_k>0]·enc_k; error → ḡ − Σ_active (ḡ·v_k)·enc_k. It is
 * pulled back to the upstream activation through
 *   - nothing (identity) for mlp→resid, attn→resid and the skip path prev→resid (stop-gradients
 *     at attn and mlp leave ∂resid_l/∂prev = I),
 *   - the MLP VJP for prev→mlp (position-wise, so targets are batched as tokens),
 *   - the attention VJP for prev→attn (all targets of one example batched on the probe axis),
 * then projected onto the upstream features active in its delta: (u·v_j)·Δf_j, and u·Δε for the
 * upstream error. All targets of a block share one VJP call per example, not one each.
 */
import { Tensor } from '../engine/tensor';
import type { JobContext } from '../util/job-context';
import type { Batch } from '../models/neox-model';
import { countFlops } from '../engine/profile';
import type { NodeAttribution } from './nodes';
import { type CircuitContext, saeOf } from './state';
import { layerInput, sliceBatch } from './walk';
import { type EdgeBlockSpec, edgeBlockSpecs, layerOf } from '../models/hooks';
import { decodeWith, projectRow } from './sae-ops';

export type Aggregation = 'sum' | 'none';

// The topology (which blocks exist, in which order) is models/hooks.ts's; re-exported under
// the name the tests and the benchmark use.
export { type EdgeBlockSpec, edgeBlockSpecs as edgeBlocks };

/**
 * Edge weights of one batch, summed over examples (divide by the example count at the end).
 * Keys: sum → down·(Fu+1) + up; none → ((sd·(Fd+1) + down)·S + su)·(Fu+1) + up, where the
 * error node has index F.
 */
export type EdgeSums = Map<string, Map<number, number>>;

export const blockKey = (up: string, down: string): string => `${up}->${down}`;

interface Target {
  /** Token n = b·S + s. */
  n: number;
  /** Downstream node index (F = error). */
  k: number;
  /** Cotangent on the downstream activation at token n, [D]. */
  c: Float32Array;
}

export async function attributeEdges(
  ctx: CircuitContext,
  batch: Batch,
  nodes: NodeAttribution,
  opts: { nodeThreshold: number; aggregation: Aggregation; job?: JobContext; chunk?: number; stats?: { selected: number } },
  sums: EdgeSums = new Map(),
): Promise<EdgeSums> {
  const blocks = edgeBlockSpecs(ctx.model.cfg.numLayers, ctx.submodules);
  // Each downstream submodule feeds several blocks: its targets are computed once.
  const targetsOf = new Map<string, Target[]>();
  for (const down of new Set(blocks.map((b) => b.down))) targetsOf.set(down, downstreamTargets(ctx, nodes, down, opts.nodeThreshold));
  if (opts.stats) for (const t of targetsOf.values()) opts.stats.selected += t.length;
  for (const [i, blk] of blocks.entries()) {
    opts.job?.checkCancelled();
    opts.job?.progress(i / blocks.length, `edges: ${blk.up} → ${blk.down}`);
    const key = blockKey(blk.up, blk.down);
    if (!sums.has(key)) sums.set(key, new Map());
    await edgeBlock(ctx, batch, nodes, blk, targetsOf.get(blk.down)!, opts, sums.get(key)!);
  }
  return sums;
}

/** Selected downstream targets with their closed-form cotangents on the downstream activation. */
export function downstreamTargets(ctx: CircuitContext, nodes: NodeAttribution, down: string, threshold: number): Target[] {
  const sae = saeOf(ctx, down);
  const D = sae.d;
  const eff = nodes.effects.get(down)!;
  const g = nodes.grads.get(down);
  if (!g) throw new Error(`edges need IG or attrib gradients for ${down}`);
  const fc = nodes.clean.states.get(down)!.f;
  const targets: Target[] = [];
  const one = Int32Array.of(0, 0);
  for (let n = 0; n < eff.resc.length; n++) {
    const errSelected = sae.kind !== 'identity' && Math.abs(eff.resc[n]) > threshold;
    let anySelected = errSelected;
    for (let q = eff.act.ptr[n]; q < eff.act.ptr[n + 1] && !anySelected; q++) anySelected = Math.abs(eff.act.val[q]) > threshold;
    if (!anySelected) continue;
    // The features active on the clean run at this token, ḡ·v_k for each (one projection), and
    // where each sits in that list.
    const activeIdx: number[] = [];
    for (let q = fc.ptr[n]; q < fc.ptr[n + 1]; q++) if (fc.val[q] > 0) activeIdx.push(fc.idx[q]);
    const idx = Int32Array.from(activeIdx);
    const gv = new Float32Array(idx.length);
    projectRow(sae, g, n * D, idx, gv);
    const slot = new Map<number, number>();
    idx.forEach((k, i) => slot.set(k, i));
    for (let q = eff.act.ptr[n]; q < eff.act.ptr[n + 1]; q++) {
      if (!(Math.abs(eff.act.val[q]) > threshold)) continue;
      const k = eff.act.idx[q];
      const i = slot.get(k);
      if (i === undefined) continue; // inactive on the clean run: ∂f_k/∂y = 0, every edge is 0
      const c = new Float32Array(D);
      if (sae.kind === 'identity') c[k] = gv[i];
      else for (let d = 0; d < D; d++) c[d] = gv[i] * sae.enc[k * D + d];
      targets.push({ n, k, c });
    }
    if (errSelected) {
      // ε's cotangent: ḡ − Σ_k (ḡ·v_k) enc_k over the active features, as one sparse decode
      // through the encoder rows with ḡ as the bias.
      const c = new Float32Array(D);
      one[1] = idx.length;
      decodeWith(sae.enc, D, g.subarray(n * D, (n + 1) * D), { rows: 1, ptr: one, idx, val: gv.map((v) => -v) }, c);
      targets.push({ n, k: sae.f, c });
    }
  }
  return targets;
}

async function edgeBlock(
  ctx: CircuitContext,
  batch: Batch,
  nodes: NodeAttribution,
  blk: EdgeBlockSpec,
  targets: Target[],
  opts: { nodeThreshold: number; aggregation: Aggregation; chunk?: number },
  out: Map<number, number>,
): Promise<void> {
  const [B, S] = batch.tokens.shape;
  const D = ctx.model.cfg.hiddenSize;
  if (!targets.length) return;
  const upSae = saeOf(ctx, blk.up);
  const downSae = saeOf(ctx, blk.down);
  const dUp = nodes.deltas.get(blk.up)!;
  const Fu1 = upSae.f + 1;
  const Fd1 = downSae.f + 1;

  let widest = 0;
  for (let r = 0; r < dUp.f.rows; r++) widest = Math.max(widest, dUp.f.ptr[r + 1] - dUp.f.ptr[r]);
  const proj = new Float32Array(widest);

  /** Adds the edges of target t given its upstream cotangent u at token nu. */
  const emit = (t: Target, u: Float32Array, uOff: number, nu: number): void => {
    const sd = t.n % S;
    const su = nu % S;
    const base = opts.aggregation === 'sum' ? t.k * Fu1 : ((sd * Fd1 + t.k) * S + su) * Fu1;
    const f = dUp.f;
    const a = f.ptr[nu], e = f.ptr[nu + 1];
    countFlops(2 * D * (e - a + 1));
    projectRow(upSae, u, uOff, f.idx.subarray(a, e), proj);
    for (let q = a; q < e; q++) {
      const j = f.idx[q];
      const w = proj[q - a] * f.val[q];
      if (w !== 0) out.set(base + j, (out.get(base + j) ?? 0) + w);
    }
    if (upSae.kind !== 'identity') {
      let s = 0;
      for (let d = 0; d < D; d++) s += u[uOff + d] * dUp.err[nu * D + d];
      if (s !== 0) out.set(base + upSae.f, (out.get(base + upSae.f) ?? 0) + s);
    }
  };

  if (blk.via === 'identity') {
    for (const t of targets) emit(t, t.c, 0, t.n);
    return;
  }
  const l = layerOf(blk.down);
  const h = layerInput(nodes.clean.acts, l);
  const chunk = opts.chunk ?? 256;
  if (blk.via === 'mlp') {
    // Position-wise: each target is its own token, so targets form the batch axis.
    for (let c0 = 0; c0 < targets.length; c0 += chunk) {
      const part = targets.slice(c0, c0 + chunk);
      const P = part.length;
      const hx = new Float32Array(P * D);
      const cot = new Float32Array(P * D);
      part.forEach((t, p) => {
        hx.set(h.data.subarray(t.n * D, (t.n + 1) * D), p * D);
        cot.set(t.c, p * D);
      });
      const u = await ctx.model.mlpVjp(l, new Tensor(hx, [P, 1, D]), new Tensor(cot, [1, P, 1, D]));
      part.forEach((t, p) => emit(t, u.data, p * D, t.n));
    }
    return;
  }
  // Attention: per example, all its targets on the probe axis of one VJP.
  for (let b = 0; b < B; b++) {
    const mine = targets.filter((t) => Math.floor(t.n / S) === b);
    if (!mine.length) continue;
    const sub = sliceBatch(batch, b, b + 1);
    const hb = new Tensor(h.data.subarray(b * S * D, (b + 1) * S * D), [1, S, D]);
    for (let c0 = 0; c0 < mine.length; c0 += chunk) {
      const part = mine.slice(c0, c0 + chunk);
      const P = part.length;
      const cot = new Float32Array(P * S * D);
      part.forEach((t, p) => cot.set(t.c, p * S * D + (t.n - b * S) * D));
      const u = await ctx.model.attnVjp(l, sub, hb, new Tensor(cot, [P, 1, S, D]));
      part.forEach((t, p) => {
        const sd = t.n - b * S;
        for (let su = 0; su <= sd; su++) emit(t, u.data, p * S * D + su * D, b * S + su);
      });
    }
  }
}

/** The y edges: resid_last → y equals its node effects, summed over examples. */
export function yEdges(ctx: CircuitContext, nodes: NodeAttribution, last: string, S: number, aggregation: Aggregation, out: Map<number, number>): void {
  const sae = saeOf(ctx, last);
  const eff = nodes.effects.get(last)!;
  const F1 = sae.f + 1;
  for (let n = 0; n < eff.resc.length; n++) {
    const base = aggregation === 'sum' ? 0 : (n % S) * F1;
    for (let q = eff.act.ptr[n]; q < eff.act.ptr[n + 1]; q++) {
      const key = base + eff.act.idx[q];
      out.set(key, (out.get(key) ?? 0) + eff.act.val[q]);
    }
    if (sae.kind !== 'identity') out.set(base + sae.f, (out.get(base + sae.f) ?? 0) + eff.resc[n]);
  }
}
