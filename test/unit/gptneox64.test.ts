/**
 * Sanity checks of the independent float64 GPT-NeoX reference on hand-computed cases, and of the
 * random HF folder helper that feeds it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src-main/models/safetensors';
import { loadTokenizer } from '../../src-main/models/tokenizer';
import { neoxParamShapes, tokenId, writeRandomNeoxFolder } from '../helpers/neox-folder';
import { applyRotary, erf, gelu, gptNeoxForward64, type NeoxRefConfig, type RefWeights } from '../reference/gptneox64';

const tmp = mkdtempSync(join(tmpdir(), 'neox64-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('erf / gelu', () => {
  it('matches known constants to ~1e-15', () => {
    const known: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.9, 0.9999589021219005],
      [3, 0.9999779095030014],
      [3.5, 0.9999992569016276],
      [5, 0.9999999999984626],
      [1e-3, 0.0011283787909692363],
    ];
    for (const [x, y] of known) {
      expect(Math.abs(erf(x) - y), `erf(${x})`).toBeLessThan(2e-15);
      expect(Math.abs(erf(-x) + y), `erf(${-x})`).toBeLessThan(2e-15);
    }
    expect(erf(40)).toBe(1);
    expect(1 - erf(4)).toBeCloseTo(1.541725790028002e-8, 16); // erfc(4) via the tail branch, to the ulp of 1
  });

  it('gelu is 0.5·x·(1+erf(x/√2)) = x·Φ(x)', () => {
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(gelu(-1)).toBeCloseTo(-0.15865525393145707, 15);
    expect(gelu(0)).toBe(0);
    expect(gelu(10)).toBe(10);
  });
});

describe('rotary (HF rotate-half)', () => {
  it('is the identity at position 0', () => {
    const v = Float64Array.from([1, 2, 3, 4, 5, 6]);
    applyRotary(v, 0, 4, 10000);
    expect(Array.from(v)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rotates pairs (j, j + rd/2) by pos·base^(−2j/rd), leaves dims ≥ rd alone', () => {
    const v = Float64Array.from([1, 2, 3, 4, 5, 6]);
    applyRotary(v, 1, 4, 10000); // angles 1 and 10000^(−1/2) = 0.01
    const c1 = Math.cos(1), s1 = Math.sin(1), c2 = Math.cos(0.01), s2 = Math.sin(0.01);
    const want = [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2, 5, 6];
    v.forEach((x, i) => expect(x).toBeCloseTo(want[i], 15));
  });

  it('q·k depends only on the position offset', () => {
    const dot = (p: number, r: number) => {
      const q = Float64Array.from([0.3, -1, 2, 0.5]);
      const k = Float64Array.from([1.2, 0.4, -0.7, 2]);
      applyRotary(q, p, 4, 10000);
      applyRotary(k, r, 4, 10000);
      return q.reduce((s, x, i) => s + x * k[i], 0);
    };
    expect(dot(7, 3)).toBeCloseTo(dot(4, 0), 12);
    expect(dot(7, 3)).not.toBeCloseTo(dot(7, 4), 3);
  });
});

/** A hand-set 1-layer model: D 4, 2 heads of size 2, rotary on both dims, V 5, I 8. */
function handModel(): { cfg: NeoxRefConfig; w: Record<string, Float64Array> } {
  const cfg: NeoxRefConfig = {
    hidden_size: 4, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 8, vocab_size: 5,
    rotary_pct: 1, rotary_emb_base: 10000, layer_norm_eps: 1e-5, use_parallel_residual: true, hidden_act: 'gelu',
  };
  const w: Record<string, Float64Array> = {};
  for (const [name, shape] of neoxParamShapes(cfg)) w[name] = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (const ln of ['gpt_neox.layers.0.input_layernorm', 'gpt_neox.layers.0.post_attention_layernorm', 'gpt_neox.final_layer_norm']) {
    w[`${ln}.weight`].fill(1);
  }
  // token 1 → [1,−1,1,−1] (mean 0, var 1); token 2 → [2,0,−2,0] (mean 0, var 2)
  w['gpt_neox.embed_in.weight'].set([1, -1, 1, -1], 4);
  w['gpt_neox.embed_in.weight'].set([2, 0, -2, 0], 8);
  return { cfg, w };
}

describe('gptNeoxForward64 on hand-computed cases', () => {
  it('zero attention and MLP: a = m = 0, resid = embed, logits = W_U · LN_final(E[t])', () => {
    const { cfg, w } = handModel();
    w['gpt_neox.final_layer_norm.weight'].set([1, 2, 1, 1]);
    w['gpt_neox.final_layer_norm.bias'].set([0, 0, 0, 1]);
    w['gpt_neox.embed_in.weight'].set([1, 2, 3, 4], 3 * 4);
    // W_U rows: unit vectors e0..e3, and (1,1,1,1)
    w['embed_out.weight'].set([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    const out = gptNeoxForward64(cfg, w, [[3]]);
    // LN([1,2,3,4]): mean 2.5, biased var 1.25
    const r = 1 / Math.sqrt(1.25 + 1e-5);
    const ln = [-1.5 * r, -0.5 * r * 2, 0.5 * r, 1.5 * r + 1];
    const want = [...ln, ln[0] + ln[1] + ln[2] + ln[3]];
    Array.from(out.logits).forEach((x, i) => expect(x).toBeCloseTo(want[i], 13));
    expect(Array.from(out.hooks.embed)).toEqual([1, 2, 3, 4]);
    expect(Array.from(out.hooks.attn_0)).toEqual([0, 0, 0, 0]);
    expect(Array.from(out.hooks.mlp_0)).toEqual([0, 0, 0, 0]);
    expect(Array.from(out.hooks.resid_0)).toEqual([1, 2, 3, 4]);
  });

  it('attention: interleaved per-head q|k|v, rotary sign, 1/√head_size, causal mask', () => {
    const { cfg, w } = handModel();
    const p = 'gpt_neox.layers.0.attention.';
    // QKV rows [12, 4]: head h owns rows 6h..6h+5 = q(2) k(2) v(2).
    // q, k come from biases only; v of head h copies x[2h], x[2h+1].
    const qb = w[p + 'query_key_value.bias'];
    qb.set([1, 0, /* k */ 1, 0], 0); // head 0: q = (1,0), k = (1,0)
    qb.set([0, 2, /* k */ 1, 0], 6); // head 1: q = (0,2), k = (1,0)
    const W = w[p + 'query_key_value.weight'];
    W[4 * 4 + 0] = 1; W[5 * 4 + 1] = 1; // head 0 v = x[0], x[1]
    W[10 * 4 + 2] = 1; W[11 * 4 + 3] = 1; // head 1 v = x[2], x[3]
    const dense = w[p + 'dense.weight'];
    for (let i = 0; i < 4; i++) dense[i * 4 + i] = 1;
    w[p + 'dense.bias'].set([0.5, 0, 0, 0]);

    const out = gptNeoxForward64(cfg, w, [[1, 2]]);
    const x0 = [1, -1, 1, -1].map((v) => v / Math.sqrt(1 + 1e-5));
    const x1 = [2, 0, -2, 0].map((v) => v / Math.sqrt(2 + 1e-5));
    // position 0 sees only itself
    const a = out.hooks.attn_0;
    [x0[0] + 0.5, x0[1], x0[2], x0[3]].forEach((v, i) => expect(a[i]).toBeCloseTo(v, 13));
    // position 1, head 0: rot(q,1)·rot(k,0) = cos 1, rot(q,1)·rot(k,1) = 1; scaled by 1/√2
    const mix = (s0: number, s1: number, c: number) => {
      const e0 = Math.exp(s0 / Math.SQRT2), e1 = Math.exp(s1 / Math.SQRT2);
      return (e0 * x0[c] + e1 * x1[c]) / (e0 + e1);
    };
    // head 1: rot((0,2),1) = (−2 sin 1, 2 cos 1); · (1,0) = −2 sin 1; at offset 0: (0,2)·(1,0) = 0
    const want1 = [mix(Math.cos(1), 1, 0) + 0.5, mix(Math.cos(1), 1, 1), mix(-2 * Math.sin(1), 0, 2), mix(-2 * Math.sin(1), 0, 3)];
    want1.forEach((v, i) => expect(a[4 + i]).toBeCloseTo(v, 13));
    // MLP is zero, so resid = embed + attn
    for (let i = 0; i < 8; i++) expect(out.hooks.resid_0[i]).toBeCloseTo(out.hooks.embed[i] + a[i], 14);
  });

  it('parallel residual: the MLP reads h, not h + a', () => {
    const { cfg, w } = handModel();
    const p = 'gpt_neox.layers.0.';
    w[p + 'attention.dense.bias'].set([5, -5, 5, -5]); // a large attention output
    w[p + 'mlp.dense_h_to_4h.weight'][0] = 1; // u0 = x[0]
    w[p + 'mlp.dense_4h_to_h.weight'][0] = 1; // m[0] = gelu(u0)
    const out = gptNeoxForward64(cfg, w, [[1]]);
    const x0 = 1 / Math.sqrt(1 + 1e-5);
    expect(out.hooks.mlp_0[0]).toBeCloseTo(gelu(x0), 14);
    expect(Array.from(out.hooks.mlp_0.slice(1))).toEqual([0, 0, 0]);
  });
});

describe('gptNeoxForward64 on a random tiny folder model', () => {
  const folder = writeRandomNeoxFolder(join(tmp, 'tiny'), { seed: 7 });
  const cfg = folder.config;
  const w: RefWeights = folder.weights;
  const D = cfg.hidden_size;
  const sentence = ['The', ' keys', ' to', ' the', ' cabinet'].map(tokenId);

  it('left padding leaves the real tokens unchanged, and pads produce no NaN', () => {
    const plain = gptNeoxForward64(cfg, w, [sentence]);
    const padded = gptNeoxForward64(cfg, w, [[0, 0, ...sentence], [tokenId('The'), ...sentence.slice(0, 3), tokenId(' is'), tokenId(' on'), tokenId('.')]], [[0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]]);
    expect(padded.B).toBe(2);
    for (const [name, v] of Object.entries(padded.hooks)) {
      expect(v.every(Number.isFinite), name).toBe(true);
      const ref = plain.hooks[name];
      for (let i = 0; i < 5 * D; i++) expect(Math.abs(v[2 * D + i] - ref[i]), `${name}[${i}]`).toBeLessThan(1e-10);
    }
    expect(padded.logits.every(Number.isFinite)).toBe(true);
    const V = cfg.vocab_size;
    for (let i = 0; i < 5 * V; i++) expect(Math.abs(padded.logits[2 * V + i] - plain.logits[i])).toBeLessThan(1e-10);
  });

  it('is causal: changing the last token leaves earlier positions alone', () => {
    const a = gptNeoxForward64(cfg, w, [sentence]);
    const b = gptNeoxForward64(cfg, w, [[...sentence.slice(0, 4), tokenId(' table')]]);
    expect(Array.from(a.hooks.resid_1.slice(0, 4 * D))).toEqual(Array.from(b.hooks.resid_1.slice(0, 4 * D)));
    expect(a.hooks.resid_1[4 * D]).not.toBe(b.hooks.resid_1[4 * D]);
    // activations are O(1): the helper's scales give a non-degenerate model
    const rms = Math.sqrt(a.hooks.attn_1.reduce((s, x) => s + x * x, 0) / a.hooks.attn_1.length);
    expect(rms).toBeGreaterThan(0.05);
    expect(rms).toBeLessThan(20);
  });

  it('missing weights are named', () => {
    const { 'gpt_neox.layers.1.mlp.dense_4h_to_h.bias': _, ...rest } = folder.weights;
    expect(() => gptNeoxForward64(cfg, rest, [[1]])).toThrow("gptneox64: missing weight 'gpt_neox.layers.1.mlp.dense_4h_to_h.bias'");
  });
});

describe('writeRandomNeoxFolder', () => {
  it('writes config.json, HF names and shapes, and the tokenizer; weights read back exactly', async () => {
    for (const opts of [{ dtype: 'F32' as const }, { dtype: 'F16' as const, sharded: true }, { dtype: 'BF16' as const }]) {
      const d = join(tmp, `f-${opts.dtype}`);
      const f = writeRandomNeoxFolder(d, { ...opts, seed: 3 });
      const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
      expect(cfg).toMatchObject({
        architectures: ['GPTNeoXForCausalLM'], model_type: 'gpt_neox', hidden_size: 64, num_hidden_layers: 2,
        num_attention_heads: 4, intermediate_size: 256, vocab_size: 64, rotary_pct: 0.25, use_parallel_residual: true,
        tie_word_embeddings: false, bos_token_id: 0, eos_token_id: 0, hidden_act: 'gelu',
      });
      const st = readSafetensors(d);
      expect(st.names().sort()).toEqual(Object.keys(f.weights).sort());
      expect(st.names()).toHaveLength(1 + 12 * 2 + 3);
      expect(st.info('gpt_neox.layers.1.attention.query_key_value.weight')).toEqual({ dtype: opts.dtype, shape: [192, 64] });
      expect(st.info('gpt_neox.layers.0.mlp.dense_4h_to_h.weight').shape).toEqual([64, 256]);
      for (const name of st.names()) expect(st.getTensor(name).data).toEqual(f.weights[name]);
      const ln = f.weights['gpt_neox.layers.0.input_layernorm.weight'];
      expect(ln.reduce((s, x) => s + x, 0) / ln.length).toBeCloseTo(1, 1);
    }
    const tok = await loadTokenizer(join(tmp, 'f-F32'));
    expect(tok.encode('The keys to the cabinet')).toEqual([1, 8, 10, 4, 12]);
  });

  it('is deterministic in the seed', () => {
    const a = writeRandomNeoxFolder(join(tmp, 's1'), { seed: 11, layers: 1 });
    const b = writeRandomNeoxFolder(join(tmp, 's2'), { seed: 11, layers: 1 });
    const c = writeRandomNeoxFolder(join(tmp, 's3'), { seed: 12, layers: 1 });
    expect(a.weights['embed_out.weight']).toEqual(b.weights['embed_out.weight']);
    expect(a.weights['embed_out.weight']).not.toEqual(c.weights['embed_out.weight']);
  });

  it('rejects sizes whose rotary dims are odd or zero', () => {
    expect(() => writeRandomNeoxFolder(join(tmp, 'bad'), { hidden: 32, heads: 8 })).toThrow('head size 4 × rotary_pct 0.25 gives 1 rotary dims');
  });
});
