/**
 * Measurements of the demo artifact through the normal loaders' objects (NeoxModel, SAEs in
 * the canonical layout): agreement accuracy, activations at the hook points, SAE quality on
 * held-out activations, and the cost of splicing in one SAE reconstruction.
 */
import type { AgreementRecord } from '../data/agreement';
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

/** x̂ = SAE(x) for rows of x [N, D], dense float32 (plain TypeScript; fine for the demo's sizes). */
export function reconstruct(sae: Sae, x: Float32Array): { xHat: Float32Array; l0: Float32Array } {
  const { d, f } = sae;
  const n = x.length / d;
  const xHat = new Float32Array(x.length);
  const l0 = new Float32Array(n);
  const xc = new Float32Array(d);
  const acc = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) xc[j] = x[r * d + j]! - (sae.applyBDecToInput ? sae.bDec[j]! : 0);
    for (let j = 0; j < d; j++) acc[j] = sae.bDec[j]!;
    let active = 0;
    for (let i = 0; i < f; i++) {
      let s = sae.bEnc[i]!;
      const base = i * d;
      for (let j = 0; j < d; j++) s += sae.enc[base + j]! * xc[j]!;
      if (s > 0) {
        active++;
        for (let j = 0; j < d; j++) acc[j]! += s * sae.dec[base + j]!;
      }
    }
    l0[r] = active;
    for (let j = 0; j < d; j++) xHat[r * d + j] = acc[j]!;
  }
  return { xHat, l0 };
}

export interface SaeMetrics {
  /** 1 − Σ_d Var(x − x̂) / Σ_d Var(x) over held-out rows (dictionary_learning's frac_variance_explained). */
  varianceExplained: number;
  meanL0: number;
  /** Features active on none of the held-out rows. */
  deadFraction: number;
  /** 1 − mean‖x − x̂‖² / mean‖x‖² (reconstruction of the raw, uncentred activations). */
  fvuRaw: number;
}

export function saeMetrics(sae: Sae, x: Float32Array): SaeMetrics {
  const { d, f } = sae;
  const n = x.length / d;
  const { xHat } = reconstruct(sae, x);
  // Which features ever fire (recomputed cheaply: a feature fires where its pre-activation > 0).
  const alive = new Uint8Array(f);
  let l0 = 0;
  const xc = new Float32Array(d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) xc[j] = x[r * d + j]! - (sae.applyBDecToInput ? sae.bDec[j]! : 0);
    for (let i = 0; i < f; i++) {
      let s = sae.bEnc[i]!;
      const base = i * d;
      for (let j = 0; j < d; j++) s += sae.enc[base + j]! * xc[j]!;
      if (s > 0) {
        alive[i] = 1;
        l0++;
      }
    }
  }
  let total = 0;
  let resid = 0;
  let rawX = 0;
  let rawE = 0;
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
      const e = v - xHat[r * d + j]!;
      total += (v - mx) ** 2;
      resid += (e - me) ** 2;
      rawX += v * v;
      rawE += e * e;
    }
  }
  return {
    varianceExplained: 1 - resid / total,
    meanL0: l0 / n,
    deadFraction: alive.reduce((a, b) => a + (b ? 0 : 1), 0) / f,
    fvuRaw: 1 - rawE / rawX,
  };
}

/** A hook that replaces the activation at `name` by its SAE reconstruction. */
export function reconstructionHook(name: string, sae: Sae): Hook {
  return (hook: string, x: F32) => (hook === name ? new Tensor(reconstruct(sae, x.data).xHat, x.shape) : undefined);
}
