/** config.json of a Hugging Face GPT-NeoX folder → NeoxConfig, with errors that name the file. */
import type { NeoxConfig } from './gptneox';

export function parseNeoxConfig(raw: unknown, file: string): NeoxConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: expected a JSON object`);
  const j = raw as Record<string, unknown>;
  const arch = j.model_type ?? (Array.isArray(j.architectures) ? j.architectures[0] : undefined);
  if (arch !== 'gpt_neox' && arch !== 'GPTNeoXForCausalLM') {
    throw new Error(`${file}: model_type ${JSON.stringify(arch)} is not supported (only gpt_neox / GPTNeoXForCausalLM)`);
  }
  const num = (key: string, fallback?: number): number => {
    const v = j[key] ?? fallback;
    if (v === undefined) throw new Error(`${file}: missing key '${key}'`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${file}: '${key}' must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const posInt = (key: string, fallback?: number): number => {
    const v = num(key, fallback);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${file}: '${key}' must be a positive integer, got ${v}`);
    return v;
  };
  const c: NeoxConfig = {
    hiddenSize: posInt('hidden_size'),
    numLayers: posInt('num_hidden_layers'),
    numHeads: posInt('num_attention_heads'),
    intermediateSize: posInt('intermediate_size'),
    vocabSize: posInt('vocab_size'),
    rotaryPct: num('rotary_pct', 0.25),
    rotaryBase: num('rotary_emb_base', 10000),
    layerNormEps: num('layer_norm_eps', 1e-5),
    parallelResidual: j.use_parallel_residual === undefined ? true : j.use_parallel_residual === true,
    maxPositions: posInt('max_position_embeddings', 2048),
  };
  if (c.hiddenSize % c.numHeads !== 0) {
    throw new Error(`${file}: hidden_size ${c.hiddenSize} is not divisible by num_attention_heads ${c.numHeads}`);
  }
  const hs = c.hiddenSize / c.numHeads;
  const R = Math.floor(hs * c.rotaryPct);
  if (R % 2 !== 0) throw new Error(`${file}: rotary dims ${R} (head size ${hs} × rotary_pct ${c.rotaryPct}) must be even`);
  if (!c.parallelResidual) throw new Error(`${file}: use_parallel_residual false is not supported yet (Pythia uses true)`);
  const act = j.hidden_act ?? 'gelu';
  if (act !== 'gelu') throw new Error(`${file}: hidden_act '${String(act)}' is not supported (only exact 'gelu')`);
  if (j.tie_word_embeddings === true) throw new Error(`${file}: tie_word_embeddings true is not supported (GPT-NeoX unties them)`);
  return c;
}
