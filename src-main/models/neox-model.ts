/**
 * A loaded GPT-NeoX model: weights, tokenizer, and the segment runs the circuit code
 * orchestrates (forward per segment, and VJPs with a leading probe batch of cotangents).
 * Hooks (read/replace at embed, attn_l, mlp_l, resid_l) are ordinary TypeScript around these.
 */
import { describeNonFinite } from '../engine/finite';
import { EMBED, hookName } from './hooks';
import { Graph } from '../engine/graph';
import { grad } from '../engine/autodiff';
import type { SessionCache } from '../engine/session';
import { Tensor } from '../engine/tensor';
import {
  ATTN_WEIGHTS,
  MLP_WEIGHTS,
  type NeoxConfig,
  attnBlock,
  declareAttnInputs,
  declareHeadInputs,
  embedGraph,
  globalParams,
  hookPoints,
  layerParams,
  logitsHead,
  metricHead,
  mlpBlock,
  probeMetricHead,
  rotaryDims,
  tailGraph,
} from './gptneox';
import type { TextTokenizer } from './tokenizer';
import { countFlops } from '../engine/profile';

export type F32 = Tensor<Float32Array>;

/** A tokenized, left-padded batch with everything the segments need besides activations. */
export interface Batch {
  tokens: Tensor<Int32Array>; // [B,S]
  mask: Tensor<Int32Array>; // [B,S], 1 = real token
  bias: F32; // [B,1,S,S]
  cos: F32; // [S,R]
  sin: F32; // [S,R]
  /** [B,1,S] one-hot at the last position (the last real token under left padding). */
  last: F32;
}

export interface ForwardResult {
  /** Activation at every hook point, [B,S,D] (after any replacement). */
  acts: Map<string, F32>;
  /** h_L, the input of the final LayerNorm. */
  h: F32;
}

/**
 * A linear probe on the residual stream after `layer` (resid_layer), mean-pooled over the real
 * tokens: logit = w · pooled + bias (docs/shift.md, Probes).
 */
export interface ProbeHead {
  layer: number;
  /** [D] */
  weight: Float32Array;
  bias: number;
}

/** Called at each hook point in model order; may return a replacement activation. */
export type Hook = (name: string, x: F32) => F32 | undefined | Promise<F32 | undefined>;

export class NeoxModel {
  constructor(
    readonly path: string,
    readonly cfg: NeoxConfig,
    private readonly weights: Map<string, F32>,
    readonly tokenizer: TextTokenizer | null,
    private readonly sessions: SessionCache,
    /** Set on a view made by withProbe: the metric is this probe's logit, not next-token logits. */
    readonly probe: ProbeHead | null = null,
  ) {}

  /**
   * This model cut after layer `probe.layer`, with the probe's (signed) logit as its metric.
   * The circuit code reads the metric only through metric / metricVjp / tail and walks
   * cfg.numLayers layers, so discovery and ablation run on it unchanged: the hook points are
   * those up to resid_layer, and h_L is the probe layer's residual.
   */
  withProbe(probe: ProbeHead): NeoxModel {
    const L = this.probe ? this.probe.layer + 1 : this.cfg.numLayers;
    if (!Number.isInteger(probe.layer) || probe.layer < 0 || probe.layer >= L) {
      throw new Error(`${this.path}: probe layer ${probe.layer} is outside the model's layers 0..${L - 1}`);
    }
    if (probe.weight.length !== this.cfg.hiddenSize) {
      throw new Error(`${this.path}: the probe has ${probe.weight.length} weights but the model's residual stream has ${this.cfg.hiddenSize} dimensions`);
    }
    return new NeoxModel(this.path, { ...this.cfg, numLayers: probe.layer + 1 }, this.weights, this.tokenizer, this.sessions, probe);
  }

  get hookPoints(): string[] {
    return hookPoints(this.cfg);
  }

  get parameterCount(): number {
    let n = 0;
    for (const w of this.weights.values()) n += w.size;
    return n;
  }

  weight(name: string): F32 {
    const w = this.weights.get(name);
    if (!w) throw new Error(`${this.path}: weight '${name}' not loaded`);
    return w;
  }

  // ---- batches ------------------------------------------------------------------------------

  /** Left-pads token id lists to one length. */
  batchFromIds(ids: number[][]): Batch {
    const B = ids.length;
    if (B === 0) throw new Error('empty batch');
    const S = Math.max(...ids.map((r) => r.length));
    if (S === 0) throw new Error('every sequence in the batch is empty');
    const tokens = new Int32Array(B * S).fill(this.tokenizer?.padId ?? 0);
    const mask = new Int32Array(B * S);
    ids.forEach((row, b) => {
      const off = S - row.length;
      row.forEach((t, i) => {
        if (!Number.isInteger(t) || t < 0 || t >= this.cfg.vocabSize) {
          throw new Error(`token id ${t} is outside the model's vocabulary (0..${this.cfg.vocabSize - 1})`);
        }
        tokens[b * S + off + i] = t;
        mask[b * S + off + i] = 1;
      });
    });
    return this.batch(new Tensor(tokens, [B, S]), new Tensor(mask, [B, S]));
  }

  batchFromTexts(texts: string[]): Batch {
    const tok = this.requireTokenizer();
    return this.batchFromIds(
      texts.map((t) => {
        const ids = tok.encode(t);
        if (ids.length === 0) throw new Error(`text ${JSON.stringify(t)} has no tokens`);
        return ids;
      }),
    );
  }

  batch(tokens: Tensor<Int32Array>, mask: Tensor<Int32Array>): Batch {
    const [B, S] = tokens.shape;
    if (S > this.cfg.maxPositions) throw new Error(`sequence of ${S} tokens exceeds max_position_embeddings ${this.cfg.maxPositions}`);
    const bias = new Float32Array(B * S * S);
    const last = new Float32Array(B * S);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++) bias[(b * S + i) * S + j] = j <= i && mask.data[b * S + j] ? 0 : -1e9;
      last[b * S + S - 1] = 1;
    }
    const R = rotaryDims(this.cfg);
    const cos = new Float32Array(S * R);
    const sin = new Float32Array(S * R);
    for (let p = 0; p < S; p++)
      for (let j = 0; j < R / 2; j++) {
        const angle = p * Math.pow(this.cfg.rotaryBase, (-2 * j) / R);
        cos[p * R + j] = cos[p * R + j + R / 2] = Math.cos(angle);
        sin[p * R + j] = sin[p * R + j + R / 2] = Math.sin(angle);
      }
    return {
      tokens,
      mask,
      bias: new Tensor(bias, [B, 1, S, S]),
      cos: new Tensor(cos, [S, R]),
      sin: new Tensor(sin, [S, R]),
      last: new Tensor(last, [B, 1, S]),
    };
  }

  /** Analytic FLOPs of one attention / MLP forward over `tokens` tokens of length S. */
  private attnFlops(tokens: number, S: number): number {
    const D = this.cfg.hiddenSize;
    return tokens * (8 * D * D + 4 * S * D);
  }
  private mlpFlops(tokens: number): number {
    return tokens * 4 * this.cfg.hiddenSize * this.cfg.intermediateSize;
  }

  // ---- segments -----------------------------------------------------------------------------

  private key(kind: string): string {
    const c = this.cfg;
    return `neox:${kind}:${c.hiddenSize}:${c.numHeads}:${c.intermediateSize}:${c.vocabSize}:${rotaryDims(c)}:${c.layerNormEps}`;
  }

  private layerFeeds(l: number, keys: string[]): Record<string, F32> {
    const names = layerParams(l);
    return Object.fromEntries(keys.map((k) => [k, this.weight(names[k])]));
  }

  private headFeeds(b: Batch, h: F32, select?: F32): Record<string, Tensor> {
    if (this.probe) {
      const D = this.cfg.hiddenSize;
      return { h, select: poolWeights(b.mask), probe_w: new Tensor(this.probe.weight, [D, 1]), probe_b: new Tensor(Float32Array.of(this.probe.bias), [1]) };
    }
    return {
      h,
      select: select ?? b.last,
      lnf_w: this.weight(globalParams.lnf_w),
      lnf_b: this.weight(globalParams.lnf_b),
      unembed: this.weight(globalParams.unembed),
    };
  }

  /** Compiles (once) a segment graph; with `vjp`, it also outputs dh for a probe batch of cotangents. */
  private segment(kind: 'attn' | 'mlp' | 'metric', vjp: boolean) {
    const probe = kind === 'metric' && this.probe !== null;
    return this.sessions.get(this.key(`${probe ? 'probe-' : ''}${kind}${vjp ? ':vjp' : ''}`), () => {
      const g = new Graph();
      let h, y;
      if (kind === 'attn') {
        const x = declareAttnInputs(g, this.cfg);
        h = x.h;
        y = attnBlock(g, this.cfg, x);
      } else if (kind === 'mlp') {
        h = g.input('h', 'float32', ['B', 'S', this.cfg.hiddenSize]);
        y = mlpBlock(g, this.cfg, h);
      } else if (probe) {
        h = g.input('h', 'float32', ['B', 'S', this.cfg.hiddenSize]);
        y = probeMetricHead(g, this.cfg, h, g.input('select', 'float32', ['B', 'K', 'S']));
      } else {
        const x = declareHeadInputs(g, this.cfg);
        h = x.h;
        y = metricHead(g, this.cfg, x);
      }
      g.output('y', y);
      if (vjp) {
        const [dh] = grad(g, [{ name: 'y', sym: y }], [h], { probe: 'P' });
        g.output('dh', dh!);
      }
      return g;
    });
  }

  /**
   * From the input of layer `start` (h_start, [B,S,D]) to the metric, and back: returns the
   * metric [B] and d(Σ cot·metric)/dh_start. One fused graph per start layer.
   */
  async tail(start: number, b: Batch, h: F32, ids: Tensor<Int32Array>, coef: F32, cot: F32): Promise<{ metric: F32; dh: F32 }> {
    const c = this.cfg;
    const tokens = h.shape[0] * h.shape[1];
    const S = h.shape[1];
    const D = c.hiddenSize;
    const layers = c.numLayers - start;
    countFlops(layers * tokens * (16 * D * D + 12 * S * D + 8 * D * c.intermediateSize));
    const head = this.probe ? 'probe' : 'logits';
    const s = await this.sessions.get(this.key(`tail${start}:${c.numLayers}:${head}`), () => tailGraph(c, start, head));
    const feeds: Record<string, Tensor> = { h, bias: b.bias, cos: b.cos, sin: b.sin, ...this.headFeeds(b, h), ...this.answerFeeds(ids), coef, d_y: cot };
    for (let l = start; l < c.numLayers; l++) {
      for (const [k, name] of Object.entries(layerParams(l))) feeds[`${k}.${l}`] = this.weight(name);
    }
    const out = await s.run(feeds);
    return { metric: out.y, dh: out.dh };
  }

  async embed(b: Batch): Promise<F32> {
    const s = await this.sessions.get(this.key('embed'), () => embedGraph(this.cfg));
    return (await s.run({ tokens: b.tokens, embed: this.weight(globalParams.embed) })).y;
  }

  async attn(l: number, b: Batch, h: F32): Promise<F32> {
    countFlops(this.attnFlops(h.shape[0] * h.shape[1], h.shape[1]));
    const s = await this.segment('attn', false);
    return (await s.run({ h, bias: b.bias, cos: b.cos, sin: b.sin, ...this.layerFeeds(l, ATTN_WEIGHTS) })).y;
  }

  async mlp(l: number, h: F32): Promise<F32> {
    countFlops(this.mlpFlops(h.shape[0] * h.shape[1]));
    const s = await this.segment('mlp', false);
    return (await s.run({ h, ...this.layerFeeds(l, MLP_WEIGHTS) })).y;
  }

  /**
   * metric[b] = Σ_j coef[b,j]·logit[b, ids[b,j]] at the last position; on a probe view,
   * coef[b,0]·(probe logit of example b) (ids unused).
   */
  async metric(b: Batch, h: F32, ids: Tensor<Int32Array>, coef: F32): Promise<F32> {
    const s = await this.segment('metric', false);
    return (await s.run({ ...this.headFeeds(b, h), ...this.answerFeeds(ids), coef })).y;
  }

  /** The probe head reads no logits, so its graphs have no `ids` input. */
  private answerFeeds(ids: Tensor<Int32Array>): Record<string, Tensor> {
    return this.probe ? {} : { ids };
  }

  /** All logits at the selected positions (default: last), [B,K,V]. */
  async logits(b: Batch, h: F32, select?: F32): Promise<F32> {
    if (this.probe) throw new Error(`${this.path}: a probe view (cut after layer ${this.probe.layer}) has no next-token logits`);
    const s = await this.sessions.get(this.key('logits'), () => {
      const g = new Graph();
      g.output('y', logitsHead(g, this.cfg, declareHeadInputs(g, this.cfg)));
      return g;
    });
    return (await s.run(this.headFeeds(b, h, select))).y;
  }

  /** dL/dh for a probe batch of cotangents g [P,B,S,D] on a_l. */
  async attnVjp(l: number, b: Batch, h: F32, g: F32): Promise<F32> {
    const tokens = h.shape[0] * h.shape[1];
    const D = this.cfg.hiddenSize;
    countFlops(this.attnFlops(tokens, h.shape[1]) + g.shape[0] * tokens * (8 * D * D + 8 * h.shape[1] * D));
    const s = await this.segment('attn', true);
    return (await s.run({ h, bias: b.bias, cos: b.cos, sin: b.sin, d_y: g, ...this.layerFeeds(l, ATTN_WEIGHTS) })).dh;
  }

  async mlpVjp(l: number, h: F32, g: F32): Promise<F32> {
    countFlops(this.mlpFlops(h.shape[0] * h.shape[1]) * (1 + g.shape[0]));
    const s = await this.segment('mlp', true);
    return (await s.run({ h, d_y: g, ...this.layerFeeds(l, MLP_WEIGHTS) })).dh;
  }

  /** d(metric)/dh for cotangents g [P,B] on the metric. */
  async metricVjp(b: Batch, h: F32, ids: Tensor<Int32Array>, coef: F32, g: F32): Promise<F32> {
    const s = await this.segment('metric', true);
    return (await s.run({ ...this.headFeeds(b, h), ...this.answerFeeds(ids), coef, d_y: g })).dh;
  }

  // ---- whole passes -------------------------------------------------------------------------

  /** Runs the model, calling `hook` at every hook point in order (read or replace). */
  async forward(b: Batch, hook?: Hook, opts: { from?: { layer: number; h: F32 } } = {}): Promise<ForwardResult> {
    const acts = new Map<string, F32>();
    const at = async (name: string, x: F32): Promise<F32> => {
      const r = (hook && (await hook(name, x))) || x;
      acts.set(name, r);
      return r;
    };
    let h: F32;
    let start = 0;
    if (opts.from) {
      h = opts.from.h;
      start = opts.from.layer;
    } else h = await at(EMBED, await this.embed(b));
    for (let l = start; l < this.cfg.numLayers; l++) {
      const a = await at(hookName('attn', l), await this.attn(l, b, h));
      const m = await at(hookName('mlp', l), await this.mlp(l, h));
      h = await at(hookName('resid', l), add3(h, a, m));
    }
    return { acts, h };
  }

  /** Top-k next-token probabilities after `text`. */
  async predictNext(text: string, top: number): Promise<{ id: number; token: string; prob: number }[]> {
    const tok = this.requireTokenizer();
    const b = this.batchFromTexts([text]);
    const { h } = await this.forward(b);
    const logits = (await this.logits(b, h)).data;
    // Finite weights can still overflow; NaN logits would print as "NaN%" rather than fail.
    const bad = describeNonFinite(logits);
    if (bad) throw new Error(`${this.path}: the model's logits after ${JSON.stringify(text)} have ${bad}; its weights overflow float32 on this input`);
    let mx = -Infinity;
    for (const v of logits) mx = Math.max(mx, v);
    let z = 0;
    for (const v of logits) z += Math.exp(v - mx);
    const order = Array.from(logits.keys()).sort((i, j) => logits[j] - logits[i]).slice(0, Math.max(1, top));
    return order.map((id) => ({ id, token: tok.tokenString(id), prob: Math.exp(logits[id] - mx) / z }));
  }

  private requireTokenizer(): TextTokenizer {
    if (!this.tokenizer) throw new Error(`${this.path}: no tokenizer.json, so text input is not available`);
    return this.tokenizer;
  }
}

/** Mean-pooling weights [B,1,S]: mask / (number of real tokens), 0 on padding. */
export function poolWeights(mask: Tensor<Int32Array>): F32 {
  const [B, S] = mask.shape;
  const w = new Float32Array(B * S);
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let s = 0; s < S; s++) n += mask.data[b * S + s];
    if (n === 0) throw new Error(`example ${b + 1} of the batch has no tokens to pool`);
    for (let s = 0; s < S; s++) w[b * S + s] = mask.data[b * S + s] / n;
  }
  return new Tensor(w, [B, 1, S]);
}

export function add3(a: F32, b: F32, c: F32): F32 {
  const out = new Float32Array(a.size);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i] + b.data[i] + c.data[i];
  return new Tensor(out, a.shape);
}
