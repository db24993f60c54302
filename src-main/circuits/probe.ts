/**
 * Linear probes on a layer's residual stream, mean-pooled over the real tokens (docs/shift.md,
 * Probes): pooling, the training recipe (one logit, binary cross-entropy on logits, AdamW, one
 * epoch over the batches in data order, seeded initialisation) and evaluation.
 *
 * The head is tiny (D + 1 numbers), so training runs as plain float64 loops over the pooled
 * activations; only the model's forward passes go through onnxruntime.
 */
import { PyRandom } from '../data/py-random';
import type { Batch, F32, NeoxModel, ProbeHead } from '../models/neox-model';
import type { JobContext } from '../util/job-context';

/** The recipe of the original notebook (docs/shift.md); every field can be overridden. */
export const PROBE_RECIPE = {
  lr: 1e-2,
  epochs: 1,
  batchSize: 32,
  seed: 42,
  /** torch.optim.AdamW's defaults. */
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};
export type ProbeRecipe = typeof PROBE_RECIPE;

export interface LinearProbe {
  /** [D] */
  weight: Float32Array;
  bias: number;
}

/**
 * Mean of h [B,S,D] over the real tokens of each row (mask [B,S], 1 = real): [B·D].
 * Accumulated in float64.
 */
export function meanPool(h: F32, mask: ArrayLike<number>): Float32Array {
  const [B, S, D] = h.shape;
  const out = new Float32Array(B * D);
  const acc = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    acc.fill(0);
    let n = 0;
    for (let s = 0; s < S; s++) {
      if (!mask[b * S + s]) continue;
      n++;
      const o = (b * S + s) * D;
      for (let d = 0; d < D; d++) acc[d] += h.data[o + d];
    }
    if (n === 0) throw new Error(`meanPool: example ${b + 1} of the batch has no real tokens`);
    for (let d = 0; d < D; d++) out[b * D + d] = acc[d] / n;
  }
  return out;
}

/** Runs the model (or an ablated pass) on a batch and returns the probe layer's residual [B,S,D]. */
export type ResidualRun = (batch: Batch) => Promise<F32>;

/**
 * The residual after `layer`, as a model view that stops there (the probe head is unused by a
 * plain forward pass; the view only saves running the layers above).
 */
export function residualView(model: NeoxModel, layer: number): NeoxModel {
  return model.withProbe({ layer, weight: new Float32Array(model.cfg.hiddenSize), bias: 0 });
}

/** A plain forward pass of a (cut) model: h of its last layer. */
export const plainRun = (model: NeoxModel): ResidualRun => async (b) => (await model.forward(b)).h;

/**
 * Pooled residuals [N·D] of token sequences, in input order. Sequences are grouped by length
 * so that batches carry little padding (padding does not change the pooled values: padded keys
 * are masked out and pooling skips padded positions).
 */
export async function pooledResiduals(model: NeoxModel, seqs: readonly number[][], run: ResidualRun, opts: { batchSize?: number; job?: JobContext; what?: string } = {}): Promise<Float32Array> {
  const D = model.cfg.hiddenSize;
  const out = new Float32Array(seqs.length * D);
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a].length - seqs[b].length || a - b);
  const bs = opts.batchSize ?? 64;
  for (let k = 0; k < order.length; k += bs) {
    opts.job?.checkCancelled();
    opts.job?.progress(k / order.length, `${opts.what ?? 'activations'}: ${k}/${order.length}`);
    const part = order.slice(k, k + bs);
    const batch = model.batchFromIds(part.map((i) => seqs[i]));
    const pooled = meanPool(await run(batch), batch.mask.data);
    part.forEach((i, r) => out.set(pooled.subarray(r * D, (r + 1) * D), i * D));
  }
  return out;
}

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/**
 * Trains a one-logit probe on rows x [N·D] with labels y (0/1), in data order: batches of
 * `batchSize`, mean binary cross-entropy on logits, torch's AdamW (decoupled weight decay on
 * weight and bias alike), `epochs` passes. Initialisation as torch's nn.Linear: weight and bias
 * uniform in ±1/√D, drawn from Python's random.Random(seed) (torch's own generator is not
 * reproduced; docs/shift.md).
 */
export function trainProbe(x: Float32Array, y: ArrayLike<number>, D: number, recipe: Partial<ProbeRecipe> = {}): LinearProbe {
  const r = { ...PROBE_RECIPE, ...recipe };
  const N = y.length;
  if (x.length !== N * D) throw new Error(`trainProbe: ${x.length} activation values for ${N} labels of width ${D}`);
  if (N === 0) throw new Error('trainProbe: no training examples');
  for (let i = 0; i < N; i++) if (y[i] !== 0 && y[i] !== 1) throw new Error(`trainProbe: label ${i + 1} is ${y[i]}, not 0 or 1`);
  if (!(r.lr > 0) || !Number.isInteger(r.epochs) || r.epochs < 1 || !Number.isInteger(r.batchSize) || r.batchSize < 1) {
    throw new Error(`trainProbe: needs lr > 0 and positive integer epochs and batch size (got lr ${r.lr}, epochs ${r.epochs}, batch size ${r.batchSize})`);
  }
  const rng = new PyRandom(r.seed);
  const bound = 1 / Math.sqrt(D);
  // Parameters: D weights then the bias, as one vector (AdamW treats them alike).
  const P = D + 1;
  const w = new Float64Array(P);
  for (let i = 0; i < P; i++) w[i] = (2 * rng.random() - 1) * bound;
  const m = new Float64Array(P);
  const v = new Float64Array(P);
  const g = new Float64Array(P);
  let t = 0;
  for (let epoch = 0; epoch < r.epochs; epoch++) {
    for (let b0 = 0; b0 < N; b0 += r.batchSize) {
      const b1 = Math.min(N, b0 + r.batchSize);
      g.fill(0);
      for (let n = b0; n < b1; n++) {
        let z = w[D];
        for (let d = 0; d < D; d++) z += w[d] * x[n * D + d];
        const e = (sigmoid(z) - y[n]) / (b1 - b0); // ∂(mean BCE)/∂z
        for (let d = 0; d < D; d++) g[d] += e * x[n * D + d];
        g[D] += e;
      }
      t++;
      const c1 = 1 - r.beta1 ** t;
      const c2 = 1 - r.beta2 ** t;
      for (let i = 0; i < P; i++) {
        w[i] *= 1 - r.lr * r.weightDecay;
        m[i] = r.beta1 * m[i] + (1 - r.beta1) * g[i];
        v[i] = r.beta2 * v[i] + (1 - r.beta2) * g[i] * g[i];
        w[i] -= (r.lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + r.eps);
      }
    }
  }
  return { weight: Float32Array.from(w.subarray(0, D)), bias: w[D] };
}

/** Probe logits of rows x [N·D]. */
export function probeLogits(p: LinearProbe, x: Float32Array): Float64Array {
  const D = p.weight.length;
  const N = x.length / D;
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let z = p.bias;
    for (let d = 0; d < D; d++) z += p.weight[d] * x[n * D + d];
    out[n] = z;
  }
  return out;
}

/** Predictions (logit > 0) of rows x [N·D]. */
export function predict(p: LinearProbe, x: Float32Array): Uint8Array {
  return Uint8Array.from(probeLogits(p, x), (z) => (z > 0 ? 1 : 0));
}

/** Fraction of predictions equal to the labels over the given rows (all rows by default); NaN when empty. */
export function accuracy(pred: ArrayLike<number>, labels: ArrayLike<number>, rows?: readonly number[]): number {
  const idx = rows ?? Array.from({ length: labels.length }, (_, i) => i);
  if (!idx.length) return NaN;
  let ok = 0;
  for (const i of idx) if (pred[i] === labels[i]) ok++;
  return ok / idx.length;
}

/** The probe as the model's metric head (NeoxModel.withProbe). */
export function probeHead(p: LinearProbe, layer: number): ProbeHead {
  return { layer, weight: p.weight, bias: p.bias };
}

/** Rows `idx` of x [N·D] as a new [idx.length·D] array. */
export function takeRows(x: Float32Array, D: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * D);
  idx.forEach((i, r) => out.set(x.subarray(i * D, (i + 1) * D), r * D));
  return out;
}
