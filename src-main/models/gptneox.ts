/**
 * GPT-NeoX (Pythia) in the graph DSL, cut into segments at the hook points
 * (docs/method-notes.md, Model and hook points):
 *
 *   embed:  h_0 = E[tokens]
 *   attn_l: a_l = Attn_l(LN1_l(h_l))          mlp_l: m_l = MLP_l(LN2_l(h_l))      (parallel)
 *   resid_l = h_{l+1} = h_l + a_l + m_l       (plain addition, done by the caller)
 *   head:   logits = W_U · LN_f(h_L) at the asked positions
 *
 * Each builder is a pure function of the config; weights are graph inputs, so one session per
 * segment kind serves every layer (and every model of the same shape).
 */
import { Graph, type Sym, concat, gather } from '../engine/graph';
import { grad } from '../engine/autodiff';
import { hookPointNames } from './hooks';

export interface NeoxConfig {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  vocabSize: number;
  rotaryPct: number;
  rotaryBase: number;
  layerNormEps: number;
  parallelResidual: boolean;
  maxPositions: number;
}

export const headSize = (c: NeoxConfig): number => c.hiddenSize / c.numHeads;
export const rotaryDims = (c: NeoxConfig): number => Math.floor(headSize(c) * c.rotaryPct);

/** Hook point names in model order: embed, attn_0, mlp_0, resid_0, attn_1, ... (hooks.ts). */
export function hookPoints(c: NeoxConfig): string[] {
  return hookPointNames(c.numLayers);
}

/** HF parameter names of one layer, keyed by the graph input that takes them. */
export function layerParams(l: number): Record<string, string> {
  const p = `gpt_neox.layers.${l}`;
  return {
    ln1_w: `${p}.input_layernorm.weight`,
    ln1_b: `${p}.input_layernorm.bias`,
    ln2_w: `${p}.post_attention_layernorm.weight`,
    ln2_b: `${p}.post_attention_layernorm.bias`,
    qkv_w: `${p}.attention.query_key_value.weight`,
    qkv_b: `${p}.attention.query_key_value.bias`,
    dense_w: `${p}.attention.dense.weight`,
    dense_b: `${p}.attention.dense.bias`,
    fc_in_w: `${p}.mlp.dense_h_to_4h.weight`,
    fc_in_b: `${p}.mlp.dense_h_to_4h.bias`,
    fc_out_w: `${p}.mlp.dense_4h_to_h.weight`,
    fc_out_b: `${p}.mlp.dense_4h_to_h.bias`,
  };
}

export const globalParams = {
  embed: 'gpt_neox.embed_in.weight',
  lnf_w: 'gpt_neox.final_layer_norm.weight',
  lnf_b: 'gpt_neox.final_layer_norm.bias',
  unembed: 'embed_out.weight',
} as const;

/** Expected shape of every HF parameter. */
export function paramShapes(c: NeoxConfig): Map<string, number[]> {
  const D = c.hiddenSize, I = c.intermediateSize, V = c.vocabSize;
  const m = new Map<string, number[]>([
    [globalParams.embed, [V, D]],
    [globalParams.lnf_w, [D]],
    [globalParams.lnf_b, [D]],
    [globalParams.unembed, [V, D]],
  ]);
  const local: Record<string, number[]> = {
    ln1_w: [D], ln1_b: [D], ln2_w: [D], ln2_b: [D],
    qkv_w: [3 * D, D], qkv_b: [3 * D], dense_w: [D, D], dense_b: [D],
    fc_in_w: [I, D], fc_in_b: [I], fc_out_w: [D, I], fc_out_b: [D],
  };
  for (let l = 0; l < c.numLayers; l++) {
    for (const [k, name] of Object.entries(layerParams(l))) m.set(name, local[k]);
  }
  return m;
}

// ---- building blocks ------------------------------------------------------------------------

/** x · Wᵀ + b with an HF Linear weight W [out, in] (onnxruntime fuses the transpose). */
export function linear(x: Sym, w: Sym, b?: Sym): Sym {
  const y = x.matmul(w.transpose([1, 0]));
  return b ? y.add(b) : y;
}

export function layerNorm(x: Sym, w: Sym, b: Sym, eps: number): Sym {
  const c = x.sub(x.mean([-1]));
  return c.div(c.mul(c).mean([-1]).add(eps).sqrt()).mul(w).add(b);
}

/** HF rotate-half rotary embedding on the first R dims of [B,H,S,hs]; cos/sin are [S,R]. */
function rotary(x: Sym, cos: Sym, sin: Sym, hs: number, R: number): Sym {
  const rot = x.slice(-1, 0, R);
  const half = R / 2;
  const rotated = concat([rot.slice(-1, half, R).neg(), rot.slice(-1, 0, half)], -1);
  const y = rot.mul(cos).add(rotated.mul(sin));
  return R === hs ? y : concat([y, x.slice(-1, R, hs)], -1);
}

/** Weight inputs of a segment, declared on the graph. */
function weightInputs(g: Graph, c: NeoxConfig, keys: string[]): Record<string, Sym> {
  const shapes = paramShapes(c);
  const names = layerParams(0);
  return Object.fromEntries(keys.map((k) => [k, g.input(k, 'float32', shapes.get(names[k])!)]));
}

export interface AttnInputs {
  h: Sym;
  /** Additive attention bias [B,1,S,S]: 0 where a query may attend a key, else -1e9. */
  bias: Sym;
  cos: Sym;
  sin: Sym;
}

export function declareAttnInputs(g: Graph, c: NeoxConfig): AttnInputs {
  const R = rotaryDims(c);
  return {
    h: g.input('h', 'float32', ['B', 'S', c.hiddenSize]),
    bias: g.input('bias', 'float32', ['B', 1, 'S', 'S']),
    cos: g.input('cos', 'float32', ['S', R]),
    sin: g.input('sin', 'float32', ['S', R]),
  };
}

export const ATTN_WEIGHTS = ['ln1_w', 'ln1_b', 'qkv_w', 'qkv_b', 'dense_w', 'dense_b'];
export const MLP_WEIGHTS = ['ln2_w', 'ln2_b', 'fc_in_w', 'fc_in_b', 'fc_out_w', 'fc_out_b'];

/** a_l = Attn(LN1(h)) */
export function attnBlock(g: Graph, c: NeoxConfig, x: AttnInputs, w: Record<string, Sym> = weightInputs(g, c, ATTN_WEIGHTS)): Sym {
  const H = c.numHeads, hs = headSize(c), D = c.hiddenSize, R = rotaryDims(c);
  const ln = layerNorm(x.h, w.ln1_w, w.ln1_b, c.layerNormEps);
  // Fused QKV, interleaved per head: [B,S,H,3·hs] split as q | k | v inside each head.
  const qkv = linear(ln, w.qkv_w, w.qkv_b).reshape(['B', 'S', H, 3 * hs]);
  const heads = (s: Sym): Sym => s.transpose([0, 2, 1, 3]); // [B,H,S,hs]
  let q = heads(qkv.slice(-1, 0, hs));
  let k = heads(qkv.slice(-1, hs, 2 * hs));
  const v = heads(qkv.slice(-1, 2 * hs, 3 * hs));
  if (R > 0) {
    q = rotary(q, x.cos, x.sin, hs, R);
    k = rotary(k, x.cos, x.sin, hs, R);
  }
  const scores = q.matmul(k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(hs)).add(x.bias);
  const ctx = scores.softmax().matmul(v).transpose([0, 2, 1, 3]).reshape(['B', 'S', D]);
  return linear(ctx, w.dense_w, w.dense_b);
}

/** m_l = MLP(LN2(h)) with exact GELU. */
export function mlpBlock(g: Graph, c: NeoxConfig, h: Sym, w: Record<string, Sym> = weightInputs(g, c, MLP_WEIGHTS)): Sym {
  const ln = layerNorm(h, w.ln2_w, w.ln2_b, c.layerNormEps);
  return linear(linear(ln, w.fc_in_w, w.fc_in_b).gelu(), w.fc_out_w, w.fc_out_b);
}

export interface HeadInputs {
  h: Sym;
  /** [B,K,S] one-hot rows picking the K positions to read (usually K = 1, the last token). */
  select: Sym;
  lnf_w: Sym;
  lnf_b: Sym;
}

export function declareHeadInputs(g: Graph, c: NeoxConfig): HeadInputs {
  return {
    h: g.input('h', 'float32', ['B', 'S', c.hiddenSize]),
    select: g.input('select', 'float32', ['B', 'K', 'S']),
    lnf_w: g.input('lnf_w', 'float32', [c.hiddenSize]),
    lnf_b: g.input('lnf_b', 'float32', [c.hiddenSize]),
  };
}

/** Final LayerNorm at the selected positions: [B,K,D]. */
export function finalHidden(c: NeoxConfig, x: HeadInputs): Sym {
  return layerNorm(x.select.matmul(x.h), x.lnf_w, x.lnf_b, c.layerNormEps);
}

/**
 * A metric that is linear in a few logits: metric[b] = Σ_j coef[b,j] · logit[b, ids[b,j]] at the
 * selected position (K = 1). Paired logit difference: ids [patch, clean], coef [1, −1].
 * Only the J rows of the unembedding it needs are gathered, never all V logits.
 */
export function metricHead(g: Graph, c: NeoxConfig, x: HeadInputs): Sym {
  const ids = g.input('ids', 'int32', ['B', 'J']);
  const coef = g.input('coef', 'float32', ['B', 'J']);
  const unembed = g.input('unembed', 'float32', [c.vocabSize, c.hiddenSize]);
  const rows = gather(unembed, ids); // [B,J,D]
  const logits = finalHidden(c, x).matmul(rows.transpose([0, 2, 1])); // [B,1,J]
  return logits.sum([1], false).mul(coef).sum([1], false); // K = 1: [B,1,J] → [B,J] → [B]
}

/**
 * A linear probe's logit on the mean-pooled residual as the metric (docs/shift.md, Probes):
 * metric[b] = coef[b,0] · (Σ_s select[b,0,s]·h[b,s,:] · w + b_probe). `select` [B,1,S] holds the
 * pooling weights (mask / number of real tokens), so padding never enters; coef is ±1 per
 * example (the SHIFT discovery metric pushes towards the wrong class).
 */
export function probeMetricHead(g: Graph, c: NeoxConfig, h: Sym, select: Sym): Sym {
  const w = g.input('probe_w', 'float32', [c.hiddenSize, 1]);
  const b = g.input('probe_b', 'float32', [1]);
  const coef = g.input('coef', 'float32', ['B', 1]);
  // [B,1,S]·[B,S,D] → [B,1,D], ·[D,1] → [B,1,1] → [B]
  return select.matmul(h).matmul(w).sum([1, 2], false).add(b).mul(coef.sum([1], false));
}

/** Which metric a segment graph ends in: logits of a few answer ids, or a probe on the pooled residual. */
export type MetricHeadKind = 'logits' | 'probe';

/** All V logits at the selected positions: [B,K,V] (for display). */
export function logitsHead(g: Graph, c: NeoxConfig, x: HeadInputs): Sym {
  const unembed = g.input('unembed', 'float32', [c.vocabSize, c.hiddenSize]);
  return linear(finalHidden(c, x), unembed);
}

export function embedGraph(c: NeoxConfig): Graph {
  const g = new Graph();
  const tokens = g.input('tokens', 'int32', ['B', 'S']);
  const table = g.input('embed', 'float32', [c.vocabSize, c.hiddenSize]);
  g.output('y', gather(table, tokens));
  return g;
}

/** Weight inputs of layer l named `<key>.<l>`, for graphs that span several layers. */
export function layerWeightInputs(g: Graph, c: NeoxConfig, l: number): Record<string, Sym> {
  const shapes = paramShapes(c);
  const names = layerParams(l);
  return Object.fromEntries(Object.entries(names).map(([k, hf]) => [k, g.input(`${k}.${l}`, 'float32', shapes.get(hf)!)]));
}

/**
 * Layers start..L−1, the metric head (logits or probe), and the backward pass to the tail's input in one graph:
 * the forward intermediates feed the backward directly (no recomputation), one call per run.
 * Outputs the metric `y` [B] and `dh` = d(Σ d_y·metric)/dh_start [B,S,D].
 */
export function tailGraph(c: NeoxConfig, start: number, head: MetricHeadKind = 'logits'): Graph {
  const g = new Graph();
  const x = declareAttnInputs(g, c);
  let h = x.h;
  for (let l = start; l < c.numLayers; l++) {
    const w = layerWeightInputs(g, c, l);
    const a = attnBlock(g, c, { ...x, h }, w);
    const m = mlpBlock(g, c, h, w);
    h = h.add(a).add(m);
  }
  const select = g.input('select', 'float32', ['B', 'K', 'S']);
  const y =
    head === 'probe'
      ? probeMetricHead(g, c, h, select)
      : metricHead(g, c, { h, select, lnf_w: g.input('lnf_w', 'float32', [c.hiddenSize]), lnf_b: g.input('lnf_b', 'float32', [c.hiddenSize]) });
  g.output('y', y);
  const [dh] = grad(g, [{ name: 'y', sym: y }], [x.h]);
  g.output('dh', dh!);
  return g;
}
