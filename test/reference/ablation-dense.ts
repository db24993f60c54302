/**
 * Independent dense ablated forward pass and faithfulness / completeness, written straight from
 * the evaluation method (docs/method-notes.md, "Evaluation") in plain float64 loops on top of
 * the float64 reference model. Features are decoded densely, the error is x − x̂, and masks are
 * plain boolean arrays. It shares no code with src-main/circuits.
 */
import { type NeoxRefConfig, type RefWeights, gptNeoxForward64 } from './gptneox64';

/** The SAE fields the oracle reads (canonical layout: enc/dec rows are feature directions). */
export interface DenseSae {
  kind: string;
  d: number;
  f: number;
  enc: ArrayLike<number>;
  bEnc: ArrayLike<number>;
  dec: ArrayLike<number>;
  bDec: ArrayLike<number>;
  applyBDecToInput: boolean;
}

export interface DenseModel {
  cfg: NeoxRefConfig;
  weights: RefWeights;
  saes: Map<string, DenseSae>;
}

/** Where an ablated node's value comes from. */
export type DenseSource = 'mean' | 'zero' | { resample: number[] } | { clamp: number };

export interface DenseRun {
  /** Submodules intervened on. */
  submodules: string[];
  /** keep[sub][row][i]: node i (error = F) is in the set; 1 row = every position. Missing: empty set. */
  keep: Map<string, boolean[][]>;
  complement: boolean;
  force: 'ablated' | 'kept' | null;
  source: DenseSource;
}

export function encodeDense(sae: DenseSae, x: ArrayLike<number>): Float64Array {
  const f = new Float64Array(sae.f);
  if (sae.kind === 'identity') {
    for (let i = 0; i < sae.d; i++) f[i] = x[i];
    return f;
  }
  for (let i = 0; i < sae.f; i++) {
    let pre = sae.bEnc[i];
    for (let j = 0; j < sae.d; j++) pre += sae.enc[i * sae.d + j] * (x[j] - (sae.applyBDecToInput ? sae.bDec[j] : 0));
    f[i] = Math.max(0, pre);
  }
  return f;
}

export function decodeDense(sae: DenseSae, f: ArrayLike<number>): Float64Array {
  const x = new Float64Array(sae.d);
  if (sae.kind === 'identity') {
    for (let j = 0; j < sae.d; j++) x[j] = f[j];
    return x;
  }
  for (let j = 0; j < sae.d; j++) {
    x[j] = sae.bDec[j];
    for (let i = 0; i < sae.f; i++) x[j] += f[i] * sae.dec[i * sae.d + j];
  }
  return x;
}

/** f and ε = x − x̂ of one token. */
function split(sae: DenseSae, x: ArrayLike<number>): { f: Float64Array; e: Float64Array } {
  const f = encodeDense(sae, x);
  const xhat = decodeDense(sae, f);
  return { f, e: Float64Array.from(xhat, (v, j) => x[j] - v) };
}

/** Ablation values [b][s] of one submodule: features [F] and error [D]. */
function valuesOf(m: DenseModel, sub: string, source: DenseSource, patchActs: Float64Array | null, B: number, S: number): { f: Float64Array; e: Float64Array }[][] {
  const sae = m.saes.get(sub)!;
  const D = sae.d;
  const zero = () => ({ f: new Float64Array(sae.f), e: new Float64Array(D) });
  if (source === 'zero') return Array.from({ length: B }, () => Array.from({ length: S }, zero));
  if (typeof source === 'object' && 'clamp' in source) {
    return Array.from({ length: B }, () => Array.from({ length: S }, () => ({ f: new Float64Array(sae.f).fill(source.clamp), e: new Float64Array(D) })));
  }
  const patch = Array.from({ length: B }, (_, b) => Array.from({ length: S }, (_, s) => split(sae, patchActs!.subarray((b * S + s) * D, (b * S + s + 1) * D))));
  if (typeof source === 'object') return Array.from({ length: B }, (_, b) => patch[source.resample[b]]);
  const means = Array.from({ length: S }, (_, s) => {
    const v = zero();
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < sae.f; i++) v.f[i] += patch[b][s].f[i] / B;
      for (let j = 0; j < D; j++) v.e[j] += patch[b][s].e[j] / B;
    }
    return v;
  });
  return Array.from({ length: B }, () => means);
}

/** Logits at the last position of each clean example, [B][V], with the run's interventions. */
export function denseAblatedLogits(m: DenseModel, clean: number[][], patch: number[][] | null, run: DenseRun | null): Float64Array[] {
  const B = clean.length;
  const S = clean[0].length;
  const V = m.cfg.vocab_size;
  let edit: ((hook: string, b: number, x: Float64Array) => void) | undefined;
  if (run) {
    const patchActs = run.source === 'zero' || (typeof run.source === 'object' && 'clamp' in run.source) ? null : gptNeoxForward64(m.cfg, m.weights, patch ?? clean).hooks;
    const values = new Map(run.submodules.map((sub) => [sub, valuesOf(m, sub, run.source, patchActs?.[sub] ?? null, B, S)]));
    edit = (hook, b, x) => {
      if (!values.has(hook)) return;
      const sae = m.saes.get(hook)!;
      const D = sae.d;
      const F = sae.f;
      const rows = run.keep.get(hook);
      for (let s = 0; s < S; s++) {
        const inSet = (i: number): boolean => (rows ? rows[rows.length === 1 ? 0 : s][i] : false);
        const kept = (i: number): boolean => inSet(i) !== run.complement;
        const errKept = run.force ? run.force === 'kept' : kept(F);
        const { f, e } = split(sae, x.subarray(s * D, (s + 1) * D));
        const v = values.get(hook)![b][s];
        const f2 = Float64Array.from(f, (fi, i) => (kept(i) ? fi : v.f[i]));
        const xhat = decodeDense(sae, f2);
        for (let j = 0; j < D; j++) x[s * D + j] = xhat[j] + (errKept ? e[j] : v.e[j]);
      }
    };
  }
  const out = gptNeoxForward64(m.cfg, m.weights, clean, undefined, { edit });
  return Array.from({ length: B }, (_, b) => out.logits.slice((b * S + S - 1) * V, (b * S + S) * V));
}

export interface DenseExample {
  clean: number[];
  patch: number[] | null;
  cleanAnswer: number;
  patchAnswer: number | null;
}

/** logit[clean answer] − logit[patch answer] (or logit[clean answer] without one), per example. */
export function denseMetric(examples: DenseExample[], logits: Float64Array[]): number[] {
  return examples.map((e, b) => logits[b][e.cleanAnswer] - (e.patchAnswer === null ? 0 : logits[b][e.patchAnswer]));
}

export function denseRunMetric(m: DenseModel, examples: DenseExample[], run: DenseRun | null): number[] {
  const patch = examples[0].patch ? examples.map((e) => e.patch!) : null;
  return denseMetric(examples, denseAblatedLogits(m, examples.map((e) => e.clean), patch, run));
}

export interface DenseNode {
  submodule: string;
  feature: number | 'error';
  position?: number;
  effect: number;
}

export interface DenseSweepOptions {
  /** Evaluated submodules. */
  submodules: string[];
  /** Mask rows: S for a position-resolved circuit, 1 otherwise. */
  rows: number;
  thresholds: number[];
  variant: 'all' | 'none' | 'resid-only';
  force: 'ablated' | 'kept' | null;
  source: DenseSource;
}

export interface DenseSweepRow {
  threshold: number;
  nodes: number;
  mC: number;
  mComplement: number;
  faithfulness: number;
  completeness: number;
}

const meanOf = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;

/** The circuit's sets at τ after the error variant: keep[sub][row][i]. */
export function denseCircuitSets(m: DenseModel, nodes: DenseNode[], o: DenseSweepOptions, t: number): { keep: Map<string, boolean[][]>; count: number } {
  const keep = new Map<string, boolean[][]>();
  for (const sub of o.submodules) {
    const F = m.saes.get(sub)!.f;
    keep.set(sub, Array.from({ length: o.rows }, () => new Array<boolean>(F + 1).fill(false)));
  }
  for (const n of nodes) {
    const rows = keep.get(n.submodule);
    if (!rows || Math.abs(n.effect) <= t) continue;
    const F = m.saes.get(n.submodule)!.f;
    const isError = n.feature === 'error';
    const errorInC = o.variant === 'all' || (o.variant === 'resid-only' && n.submodule.startsWith('resid_'));
    if (isError && !errorInC) continue;
    rows[n.position ?? 0][isError ? F : (n.feature as number)] = true;
  }
  let count = 0;
  for (const rows of keep.values()) for (const r of rows) for (const v of r) if (v) count++;
  return { keep, count };
}

/** m(M), m(∅) and, per threshold, m(C), m(M∖C), faithfulness and completeness. */
export function denseSweep(m: DenseModel, examples: DenseExample[], nodes: DenseNode[], o: DenseSweepOptions): { mFull: number; mEmpty: number; rows: DenseSweepRow[] } {
  const run = (keep: Map<string, boolean[][]>, complement: boolean): number =>
    meanOf(denseRunMetric(m, examples, { submodules: o.submodules, keep, complement, force: o.force, source: o.source }));
  const mFull = meanOf(denseRunMetric(m, examples, null));
  const mEmpty = run(new Map(), false);
  const rows = o.thresholds.map((t) => {
    const { keep, count } = denseCircuitSets(m, nodes, o, t);
    const mC = run(keep, false);
    const mComplement = run(keep, true);
    return { threshold: t, nodes: count, mC, mComplement, faithfulness: (mC - mEmpty) / (mFull - mEmpty), completeness: (mComplement - mEmpty) / (mFull - mEmpty) };
  });
  return { mFull, mEmpty, rows };
}
