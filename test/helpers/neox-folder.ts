/**
 * Writes a small random GPT-NeoX Hugging Face model folder (config.json, safetensors weights,
 * tokenizer.json, tokenizer_config.json) for tests, and returns the config and the exact
 * float32 weights that a loader will read back (already rounded to the stored dtype).
 *
 * Tokenizer: a WordLevel model behind a ByteLevel pre-tokenizer and decoder, so words after a
 * space become "Ġword" tokens exactly as in Pythia's BPE tokenizer (" is" and "is" differ).
 * Ids: 0 = <|endoftext|>; then for each word of NEOX_WORDS in order, "word" and "Ġword".
 * Unknown words have no id (the library returns undefined; loadTokenizer throws).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { roundToDtype, writeSafetensors, type WritableDtype } from '../../src-main/models/safetensors';
import { mulberry32, randn } from './random';

/** Words of the agreement-style test sentences ("The keys to the cabinet are", ...). */
export const NEOX_WORDS = [
  'The', 'the', 'key', 'keys', 'to', 'cabinet', 'cabinets', 'is', 'are', 'author', 'authors',
  'that', 'guard', 'guards', 'like', 'likes', 'doctor', 'doctors', 'near', 'manager', 'managers',
  'on', 'table', '.',
];

/** Token strings by id: ["<|endoftext|>", "The", "ĠThe", "the", "Ġthe", ...] (49 tokens). */
export const NEOX_VOCAB: string[] = ['<|endoftext|>', ...NEOX_WORDS.flatMap((w) => [w, `\u0120${w}`])];

/** Id of a token string from NEOX_VOCAB, e.g. tokenId(' is') or tokenId('The'). */
export function tokenId(token: string): number {
  const id = NEOX_VOCAB.indexOf(token.replace(/^ /, '\u0120'));
  if (id < 0) throw new Error(`neox-folder: no token '${token}'`);
  return id;
}

export interface NeoxFolderConfig {
  architectures: string[];
  model_type: 'gpt_neox';
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  vocab_size: number;
  rotary_pct: number;
  rotary_emb_base: number;
  layer_norm_eps: number;
  hidden_act: 'gelu';
  use_parallel_residual: true;
  tie_word_embeddings: false;
  max_position_embeddings: number;
  bos_token_id: 0;
  eos_token_id: 0;
  [key: string]: unknown;
}

export interface NeoxFolderOptions {
  /** 'tiny' (default): hidden 64, 2 layers, 4 heads (head 16, 4 rotary dims), intermediate 256,
   *  vocab 64. 'pythia70m': Pythia-70M shapes (hidden 512, 6 layers, 8 heads, 2048, vocab 50304). */
  size?: 'tiny' | 'pythia70m';
  hidden?: number;
  layers?: number;
  heads?: number;
  intermediate?: number;
  vocab?: number;
  rotaryPct?: number;
  maxPositions?: number;
  layerNormEps?: number;
  seed?: number;
  dtype?: WritableDtype;
  /** Write model.safetensors.index.json + two shards instead of model.safetensors. */
  sharded?: boolean;
  /** Add a TemplateProcessing post-processor that prepends <|endoftext|> as BOS (Pythia has none). */
  bos?: boolean;
}

export interface NeoxFolder {
  dir: string;
  config: NeoxFolderConfig;
  /** HF parameter name → values as stored (after dtype rounding), HF layouts (Linear: [out,in]). */
  weights: Record<string, Float32Array>;
  shapes: Record<string, number[]>;
  vocab: string[];
}

/** HF GPT-NeoX parameter names and shapes, in a fixed order (the order values are drawn). */
export function neoxParamShapes(c: { hidden_size: number; num_hidden_layers: number; intermediate_size: number; vocab_size: number }): [string, number[]][] {
  const D = c.hidden_size;
  const I = c.intermediate_size;
  const V = c.vocab_size;
  const out: [string, number[]][] = [['gpt_neox.embed_in.weight', [V, D]]];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `gpt_neox.layers.${l}.`;
    out.push(
      [p + 'input_layernorm.weight', [D]], [p + 'input_layernorm.bias', [D]],
      [p + 'post_attention_layernorm.weight', [D]], [p + 'post_attention_layernorm.bias', [D]],
      [p + 'attention.query_key_value.weight', [3 * D, D]], [p + 'attention.query_key_value.bias', [3 * D]],
      [p + 'attention.dense.weight', [D, D]], [p + 'attention.dense.bias', [D]],
      [p + 'mlp.dense_h_to_4h.weight', [I, D]], [p + 'mlp.dense_h_to_4h.bias', [I]],
      [p + 'mlp.dense_4h_to_h.weight', [D, I]], [p + 'mlp.dense_4h_to_h.bias', [D]],
    );
  }
  out.push(['gpt_neox.final_layer_norm.weight', [D]], ['gpt_neox.final_layer_norm.bias', [D]], ['embed_out.weight', [V, D]]);
  return out;
}

/** Scales chosen so activations stay O(1) and attention is neither flat nor saturated. */
function draw(name: string, shape: number[], rand: () => number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const fanIn = shape.length === 2 ? shape[1] : 1;
  let mean = 0;
  let std: number;
  if (name.endsWith('layernorm.weight') || name.endsWith('final_layer_norm.weight')) [mean, std] = [1, 0.1];
  else if (name.endsWith('.bias')) std = 0.1;
  else if (name === 'gpt_neox.embed_in.weight') std = 1;
  else std = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < n; i++) out[i] = mean + std * randn(rand);
  return out;
}

export function writeRandomNeoxFolder(dir: string, opts: NeoxFolderOptions = {}): NeoxFolder {
  const big = opts.size === 'pythia70m';
  const D = opts.hidden ?? (big ? 512 : 64);
  const H = opts.heads ?? (big ? 8 : 4);
  const rotaryPct = opts.rotaryPct ?? 0.25;
  const rd = Math.floor((D / H) * rotaryPct);
  if (D % H !== 0 || rd < 2 || rd % 2 !== 0) throw new Error(`neox-folder: head size ${D / H} × rotary_pct ${rotaryPct} gives ${rd} rotary dims (need even, ≥ 2)`);
  const dtype = opts.dtype ?? 'F32';
  const config: NeoxFolderConfig = {
    architectures: ['GPTNeoXForCausalLM'],
    model_type: 'gpt_neox',
    hidden_size: D,
    num_hidden_layers: opts.layers ?? (big ? 6 : 2),
    num_attention_heads: H,
    intermediate_size: opts.intermediate ?? (big ? 2048 : 4 * D),
    vocab_size: opts.vocab ?? (big ? 50304 : 64),
    rotary_pct: rotaryPct,
    rotary_emb_base: 10000,
    layer_norm_eps: opts.layerNormEps ?? 1e-5,
    hidden_act: 'gelu',
    use_parallel_residual: true,
    tie_word_embeddings: false,
    max_position_embeddings: opts.maxPositions ?? (big ? 2048 : 128),
    bos_token_id: 0,
    eos_token_id: 0,
    attention_bias: true,
    attention_dropout: 0,
    hidden_dropout: 0,
    initializer_range: 0.02,
    use_cache: true,
    torch_dtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype],
  };
  if (config.vocab_size < NEOX_VOCAB.length) throw new Error(`neox-folder: vocab ${config.vocab_size} < ${NEOX_VOCAB.length} tokenizer tokens`);

  const rand = mulberry32(opts.seed ?? 1234);
  const weights: Record<string, Float32Array> = {};
  const shapes: Record<string, number[]> = {};
  const params = neoxParamShapes(config);
  for (const [name, shape] of params) {
    weights[name] = roundToDtype(draw(name, shape, rand), dtype);
    shapes[name] = shape;
  }

  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const entry = (name: string) => ({ shape: shapes[name], data: weights[name], dtype });
  const metadata = { format: 'pt' };
  if (opts.sharded) {
    const half = Math.ceil(params.length / 2);
    const parts = [params.slice(0, half), params.slice(half)];
    const weightMap: Record<string, string> = {};
    let total = 0;
    parts.forEach((part, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(join(dir, file), Object.fromEntries(part.map(([n]) => [n, entry(n)])), metadata);
      for (const [n] of part) {
        weightMap[n] = file;
        total += weights[n].length * (dtype === 'F32' ? 4 : 2);
      }
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  } else {
    writeSafetensors(join(dir, 'model.safetensors'), Object.fromEntries(params.map(([n]) => [n, entry(n)])), metadata);
  }

  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(!!opts.bos), null, 2));
  // Like Pythia's: eos/bos named, no pad token (loadTokenizer then pads with eos = 0), and no
  // unk_token, so unknown words are errors rather than silently becoming id 0.
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({
    add_prefix_space: false,
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    tokenizer_class: 'GPTNeoXTokenizer',
    clean_up_tokenization_spaces: false,
  }, null, 2));
  return { dir, config, weights, shapes, vocab: [...NEOX_VOCAB] };
}

export function tokenizerJson(bos = false): object {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: bos
      ? {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [0], tokens: ['<|endoftext|>'] } },
      }
      : null,
    decoder: byteLevel,
    // An unk_token outside the vocabulary: Python's tokenizers then fails on unknown words,
    // as loadTokenizer does, instead of mapping them to some id.
    model: { type: 'WordLevel', vocab: Object.fromEntries(NEOX_VOCAB.map((t, i) => [t, i])), unk_token: '<unk>' },
  };
}
