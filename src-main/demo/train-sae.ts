/**
 * Sparse autoencoders for the demo model, trained with dictionary_learning's recipe (its
 * `StandardTrainer` + `ConstrainedAdam`; the ae.pt format is in docs/sae-formats.md), scaled down:
 *
 *   f  = ReLU(W_enc (x − b_dec) + b_enc)        x̂ = W_dec f + b_dec
 *   loss = mean_rows ‖x − x̂‖² + λ · mean_rows ‖f‖₁
 *
 * - decoder columns unit norm: before each Adam step the decoder gradient loses its component
 *   along each column (ConstrainedAdam), after it the columns are renormalised;
 * - dead-feature resampling: every `resampleEvery` steps, features that fired on no row during
 *   the last `deadWindow` steps get a new direction drawn from the batch's activations with
 *   probability ∝ reconstruction error (decoder column = v/‖v‖, encoder row = v/‖v‖ · mean
 *   alive encoder norm · 0.2, encoder bias 0, Adam moments of those entries reset), followed
 *   by a short learning-rate re-warmup. The encoder row uses the normalised v as in
 *   Anthropic's recipe that dictionary_learning follows (its code scales the raw v, which
 *   makes a resampled feature fire ‖v‖ times too strongly and blew up training here);
 * - linear learning-rate warmup, linear decay over the last part; λ warmed up linearly too
 *   (dictionary_learning's sparsity warmup).
 *
 * Activations are scaled by a constant c per hook point so that mean ‖c·x‖² = D during
 * training (dictionary_learning's normalize_activations), which makes one λ fit every hook;
 * the scale is folded back when the SAE is written (b_dec/c, b_enc/c; features come out in
 * the raw activation's units, decoder columns stay unit norm).
 *
 * The gradient is the engine's autodiff of the loss graph (weights are graph inputs); Adam is
 * the demo LM's Adam (train-lm.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { grad } from '../engine/autodiff';
import { Graph } from '../engine/graph';
import type { SessionCache } from '../engine/session';
import { Tensor } from '../engine/tensor';
import { dictionaryLearningFolder } from '../saes/load';
import type { Sae } from '../saes/types';
import { writeTorchFile } from '../saes/write-torch';
import { Rng } from './rng';
import { Adam, type Weights } from './train-lm';

/** An AutoEncoder state_dict in dictionary_learning's layout. */
export interface AeState {
  /** b_dec [D] */
  bias: Float32Array;
  /** W_enc [F, D] */
  encW: Float32Array;
  /** b_enc [F] */
  encB: Float32Array;
  /** W_dec [D, F]; column i is feature i's unit direction. */
  decW: Float32Array;
  d: number;
  f: number;
}

export interface SaeTrainOptions {
  f: number;
  /** λ of the L1 penalty (on activations normalised to mean ‖x‖² = D). */
  l1: number;
  lr: number;
  steps: number;
  batch: number;
  warmup: number;
  /** Steps over which λ rises linearly from 0. */
  sparsityWarmup: number;
  /** Step from which the learning rate decays linearly to 0. */
  decayStart: number;
  /** Resample dead features every this many steps (0 = never); not after decayStart. */
  resampleEvery: number;
  /** A feature is dead if it fired on no row in this many recent steps. */
  deadWindow: number;
  seed: number;
  sessions: SessionCache;
  onLog?: (info: { step: number; recon: number; l1: number; l0: number; lr: number; resampled?: number }) => void;
}

export interface SaeTrainResult {
  state: AeState;
  /** The activation scale used in training (folded back into state). */
  scale: number;
  resampled: number[];
  final: { recon: number; l0: number };
}

/**
 * The training graph: inputs x [N,D], W_enc [F,D], b_enc [F], W_dec [D,F], b_dec [D], inv_n and
 * lambda (scalars), d_loss. Outputs loss, recon (mean ‖x − x̂‖²), l1 (mean ‖f‖₁), fired [F]
 * (rows on which each feature is active) and grad:<param>.
 */
export function buildSaeTrainGraph(d: number, f: number): Graph {
  const g = new Graph();
  const x = g.input('x', 'float32', ['N', d]);
  const encW = g.input('W_enc', 'float32', [f, d]);
  const encB = g.input('b_enc', 'float32', [f]);
  const decW = g.input('W_dec', 'float32', [d, f]);
  const bDec = g.input('b_dec', 'float32', [d]);
  const invN = g.input('inv_n', 'float32', []);
  const lambda = g.input('lambda', 'float32', []);
  const feats = x.sub(bDec).matmul(encW.transpose([1, 0])).add(encB).relu();
  const xHat = feats.matmul(decW.transpose([1, 0])).add(bDec);
  const e = x.sub(xHat);
  const recon = e.mul(e).sum([0, 1], false).mul(invN);
  const l1 = feats.sum([0, 1], false).mul(invN);
  const loss = recon.add(l1.mul(lambda));
  g.output('loss', loss);
  g.output('recon', recon);
  g.output('l1', l1);
  g.output('fired', feats.step().sum([0], false));
  const params = [encW, encB, decW, bDec];
  const names = ['W_enc', 'b_enc', 'W_dec', 'b_dec'];
  grad(g, [{ name: 'loss', sym: loss }], params).forEach((gs, i) => g.output(`grad:${names[i]}`, gs!));
  return g;
}

/** Forward only: recon error per row (for resampling) and features. */
function buildSaeForwardGraph(d: number, f: number): Graph {
  const g = new Graph();
  const x = g.input('x', 'float32', ['N', d]);
  const encW = g.input('W_enc', 'float32', [f, d]);
  const encB = g.input('b_enc', 'float32', [f]);
  const decW = g.input('W_dec', 'float32', [d, f]);
  const bDec = g.input('b_dec', 'float32', [d]);
  const feats = x.sub(bDec).matmul(encW.transpose([1, 0])).add(encB).relu();
  const e = x.sub(feats.matmul(decW.transpose([1, 0])).add(bDec));
  g.output('err2', e.mul(e).sum([1], false));
  return g;
}

/** Scale c with mean ‖c·x‖² = D over rows of x [N, D]. */
export function activationScale(x: Float32Array, d: number): number {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
  const meanSq = ss / (x.length / d);
  return meanSq > 0 ? Math.sqrt(d / meanSq) : 1;
}

function normalizeColumns(w: Float32Array, d: number, f: number, cols?: Iterable<number>): void {
  for (const i of cols ?? Array.from({ length: f }, (_, k) => k)) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += w[j * f + i]! ** 2;
    const n = Math.sqrt(ss) || 1;
    for (let j = 0; j < d; j++) w[j * f + i]! /= n;
  }
}

/** ConstrainedAdam: remove from each decoder column's gradient its component along the (unit) column. */
function projectDecoderGrad(w: Float32Array, g: Float32Array, d: number, f: number): void {
  const dot = new Float64Array(f);
  for (let j = 0; j < d; j++) for (let i = 0; i < f; i++) dot[i]! += g[j * f + i]! * w[j * f + i]!;
  for (let j = 0; j < d; j++) for (let i = 0; i < f; i++) g[j * f + i]! -= dot[i]! * w[j * f + i]!;
}

/** Trains one SAE on activations x [N, D] (raw; scaled internally). */
export async function trainSae(raw: Float32Array, d: number, o: SaeTrainOptions): Promise<SaeTrainResult> {
  const f = o.f;
  const n = raw.length / d;
  if (!Number.isInteger(n) || n < o.batch) throw new Error(`trainSae: need at least ${o.batch} rows of width ${d}, got ${raw.length / d}`);
  const scale = activationScale(raw, d);
  const x = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) x[i] = raw[i]! * scale;
  const rng = new Rng(o.seed);

  // dictionary_learning's AutoEncoder init: one random matrix with unit columns as decoder,
  // its transpose as encoder; b_dec starts at the data mean (not zero) so early steps learn
  // directions rather than the offset.
  const decW = new Float32Array(d * f);
  for (let i = 0; i < decW.length; i++) decW[i] = rng.normal();
  normalizeColumns(decW, d, f);
  const encW = new Float32Array(f * d);
  for (let i = 0; i < f; i++) for (let j = 0; j < d; j++) encW[i * d + j] = decW[j * f + i]!;
  const encB = new Float32Array(f);
  const bDec = new Float32Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) bDec[j]! += x[r * d + j]! / n;
  const params: Weights = new Map([
    ['W_enc', encW],
    ['b_enc', encB],
    ['W_dec', decW],
    ['b_dec', bDec],
  ]);
  const adam = new Adam();

  const key = `demo-sae-train:${d}:${f}`;
  const session = await o.sessions.get(key, () => buildSaeTrainGraph(d, f));
  const fwd = await o.sessions.get(`demo-sae-fwd:${d}:${f}`, () => buildSaeForwardGraph(d, f));
  const B = o.batch;
  const batch = new Float32Array(B * d);
  const lastFired = new Int32Array(f); // step at which each feature last fired
  const resampled: number[] = [];
  let lastResample = -Infinity;
  let recent = { recon: 0, l0: 0, l1: 0, k: 0 };
  const final = { recon: 0, l0: 0 };
  const tailStart = Math.floor(o.steps * 0.9);
  let tailK = 0;

  for (let step = 0; step < o.steps; step++) {
    for (let k = 0; k < B; k++) {
      const r = rng.int(n);
      batch.set(x.subarray(r * d, (r + 1) * d), k * d);
    }
    const since = step - lastResample;
    const warm = Math.min(1, (step + 1) / o.warmup, since < o.warmup ? (since + 1) / o.warmup : 1);
    const decay = step >= o.decayStart ? Math.max(0, (o.steps - step) / Math.max(1, o.steps - o.decayStart)) : 1;
    const lr = o.lr * warm * decay;
    const lambda = o.l1 * Math.min(1, (step + 1) / Math.max(1, o.sparsityWarmup));
    const out = await session.run({
      x: new Tensor(batch, [B, d]),
      W_enc: new Tensor(encW, [f, d]),
      b_enc: new Tensor(encB, [f]),
      W_dec: new Tensor(decW, [d, f]),
      b_dec: new Tensor(bDec, [d]),
      inv_n: new Tensor(Float32Array.of(1 / B), []),
      lambda: new Tensor(Float32Array.of(lambda), []),
      d_loss: new Tensor(Float32Array.of(1), []),
    });
    const fired = out.fired!.data;
    let l0 = 0;
    for (let i = 0; i < f; i++) {
      if (fired[i]! > 0) lastFired[i] = step;
      l0 += fired[i]!;
    }
    const recon = out.recon!.data[0]!;
    if (!Number.isFinite(recon)) throw new Error(`SAE training diverged at step ${step}`);
    recent.recon += recon;
    recent.l0 += l0 / B;
    recent.l1 += out.l1!.data[0]!;
    recent.k++;
    if (step >= tailStart) {
      final.recon += recon;
      final.l0 += l0 / B;
      tailK++;
    }

    const grads: Weights = new Map(['W_enc', 'b_enc', 'W_dec', 'b_dec'].map((k) => [k, out[`grad:${k}`]!.data]));
    projectDecoderGrad(decW, grads.get('W_dec')!, d, f);
    adam.step(params, grads, lr);
    normalizeColumns(decW, d, f);

    let nRes: number | undefined;
    if (o.resampleEvery > 0 && step > 0 && (step + 1) % o.resampleEvery === 0 && step < o.decayStart) {
      const dead: number[] = [];
      for (let i = 0; i < f; i++) if (step - lastFired[i]! >= o.deadWindow) dead.push(i);
      if (dead.length) {
        nRes = await resample(dead, batch, B, d, f, { encW, encB, decW, bDec }, fwd, adam, rng);
        for (const i of dead) lastFired[i] = step;
        resampled.push(nRes);
        lastResample = step;
      }
    }
    if (o.onLog && (nRes !== undefined || (step + 1) % 250 === 0 || step === o.steps - 1)) {
      const k = Math.max(1, recent.k);
      o.onLog({ step: step + 1, recon: recent.recon / k, l1: recent.l1 / k, l0: recent.l0 / k, lr, resampled: nRes });
      recent = { recon: 0, l0: 0, l1: 0, k: 0 };
    }
  }

  // Fold the activation scale back: features in raw units, decoder columns still unit norm.
  const state: AeState = { d, f, bias: bDec.map((v) => v / scale), encW, encB: encB.map((v) => v / scale), decW };
  return { state, scale, resampled, final: { recon: final.recon / Math.max(1, tailK), l0: final.l0 / Math.max(1, tailK) } };
}

/** dictionary_learning's resample_neurons, on the current batch. */
async function resample(
  dead: number[],
  batch: Float32Array,
  B: number,
  d: number,
  f: number,
  p: { encW: Float32Array; encB: Float32Array; decW: Float32Array; bDec: Float32Array },
  fwd: { run: (feeds: Record<string, Tensor>) => Promise<Record<string, Tensor<Float32Array>>> },
  adam: Adam,
  rng: Rng,
): Promise<number> {
  const out = await fwd.run({
    x: new Tensor(batch, [B, d]),
    W_enc: new Tensor(p.encW, [f, d]),
    b_enc: new Tensor(p.encB, [f]),
    W_dec: new Tensor(p.decW, [d, f]),
    b_dec: new Tensor(p.bDec, [d]),
  });
  // Sampling weights ∝ ‖x − x̂‖ (not squared), without replacement.
  const w = Array.from(out.err2!.data, (v) => Math.sqrt(Math.max(0, v)));
  const count = Math.min(dead.length, B);
  const deadSet = new Set(dead);
  let aliveNorm = 0;
  let alive = 0;
  for (let i = 0; i < f; i++) {
    if (deadSet.has(i)) continue;
    let ss = 0;
    for (let j = 0; j < d; j++) ss += p.encW[i * d + j]! ** 2;
    aliveNorm += Math.sqrt(ss);
    alive++;
  }
  aliveNorm = alive ? aliveNorm / alive : 1;
  const chosen = dead.slice(0, count);
  for (const i of chosen) {
    const r = rng.weighted(w);
    w[r] = 0;
    const v = batch.subarray(r * d, (r + 1) * d);
    let ss = 0;
    for (let j = 0; j < d; j++) ss += v[j]! ** 2;
    const norm = Math.sqrt(ss) || 1;
    for (let j = 0; j < d; j++) {
      p.encW[i * d + j] = (v[j]! / norm) * aliveNorm * 0.2;
      p.decW[j * f + i] = v[j]! / norm;
    }
    p.encB[i] = 0;
  }
  adam.resetEntries('b_enc', chosen);
  adam.resetEntries('W_enc', chosen.flatMap((i) => Array.from({ length: d }, (_, j) => i * d + j)));
  adam.resetEntries('W_dec', chosen.flatMap((i) => Array.from({ length: d }, (_, j) => j * f + i)));
  return count;
}

/** The canonical SAE (saes/types.ts) of a state, as the dictionary_learning loader would build it. */
export function aeStateToSae(s: AeState, source = 'demo'): Sae {
  const dec = new Float32Array(s.f * s.d);
  for (let j = 0; j < s.d; j++) for (let i = 0; i < s.f; i++) dec[i * s.d + j] = s.decW[j * s.f + i]!;
  return { kind: 'relu', d: s.d, f: s.f, enc: s.encW, bEnc: s.encB, dec, bDec: s.bias, applyBDecToInput: true, source };
}

/**
 * Writes `<root>/<embed | attn_out_layer{l} | ...>/<run>_<F>/{ae.pt, config.json}` (the
 * dictionary_learning layout the SAE loader reads). Returns the ae.pt path.
 */
export function writeAe(root: string, submodule: string, run: string, s: AeState, config: Record<string, unknown>): string {
  const dir = join(root, dictionaryLearningFolder(submodule), `${run}_${s.f}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'ae.pt');
  writeTorchFile(path, {
    bias: { shape: [s.d], data: s.bias },
    'encoder.weight': { shape: [s.f, s.d], data: s.encW },
    'encoder.bias': { shape: [s.f], data: s.encB },
    'decoder.weight': { shape: [s.d, s.f], data: s.decW },
  });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return path;
}
