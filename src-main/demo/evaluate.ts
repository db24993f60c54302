/**
 * Measurements of the demo artifact through the normal loaders' objects (NeoxModel, SAEs in
 * the canonical layout): agreement accuracy, activations at the hook points, SAE quality on
 * held-out activations, and the cost of splicing in one SAE reconstruction.
 */
import type { AgreementRecord } from '../data/agreement';
import { Graph } from '../engine/graph';
import type { SessionCache } from '../engine/session';
import { Tensor } from '../engine/tensor';
import type { F32, Hook, NeoxModel } from '../models/neox-model';
import type { Sae } from '../saes/types';

export interface AgreementItem {
  prefix: string;
  correct: string;
  wrong: string;
}

/** Both sentences of each record: the clean prefix with its answer and the patch prefix with its own. */
export function agreementItems(records: readonly AgreementRecord[]): AgreementItem[] {
  return records.flatMap((r) => [
    { prefix: r.clean_prefix, correct: r.clean_answer, wrong: r.patch_answer },
    { prefix: r.patch_prefix, correct: r.patch_answer, wrong: r.clean_answer },
  ]);
}

export interface AgreementScore {
  n: number;
  correct: number;
  accuracy: number;
  /** Mean of logit(correct) − logit(wrong). */
  meanLogitDiff: number;
  /** Per item, in input order. */
  logitDiffs: Float32Array;
}

function singleId(model: NeoxModel, text: string): number {
  const ids = model.tokenizer!.encode(text);
  if (ids.length !== 1) throw new Error(`${JSON.stringify(text)} is ${ids.length} tokens, expected 1`);
  return ids[0]!;
}

/**
 * logit(correct) − logit(wrong) at the last position of each prefix, optionally with a hook
 * (e.g. replacing an activation by its SAE reconstruction). Items are batched by token length.
 */
export async function agreementScore(model: NeoxModel, items: readonly AgreementItem[], opts: { hook?: Hook; batch?: number } = {}): Promise<AgreementScore> {
  if (!model.tokenizer) throw new Error(`${model.path}: no tokenizer`);
  const tok = model.tokenizer;
  const diffs = new Float32Array(items.length);
  const byLen = new Map<number, number[]>();
  const ids = items.map((it, i) => {
    const p = tok.encode(it.prefix);
    byLen.set(p.length, [...(byLen.get(p.length) ?? []), i]);
    return { p, c: singleId(model, it.correct), w: singleId(model, it.wrong) };
  });
  const chunk = opts.batch ?? 512;
  for (const idx of byLen.values()) {
    for (let s = 0; s < idx.length; s += chunk) {
      const part = idx.slice(s, s + chunk);
      const b = model.batchFromIds(part.map((i) => ids[i]!.p));
      const { h } = await model.forward(b, opts.hook);
      const answer = new Int32Array(part.length * 2);
      const coef = new Float32Array(part.length * 2);
      part.forEach((i, k) => {
        answer[2 * k] = ids[i]!.c;
        answer[2 * k + 1] = ids[i]!.w;
        coef[2 * k] = 1;
        coef[2 * k + 1] = -1;
      });
      const m = await model.metric(b, h, new Tensor(answer, [part.length, 2]), new Tensor(coef, [part.length, 2]));
      part.forEach((i, k) => (diffs[i] = m.data[k]!));
    }
  }
  let correct = 0;
  let sum = 0;
  for (const d of diffs) {
    if (d > 0) correct++;
    sum += d;
  }
  return { n: items.length, correct, accuracy: items.length ? correct / items.length : NaN, meanLogitDiff: sum / Math.max(1, items.length), logitDiffs: diffs };
}

/**
 * Activations [N, D] at every hook point for the real tokens of the given sequences (token
 * ids, run without padding inside a batch of equal-length sequences), in input order.
 */
export async function hookActivations(model: NeoxModel, seqs: readonly number[][], opts: { batch?: number } = {}): Promise<Map<string, Float32Array>> {
  const D = model.cfg.hiddenSize;
  const total = seqs.reduce((a, s) => a + s.length, 0);
  const out = new Map(model.hookPoints.map((h) => [h, new Float32Array(total * D)]));
  const offsets: number[] = [];
  let o = 0;
  for (const s of seqs) {
    offsets.push(o);
    o += s.length;
  }
  const byLen = new Map<number, number[]>();
  seqs.forEach((s, i) => byLen.set(s.length, [...(byLen.get(s.length) ?? []), i]));
  const chunk = opts.batch ?? 256;
  for (const [len, idx] of [...byLen].sort((a, b) => a[0] - b[0])) {
    for (let s = 0; s < idx.length; s += chunk) {
      const part = idx.slice(s, s + chunk);
      const b = model.batchFromIds(part.map((i) => seqs[i]!));
      const { acts } = await model.forward(b);
      for (const [name, x] of acts) {
        const dst = out.get(name)!;
        part.forEach((i, k) => dst.set(x.data.subarray(k * len * D, (k + 1) * len * D), offsets[i]! * D));
      }
    }
  }
  return out;
}

/** Encode + decode graph of a canonical ReLU SAE: x̂ [N,D] and, per feature, the rows it fires on. */
function saeEvalGraph(d: number, f: number): Graph {
  const g = new Graph();
  const x = g.input('x', 'float32', ['N', d]);
  const enc = g.input('enc', 'float32', [f, d]);
  const bEnc = g.input('b_enc', 'float32', [f]);
  const dec = g.input('dec', 'float32', [f, d]);
  const bDec = g.input('b_dec', 'float32', [d]);
  const feats = x.sub(bDec).matmul(enc.transpose([1, 0])).add(bEnc).relu();
  g.output('x_hat', feats.matmul(dec).add(bDec));
  g.output('fired', feats.step().sum([0], false));
  return g;
}

/** x̂ = SAE(x) for rows of x [N, D] (ReLU SAEs with b_dec subtracted, as the demo's), and per-feature firing counts. */
export async function reconstruct(sessions: SessionCache, sae: Sae, x: Float32Array): Promise<{ xHat: Float32Array; fired: Float32Array }> {
  if (sae.kind !== 'relu' || !sae.applyBDecToInput) throw new Error(`${sae.source}: reconstruct handles dictionary_learning ReLU SAEs only`);
  const { d, f } = sae;
  const s = await sessions.get(`demo-sae-eval:${d}:${f}`, () => saeEvalGraph(d, f));
  const out = await s.run({
    x: new Tensor(x, [x.length / d, d]),
    enc: new Tensor(sae.enc, [f, d]),
    b_enc: new Tensor(sae.bEnc, [f]),
    dec: new Tensor(sae.dec, [f, d]),
    b_dec: new Tensor(sae.bDec, [d]),
  });
  return { xHat: out.x_hat!.data, fired: out.fired!.data };
}

export interface SaeMetrics {
  /** 1 − Σ_d Var(x − x̂) / Σ_d Var(x) over held-out rows (dictionary_learning's frac_variance_explained). */
  varianceExplained: number;
  /** Mean number of active features per row. */
  meanL0: number;
  /** Features active on none of the held-out rows. */
  deadFraction: number;
  rows: number;
}

export async function saeMetrics(sessions: SessionCache, sae: Sae, x: Float32Array): Promise<SaeMetrics> {
  const { d, f } = sae;
  const n = x.length / d;
  const { xHat, fired } = await reconstruct(sessions, sae, x);
  let l0 = 0;
  let dead = 0;
  for (let i = 0; i < f; i++) {
    l0 += fired[i]!;
    if (fired[i] === 0) dead++;
  }
  let total = 0;
  let resid = 0;
  for (let j = 0; j < d; j++) {
    let mx = 0;
    let me = 0;
    for (let r = 0; r < n; r++) {
      mx += x[r * d + j]!;
      me += x[r * d + j]! - xHat[r * d + j]!;
    }
    mx /= n;
    me /= n;
    for (let r = 0; r < n; r++) {
      const v = x[r * d + j]!;
      total += (v - mx) ** 2;
      resid += (v - xHat[r * d + j]! - me) ** 2;
    }
  }
  return { varianceExplained: 1 - resid / total, meanL0: l0 / n, deadFraction: dead / f, rows: n };
}

/** A hook that replaces the activation at `name` by its SAE reconstruction. */
export function reconstructionHook(sessions: SessionCache, name: string, sae: Sae): Hook {
  return async (hook: string, x: F32) => (hook === name ? new Tensor((await reconstruct(sessions, sae, x.data)).xHat, x.shape) : undefined);
}
