/**
 * Trains the demo's GPT-NeoX model as a causal LM on the demo corpus, in the project's own
 * engine: one graph holds the forward pass (the same builders as Pythia: attnBlock, mlpBlock,
 * layerNorm, linear from models/gptneox.ts), the next-token cross-entropy and its gradient
 * with respect to every weight (engine autodiff; weights are graph inputs). onnxruntime runs
 * it; Adam, gradient clipping and the warmup + cosine learning-rate schedule are plain
 * TypeScript over Float32Arrays. The result is an ordinary Hugging Face folder (config.json,
 * model.safetensors, tokenizer.json) that loadNeoxFolder reads.
 *
 * The embedding is a one-hot MatMul (Gather has no gradient with respect to its table).
 * Sentences are packed several to a row with a block-diagonal causal mask (see lmFeeds), so
 * the weight-gradient MatMuls have a long inner dimension.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { grad } from '../engine/autodiff';
import { Graph, type Sym } from '../engine/graph';
import type { SessionCache } from '../engine/session';
import { Tensor } from '../engine/tensor';
import {
  ATTN_WEIGHTS,
  MLP_WEIGHTS,
  type NeoxConfig,
  attnBlock,
  globalParams,
  layerNorm,
  layerParams,
  linear,
  mlpBlock,
  paramShapes,
  rotaryDims,
} from '../models/gptneox';
import { writeSafetensors } from '../models/safetensors';
import { Rng } from './rng';
import { writeDemoTokenizer } from './tokenizer';

export type Weights = Map<string, Float32Array>;

export interface DemoModelShape {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocab: number;
  maxPositions?: number;
  rotaryPct?: number;
}

export function demoNeoxConfig(s: DemoModelShape): NeoxConfig {
  return {
    hiddenSize: s.hidden,
    numLayers: s.layers,
    numHeads: s.heads,
    intermediateSize: s.intermediate,
    vocabSize: s.vocab,
    rotaryPct: s.rotaryPct ?? 0.25,
    rotaryBase: 10000,
    layerNormEps: 1e-5,
    parallelResidual: true,
    maxPositions: s.maxPositions ?? 64,
  };
}

/** Parameter names in a fixed order (the order of initialisation and of the safetensors file). */
export function paramNames(c: NeoxConfig): string[] {
  return [...paramShapes(c).keys()];
}

/**
 * GPT-NeoX's own defaults: "small_init" N(0, √(2/(5D))) for matrices and the embeddings,
 * "wang_init" N(0, 2/(L·√D)) for the two output projections (attention dense, MLP 4h→h),
 * zero biases, LayerNorm weight 1.
 */
export function initWeights(c: NeoxConfig, seed: number): Weights {
  const rng = new Rng(seed);
  const small = Math.sqrt(2 / (5 * c.hiddenSize));
  const wang = 2 / (c.numLayers * Math.sqrt(c.hiddenSize));
  const out: Weights = new Map();
  for (const [name, shape] of paramShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(n);
    if (name.endsWith('layernorm.weight') || name.endsWith('final_layer_norm.weight')) w.fill(1);
    else if (shape.length === 2) {
      const std = /attention\.dense\.weight|dense_4h_to_h\.weight/.test(name) ? wang : small;
      for (let i = 0; i < n; i++) w[i] = std * rng.normal();
    }
    out.set(name, w);
  }
  return out;
}

/**
 * The training graph: inputs onehot [B,S,V], target [B,S,V] (one-hot next token scaled by
 * 1/number-of-predicted-tokens, zero rows where nothing is predicted), bias [B,1,S,S],
 * cos/sin [S,R], every weight by its HF name, and d_loss (= 1). Outputs: loss, and
 * `grad:<name>` for every weight.
 */
export function buildLmTrainGraph(c: NeoxConfig): Graph {
  const g = new Graph();
  const V = c.vocabSize;
  const R = rotaryDims(c);
  const onehot = g.input('onehot', 'float32', ['B', 'S', V]);
  const target = g.input('target', 'float32', ['B', 'S', V]);
  const bias = g.input('bias', 'float32', ['B', 1, 'S', 'S']);
  const cos = g.input('cos', 'float32', ['S', R]);
  const sin = g.input('sin', 'float32', ['S', R]);
  const W = new Map<string, Sym>();
  for (const [name, shape] of paramShapes(c)) W.set(name, g.input(name, 'float32', shape));
  const w = (name: string) => W.get(name)!;

  let h = onehot.matmul(w(globalParams.embed));
  for (let l = 0; l < c.numLayers; l++) {
    const names = layerParams(l);
    const pick = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, w(names[k]!)]));
    const a = attnBlock(g, c, { h, bias, cos, sin }, pick(ATTN_WEIGHTS));
    const m = mlpBlock(g, c, h, pick(MLP_WEIGHTS));
    h = h.add(a).add(m);
  }
  const logits = linear(layerNorm(h, w(globalParams.lnf_w), w(globalParams.lnf_b), c.layerNormEps), w(globalParams.unembed));
  const loss = logits.logSoftmax().mul(target).sum([0, 1, 2], false).neg();
  g.output('loss', loss);
  const names = [...W.keys()];
  const grads = grad(g, [{ name: 'loss', sym: loss }], names.map(w));
  grads.forEach((gs, i) => {
    if (!gs) throw new Error(`no gradient reaches ${names[i]}`);
    g.output(`grad:${names[i]}`, gs);
  });
  return g;
}

export function lmGraphKey(c: NeoxConfig): string {
  return `demo-lm-train:${c.numLayers}:${c.hiddenSize}:${c.numHeads}:${c.intermediateSize}:${c.vocabSize}:${rotaryDims(c)}`;
}

/** cos/sin tables [S,R] for positions 0..S−1, exactly as NeoxModel.batch builds them. */
export function rotaryTables(c: NeoxConfig, S: number): { cos: Tensor<Float32Array>; sin: Tensor<Float32Array> } {
  const R = rotaryDims(c);
  const cos = new Float32Array(S * R);
  const sin = new Float32Array(S * R);
  for (let p = 0; p < S; p++)
    for (let j = 0; j < R / 2; j++) {
      const angle = p * Math.pow(c.rotaryBase, (-2 * j) / R);
      cos[p * R + j] = cos[p * R + j + R / 2] = Math.cos(angle);
      sin[p * R + j] = sin[p * R + j + R / 2] = Math.sin(angle);
    }
  return { cos: new Tensor(cos, [S, R]), sin: new Tensor(sin, [S, R]) };
}

/**
 * Feeds for a batch of rows, each row a list of sentences (token ids) packed one after another
 * and right-padded with 0 to the longest row. The attention bias is block-diagonal causal: a
 * token sees only the earlier tokens of its own sentence. RoPE depends only on relative
 * offsets, so a sentence packed at offset o computes exactly what it computes alone at offset
 * 0 (up to rounding); packing keeps the weight-gradient MatMuls long (K = row length).
 * Loss: mean cross-entropy over every real next token.
 */
export function lmFeeds(c: NeoxConfig, rows: readonly (readonly (readonly number[])[])[]): { feeds: Record<string, Tensor>; predicted: number } {
  const B = rows.length;
  const lens = rows.map((r) => r.reduce((a, s) => a + s.length, 0));
  const S = Math.max(...lens);
  const V = c.vocabSize;
  if (S > c.maxPositions) throw new Error(`lmFeeds: a row of ${S} tokens exceeds max_position_embeddings ${c.maxPositions}`);
  const onehot = new Float32Array(B * S * V);
  const target = new Float32Array(B * S * V);
  const bias = new Float32Array(B * S * S).fill(-1e9);
  let predicted = 0;
  for (const r of rows) for (const s of r) predicted += Math.max(0, s.length - 1);
  if (predicted <= 0) throw new Error('lmFeeds: no token to predict (every sentence has length ≤ 1)');
  const scale = 1 / predicted;
  rows.forEach((row, b) => {
    let off = 0;
    for (const s of row) {
      s.forEach((t, i) => {
        if (!(t >= 0 && t < V)) throw new Error(`lmFeeds: token id ${t} outside the vocabulary (${V})`);
        const p = off + i;
        onehot[(b * S + p) * V + t] = 1;
        if (i + 1 < s.length) target[(b * S + p) * V + s[i + 1]!] = scale;
        for (let j = off; j <= p; j++) bias[(b * S + p) * S + j] = 0;
      });
      off += s.length;
    }
    for (let p = off; p < S; p++) bias[(b * S + p) * S + p] = 0; // pads see themselves (no NaN rows)
  });
  const { cos, sin } = rotaryTables(c, S);
  return {
    feeds: {
      onehot: new Tensor(onehot, [B, S, V]),
      target: new Tensor(target, [B, S, V]),
      bias: new Tensor(bias, [B, 1, S, S]),
      cos,
      sin,
      d_loss: new Tensor(Float32Array.of(1), []),
    },
    predicted,
  };
}

/** Packs sentences greedily, in order, into rows of at most `rowLength` tokens. */
export function packRows(sentences: readonly (readonly number[])[], rowLength: number): number[][][] {
  const rows: number[][][] = [];
  let cur: number[][] = [];
  let len = 0;
  for (const s of sentences) {
    if (s.length > rowLength) throw new Error(`packRows: a sentence of ${s.length} tokens exceeds the row length ${rowLength}`);
    if (len + s.length > rowLength) {
      rows.push(cur);
      cur = [];
      len = 0;
    }
    cur.push([...s]);
    len += s.length;
  }
  if (cur.length) rows.push(cur);
  return rows;
}

/** Loss (mean next-token cross-entropy, nats) and gradients for one batch. */
export async function lmLossAndGrad(
  sessions: SessionCache,
  c: NeoxConfig,
  weights: Weights,
  rows: readonly (readonly (readonly number[])[])[],
): Promise<{ loss: number; grads: Weights }> {
  const session = await sessions.get(lmGraphKey(c), () => buildLmTrainGraph(c));
  const { feeds } = lmFeeds(c, rows);
  for (const [name, shape] of paramShapes(c)) feeds[name] = new Tensor(weights.get(name)!, shape);
  const out = await session.run(feeds);
  const grads: Weights = new Map();
  for (const name of paramShapes(c).keys()) grads.set(name, out[`grad:${name}`]!.data);
  return { loss: out.loss!.data[0]!, grads };
}

// ---- optimiser --------------------------------------------------------------------------------

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled (AdamW) weight decay, applied to the parameters `decay` selects. */
  weightDecay?: number;
  decay?: (name: string) => boolean;
}

/** Adam(W) over named Float32Array parameters, updated in place. */
export class Adam {
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private t = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  constructor(private readonly opts: AdamOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  get steps(): number {
    return this.t;
  }

  /** One step with learning rate `lr`; `params` and `grads` share names. */
  step(params: Weights, grads: Weights, lr: number): void {
    this.t++;
    const { beta1: b1, beta2: b2, eps } = this;
    const c1 = 1 - Math.pow(b1, this.t);
    const c2 = 1 - Math.pow(b2, this.t);
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = new Float32Array(p.length);
        v = new Float32Array(p.length);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const wd = this.opts.weightDecay && (this.opts.decay?.(name) ?? true) ? this.opts.weightDecay * lr : 0;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        const mi = (m[i] = b1 * m[i]! + (1 - b1) * gi);
        const vi = (v[i] = b2 * v[i]! + (1 - b2) * gi * gi);
        p[i] = p[i]! - wd * p[i]! - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps);
      }
    }
  }

  /** Zero the moments of some entries (used when SAE features are resampled). */
  resetEntries(name: string, indices: Iterable<number>): void {
    const m = this.m.get(name);
    const v = this.v.get(name);
    if (!m || !v) return;
    for (const i of indices) m[i] = v[i] = 0;
  }
}

/** Linear warmup to `peak`, then cosine decay to `peak·final` at `total`. */
export function lrSchedule(step: number, o: { peak: number; warmup: number; total: number; final?: number }): number {
  if (step < o.warmup) return (o.peak * (step + 1)) / o.warmup;
  const p = Math.min(1, (step - o.warmup) / Math.max(1, o.total - o.warmup));
  const fin = o.final ?? 0.1;
  return o.peak * (fin + (1 - fin) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** Scales all gradients so that their global L2 norm is at most `max`; returns the norm before. */
export function clipGradNorm(grads: Weights, max: number): number {
  let ss = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) ss += g[i]! * g[i]!;
  const norm = Math.sqrt(ss);
  if (norm > max) {
    const s = max / norm;
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i]! *= s;
  }
  return norm;
}

// ---- the HF folder ----------------------------------------------------------------------------

export function hfConfigJson(c: NeoxConfig): Record<string, unknown> {
  return {
    architectures: ['GPTNeoXForCausalLM'],
    model_type: 'gpt_neox',
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    intermediate_size: c.intermediateSize,
    vocab_size: c.vocabSize,
    rotary_pct: c.rotaryPct,
    rotary_emb_base: c.rotaryBase,
    layer_norm_eps: c.layerNormEps,
    hidden_act: 'gelu',
    use_parallel_residual: true,
    tie_word_embeddings: false,
    max_position_embeddings: c.maxPositions,
    bos_token_id: 0,
    eos_token_id: 0,
    attention_bias: true,
    attention_dropout: 0,
    hidden_dropout: 0,
    initializer_range: 0.02,
    use_cache: true,
    torch_dtype: 'float32',
  };
}

/** Writes config.json, model.safetensors (float32) and the tokenizer files. */
export function writeModelFolder(dir: string, c: NeoxConfig, weights: Weights, words: readonly string[], metadata: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfigJson(c), null, 2) + '\n');
  const tensors = Object.fromEntries(
    [...paramShapes(c)].map(([name, shape]) => [name, { shape, data: weights.get(name)!, dtype: 'F32' as const }]),
  );
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt', ...metadata });
  writeDemoTokenizer(dir, words);
}

// ---- the training loop ------------------------------------------------------------------------

export interface LmTrainOptions {
  config: NeoxConfig;
  /** Seed of the initial weights (the data order is the corpus's own seed). */
  seed: number;
  steps: number;
  /** Sentences are drawn until a step holds at least this many tokens. */
  tokensPerStep: number;
  /** Row length sentences are packed into. */
  rowLength: number;
  peakLr: number;
  warmup: number;
  /** Final learning rate as a fraction of the peak (cosine decay). */
  finalLr?: number;
  clip?: number;
  weightDecay?: number;
  /** Draws the next training sentence as token ids. */
  next: () => number[];
  sessions: SessionCache;
  /** Called after every step. */
  onStep?: (info: { step: number; loss: number; lr: number; gradNorm: number; tokens: number }) => void | Promise<void>;
}

export interface LmTrainResult {
  weights: Weights;
  /** Training loss of every step. */
  losses: number[];
  tokens: number;
}

export async function trainLm(o: LmTrainOptions): Promise<LmTrainResult> {
  const weights = initWeights(o.config, o.seed);
  const adam = new Adam({
    weightDecay: o.weightDecay ?? 0,
    // Decay matrices only (not biases, LayerNorms or the embeddings), as usual.
    decay: (n) => /weight$/.test(n) && !/layernorm|layer_norm|embed_in|embed_out/.test(n),
  });
  const losses: number[] = [];
  let tokens = 0;
  for (let step = 0; step < o.steps; step++) {
    const sentences: number[][] = [];
    let n = 0;
    while (n < o.tokensPerStep) {
      const s = o.next();
      sentences.push(s);
      n += s.length;
    }
    tokens += n;
    const { loss, grads } = await lmLossAndGrad(o.sessions, o.config, weights, packRows(sentences, o.rowLength));
    if (!Number.isFinite(loss)) throw new Error(`demo LM training diverged at step ${step} (loss ${loss})`);
    const gradNorm = clipGradNorm(grads, o.clip ?? 1);
    const lr = lrSchedule(step, { peak: o.peakLr, warmup: o.warmup, total: o.steps, final: o.finalLr ?? 0.1 });
    adam.step(weights, grads, lr);
    losses.push(loss);
    await o.onStep?.({ step, loss, lr, gradNorm, tokens: n });
  }
  return { weights, losses, tokens };
}
