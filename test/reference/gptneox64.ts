/**
 * Independent float64 GPT-NeoX (Pythia) forward pass, written straight from the model
 * description (docs/method-notes.md, Model and hook points) in plain loops. It is the second implementation the ONNX model is checked against, so it shares
 * no code with src-main/models and favours obviousness over speed.
 */

export interface NeoxRefConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  vocab_size: number;
  rotary_pct: number;
  rotary_emb_base: number;
  layer_norm_eps: number;
  use_parallel_residual?: boolean;
  hidden_act?: string;
  tie_word_embeddings?: boolean;
}

export type RefWeights = Record<string, ArrayLike<number>>;

export interface NeoxRefOutput {
  B: number;
  S: number;
  /** [B,S,V] */
  logits: Float64Array;
  /** embed, attn_l, mlp_l, resid_l (= h_{l+1}), each [B,S,D]. */
  hooks: Record<string, Float64Array>;
}

// ---------------------------------------------------------------------------------------------
// erf / GELU

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * erf(x) to ~1e-15. |x| < 3: erf(x) = 2/√π · e^{-x²} · Σ_n 2^n x^{2n+1} / (2n+1)!!, a series of
 * positive terms (the plain alternating Taylor series loses ~2 digits to cancellation near 3).
 * |x| ≥ 3: erfc from its continued fraction, evaluated bottom-up, which converges fast there.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 0; n < 200 && term > sum * 1e-17; n++) {
      term *= (2 * ax * ax) / (2 * n + 3);
      sum += term;
    }
    const r = TWO_OVER_SQRT_PI * Math.exp(-ax * ax) * sum;
    return x < 0 ? -r : r;
  }
  if (ax > 6) return x < 0 ? -1 : 1; // erfc(6) ≈ 2e-17: below double resolution of 1
  // erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  let f = ax;
  for (let k = 120; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = (Math.exp(-ax * ax) / Math.sqrt(Math.PI)) / f;
  const r = 1 - erfc;
  return x < 0 ? -r : r;
}

/** Exact GELU: 0.5·x·(1 + erf(x/√2)). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

// ---------------------------------------------------------------------------------------------
// rotary

/**
 * HF rotate-half rotary on the first `rd` entries of `v` (in place) at position `pos`:
 * angle_j = pos · base^(−2j/rd), j < rd/2; entry j pairs with entry j + rd/2.
 */
export function applyRotary(v: Float64Array, pos: number, rd: number, base: number): void {
  const half = rd / 2;
  for (let j = 0; j < half; j++) {
    const ang = pos * Math.pow(base, (-2 * j) / rd);
    const c = Math.cos(ang);
    const s = Math.sin(ang);
    const a = v[j];
    const b = v[j + half];
    v[j] = a * c - b * s; // x·cos + (−x[half+j])·sin
    v[j + half] = b * c + a * s; // x·cos + x[j]·sin
  }
}

// ---------------------------------------------------------------------------------------------
// pieces

function get(w: RefWeights, name: string, len: number): ArrayLike<number> {
  const t = w[name];
  if (!t) throw new Error(`gptneox64: missing weight '${name}'`);
  if (t.length !== len) throw new Error(`gptneox64: weight '${name}' has ${t.length} values, expected ${len}`);
  return t;
}

function layerNorm(x: Float64Array, D: number, w: ArrayLike<number>, b: ArrayLike<number>, eps: number): Float64Array {
  const rows = x.length / D;
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    let mean = 0;
    for (let i = 0; i < D; i++) mean += x[o + i];
    mean /= D;
    let v = 0;
    for (let i = 0; i < D; i++) v += (x[o + i] - mean) ** 2;
    v /= D; // biased variance, as torch LayerNorm
    const inv = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < D; i++) out[o + i] = (x[o + i] - mean) * inv * w[i] + b[i];
  }
  return out;
}

/** y = W x + b per row; W is HF Linear layout [out, in]. */
function linear(x: Float64Array, nIn: number, nOut: number, W: ArrayLike<number>, b: ArrayLike<number> | null): Float64Array {
  const rows = x.length / nIn;
  const y = new Float64Array(rows * nOut);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < nOut; o++) {
      let s = b ? b[o] : 0;
      const wo = o * nIn;
      const xo = r * nIn;
      for (let i = 0; i < nIn; i++) s += W[wo + i] * x[xo + i];
      y[r * nOut + o] = s;
    }
  }
  return y;
}

// ---------------------------------------------------------------------------------------------
// forward

/**
 * ids and mask are [B][S]; mask 1 = real token, 0 = (left) padding; mask defaults to all ones.
 * Every row uses positions 0..S−1. A query whose keys are all masked (a left pad) gets zero
 * attention weights, so its a_l is just the dense bias: pad positions are finite but meaningless.
 */
export interface NeoxRefOptions {
  /** Edit a hook activation in place ([S,D] of example b) before the rest of the model reads it. */
  edit?: (hook: string, b: number, x: Float64Array) => void;
}

export function gptNeoxForward64(cfg: NeoxRefConfig, w: RefWeights, ids: number[][], mask?: number[][], opts: NeoxRefOptions = {}): NeoxRefOutput {
  const edit = opts.edit ?? (() => {});
  if (cfg.use_parallel_residual === false) throw new Error('gptneox64: only use_parallel_residual = true is implemented');
  if (cfg.hidden_act !== undefined && cfg.hidden_act !== 'gelu') throw new Error(`gptneox64: hidden_act ${cfg.hidden_act} not implemented`);
  if (cfg.tie_word_embeddings) throw new Error('gptneox64: tied embeddings not implemented');
  const D = cfg.hidden_size;
  const H = cfg.num_attention_heads;
  const hs = D / H;
  const I = cfg.intermediate_size;
  const V = cfg.vocab_size;
  const L = cfg.num_hidden_layers;
  const rd = Math.floor(hs * cfg.rotary_pct);
  const eps = cfg.layer_norm_eps;
  const B = ids.length;
  const S = B ? ids[0].length : 0;
  if (!Number.isInteger(hs) || rd % 2 !== 0) throw new Error(`gptneox64: bad head size ${hs} / rotary dims ${rd}`);

  const hooks: Record<string, Float64Array> = { embed: new Float64Array(B * S * D) };
  for (let l = 0; l < L; l++) {
    for (const k of ['attn', 'mlp', 'resid']) hooks[`${k}_${l}`] = new Float64Array(B * S * D);
  }
  const logits = new Float64Array(B * S * V);
  const E = get(w, 'gpt_neox.embed_in.weight', V * D);

  for (let bi = 0; bi < B; bi++) {
    const row = ids[bi];
    const m = mask ? mask[bi] : row.map(() => 1);
    if (row.length !== S || m.length !== S) throw new Error('gptneox64: ragged ids/mask');

    // h_0 = E[tokens]
    let h = new Float64Array(S * D);
    for (let s = 0; s < S; s++) {
      const t = row[s];
      if (!(t >= 0 && t < V)) throw new Error(`gptneox64: token id ${t} out of range`);
      for (let i = 0; i < D; i++) h[s * D + i] = E[t * D + i];
    }
    edit('embed', bi, h);
    hooks.embed.set(h, bi * S * D);

    for (let l = 0; l < L; l++) {
      const p = `gpt_neox.layers.${l}.`;
      // a_l = Attn(LN1(h))
      const x1 = layerNorm(h, D, get(w, p + 'input_layernorm.weight', D), get(w, p + 'input_layernorm.bias', D), eps);
      const qkv = linear(x1, D, 3 * D, get(w, p + 'attention.query_key_value.weight', 3 * D * D), get(w, p + 'attention.query_key_value.bias', 3 * D));
      const merged = new Float64Array(S * D);
      for (let hh = 0; hh < H; hh++) {
        // Interleaved per head: head hh owns slots [hh·3hs, (hh+1)·3hs) = q | k | v.
        const q: Float64Array[] = [];
        const k: Float64Array[] = [];
        const v: Float64Array[] = [];
        for (let s = 0; s < S; s++) {
          const base = s * 3 * D + hh * 3 * hs;
          q.push(qkv.slice(base, base + hs));
          k.push(qkv.slice(base + hs, base + 2 * hs));
          v.push(qkv.slice(base + 2 * hs, base + 3 * hs));
          applyRotary(q[s], s, rd, cfg.rotary_emb_base);
          applyRotary(k[s], s, rd, cfg.rotary_emb_base);
        }
        for (let i = 0; i < S; i++) {
          // keys j ≤ i (causal) that are real tokens (padding mask)
          const scores: number[] = [];
          const keys: number[] = [];
          for (let j = 0; j <= i; j++) {
            if (!m[j]) continue;
            let d = 0;
            for (let c = 0; c < hs; c++) d += q[i][c] * k[j][c];
            scores.push(d / Math.sqrt(hs));
            keys.push(j);
          }
          if (keys.length === 0) continue; // fully masked query: zero weights
          const mx = Math.max(...scores);
          const e = scores.map((sc) => Math.exp(sc - mx));
          const z = e.reduce((a, b) => a + b, 0);
          for (let n = 0; n < keys.length; n++) {
            const pw = e[n] / z;
            for (let c = 0; c < hs; c++) merged[i * D + hh * hs + c] += pw * v[keys[n]][c];
          }
        }
      }
      const a = linear(merged, D, D, get(w, p + 'attention.dense.weight', D * D), get(w, p + 'attention.dense.bias', D));

      // m_l = MLP(LN2(h)) — parallel: reads h, not h + a
      const x2 = layerNorm(h, D, get(w, p + 'post_attention_layernorm.weight', D), get(w, p + 'post_attention_layernorm.bias', D), eps);
      const up = linear(x2, D, I, get(w, p + 'mlp.dense_h_to_4h.weight', I * D), get(w, p + 'mlp.dense_h_to_4h.bias', I));
      for (let i = 0; i < up.length; i++) up[i] = gelu(up[i]);
      const mo = linear(up, I, D, get(w, p + 'mlp.dense_4h_to_h.weight', D * I), get(w, p + 'mlp.dense_4h_to_h.bias', D));

      edit(`attn_${l}`, bi, a);
      edit(`mlp_${l}`, bi, mo);
      const next = new Float64Array(S * D);
      for (let i = 0; i < next.length; i++) next[i] = h[i] + a[i] + mo[i];
      edit(`resid_${l}`, bi, next);
      hooks[`attn_${l}`].set(a, bi * S * D);
      hooks[`mlp_${l}`].set(mo, bi * S * D);
      hooks[`resid_${l}`].set(next, bi * S * D);
      h = next;
    }

    const xf = layerNorm(h, D, get(w, 'gpt_neox.final_layer_norm.weight', D), get(w, 'gpt_neox.final_layer_norm.bias', D), eps);
    logits.set(linear(xf, D, V, get(w, 'embed_out.weight', V * D), null), bi * S * V);
  }
  return { B, S, logits, hooks };
}
