/**
 * The workbench's "ablate and clamp" experiment: replace a chosen set of nodes (and only those)
 * by an ablation value or a constant, and report what happens to the metric and to the
 * next-token distribution. It is the complement run of ablation.ts with the chosen nodes as the
 * mask, so it shares every line of the ablated forward pass with faithfulness.
 */
import type { JobContext } from '../util/job-context';
import type { Batch, F32 } from '../models/neox-model';
import type { PreparedExample } from './discover';
import { type AblationKind, type AblationValues, type CircuitMask, ablatedForward, ablationValues, answerMetric, clampValues } from './ablation';
import { type CircuitContext, saeOf } from './state';

export interface NodeRef {
  submodule: string;
  feature: number | 'error';
  /** Absent: every position. */
  position?: number;
}

export type AblateMode = AblationKind | { clamp: number };

export interface AblateSpec {
  nodes: NodeRef[];
  mode: AblateMode;
  /** Seed of the resample draw (default 0). */
  seed?: number;
}

export interface TokenChange {
  id: number;
  token: string;
  /** Mean next-token probability over the examples at the last position. */
  before: number;
  after: number;
}

export interface AblateOutcome {
  /** 'logit[clean] − logit[patch]' with patch answers, else 'logit[clean]'. */
  metric: string;
  before: number[];
  after: number[];
  meanBefore: number;
  meanAfter: number;
  /** The tokens whose mean probability changed most, largest change first. */
  topChanges: TokenChange[];
}

const TOP_CHANGES = 10;

const nodeName = (n: NodeRef): string => `${n.submodule}/${n.feature}${n.position === undefined ? '' : `@${n.position}`}`;

/**
 * Masks holding the listed nodes (true = listed). A submodule with a positioned node gets one
 * row per position; a node without a position is set in every row.
 */
export function nodeMasks(ctx: CircuitContext, nodes: NodeRef[], positions: number | null, clamp: boolean): CircuitMask {
  const fail = (n: NodeRef, msg: string): never => {
    throw new Error(`node ${nodeName(n)}: ${msg}`);
  };
  for (const n of nodes) {
    if (!ctx.submodules.includes(n.submodule)) fail(n, `unknown submodule '${n.submodule}' (the model has ${ctx.submodules.join(', ')})`);
    const F = saeOf(ctx, n.submodule).f;
    if (n.feature === 'error' && clamp) fail(n, 'an error node cannot be clamped (clamping sets feature values); ablate it with mean, zero or resample instead');
    if (n.feature !== 'error' && !(Number.isInteger(n.feature) && n.feature >= 0 && n.feature < F)) fail(n, `feature ${n.feature} is out of range for ${n.submodule} (0..${F - 1})`);
    if (n.position === undefined) continue;
    if (positions === null) fail(n, 'a position needs examples of one length (these examples differ in length)');
    if (!(Number.isInteger(n.position) && n.position >= 0 && n.position < positions!)) fail(n, `position ${n.position} is out of range (the examples have ${positions} tokens)`);
  }
  const mask: CircuitMask = new Map();
  for (const sub of new Set(nodes.map((n) => n.submodule))) {
    const mine = nodes.filter((n) => n.submodule === sub);
    const F = saeOf(ctx, sub).f;
    const rows = mine.some((n) => n.position !== undefined) ? positions! : 1;
    const keep = Array.from({ length: rows }, () => new Uint8Array(F + 1));
    for (const n of mine) {
      const i = n.feature === 'error' ? F : n.feature;
      for (let p = 0; p < rows; p++) if (n.position === undefined || n.position === p) keep[p][i] = 1;
    }
    mask.set(sub, { keep });
  }
  return mask;
}

/** Probabilities at the last position, [B·V]. */
async function lastProbs(ctx: CircuitContext, b: Batch, h: F32): Promise<Float32Array> {
  const logits = (await ctx.model.logits(b, h)).data;
  const V = ctx.model.cfg.vocabSize;
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / V; r++) {
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, logits[r * V + v]);
    let z = 0;
    for (let v = 0; v < V; v++) z += out[r * V + v] = Math.exp(logits[r * V + v] - mx);
    for (let v = 0; v < V; v++) out[r * V + v] /= z;
  }
  return out;
}

function topChanges(ctx: CircuitContext, before: Float32Array, after: Float32Array, B: number): TokenChange[] {
  const V = ctx.model.cfg.vocabSize;
  const meanOf = (p: Float32Array, v: number): number => {
    let s = 0;
    for (let b = 0; b < B; b++) s += p[b * V + v];
    return s / B;
  };
  const all = Array.from({ length: V }, (_, id) => ({ id, before: meanOf(before, id), after: meanOf(after, id) }));
  all.sort((a, b) => Math.abs(b.after - b.before) - Math.abs(a.after - a.before));
  const tok = ctx.model.tokenizer;
  return all.slice(0, TOP_CHANGES).map((c) => ({ ...c, token: tok ? tok.tokenString(c.id) : String(c.id) }));
}

/**
 * Replaces the listed nodes by their ablation value (mean / zero / resample over the patch
 * inputs, or the clean inputs when the examples have none) or clamps listed features to a
 * constant; everything else runs as usual.
 */
export async function ablateNodes(ctx: CircuitContext, examples: PreparedExample[], spec: AblateSpec, job?: JobContext): Promise<AblateOutcome> {
  if (!examples.length) throw new Error('no examples to run');
  if (!spec.nodes.length) throw new Error('no nodes to ablate');
  const clamp = typeof spec.mode === 'object';
  if (clamp && !Number.isFinite((spec.mode as { clamp: number }).clamp)) throw new Error(`clamp value ${(spec.mode as { clamp: number }).clamp} is not a finite number`);
  const paired = examples[0].patch !== null;
  if (examples.some((e) => (e.patch !== null) !== paired)) throw new Error('examples mix paired and no-pair data');
  const lengths = new Set(examples.flatMap((e) => (e.patch ? [e.clean.length, e.patch.length] : [e.clean.length])));
  const positions = lengths.size === 1 ? [...lengths][0] : null;
  const mask = nodeMasks(ctx, spec.nodes, positions, clamp);
  const subs = ctx.submodules.filter((s) => mask.has(s));

  const clean = ctx.model.batchFromIds(examples.map((e) => e.clean));
  const patch = paired ? ctx.model.batchFromIds(examples.map((e) => e.patch!)) : clean;
  const metric = answerMetric(examples);
  job?.progress(0, 'clean run');
  const { acts, h: h0 } = await ctx.model.forward(clean);
  const before = (await ctx.model.metric(clean, h0, metric.ids, metric.coef)).data;
  const probs0 = await lastProbs(ctx, clean, h0);
  job?.checkCancelled();

  let values: Map<string, AblationValues>;
  if (typeof spec.mode === 'object') {
    const c = spec.mode.clamp;
    values = new Map(subs.map((s) => [s, clampValues(saeOf(ctx, s), c)]));
  } else {
    // Where no error node is listed, only the listed features' values are read: encode just those.
    const only = new Map<string, Int32Array>();
    for (const s of subs) {
      const mine = spec.nodes.filter((n) => n.submodule === s);
      if (mine.every((n) => n.feature !== 'error')) only.set(s, Int32Array.from(new Set(mine.map((n) => n.feature as number))).sort());
    }
    values = await ablationValues(ctx, patch, subs, spec.mode, spec.seed ?? 0, only);
  }
  job?.progress(0.5, 'ablated run');
  // Complement: the listed nodes are replaced, everything else is kept.
  // Only the last position is read (metric, next-token probabilities); the clean prefix is shared.
  const h1 = await ablatedForward(ctx, clean, values, mask, { complement: true, forceErrors: null }, { lastOnly: true, cleanActs: acts });
  const after = (await ctx.model.metric(clean, h1, metric.ids, metric.coef)).data;
  const probs1 = await lastProbs(ctx, clean, h1);
  job?.progress(1, 'done');
  const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
  return {
    metric: paired ? 'logit[clean] − logit[patch]' : 'logit[clean]',
    before: Array.from(before),
    after: Array.from(after),
    meanBefore: mean(before),
    meanAfter: mean(after),
    topChanges: topChanges(ctx, probs0, probs1, examples.length),
  };
}
