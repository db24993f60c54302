/**
 * Worker-side state that outlives one job: the ONNX session cache and loaded models (by path),
 * so a second job on the same model starts warm.
 */
import { resolve } from 'node:path';
import { SessionCache, type EngineOptions } from '../engine/session';
import { loadNeoxFolder } from '../models/load';
import type { NeoxModel } from '../models/neox-model';
import type { ModelInfo } from '../api/contract';
import type { LoadSaeSetOptions } from '../saes/load';
import { loadSaeSetParallel } from '../saes/load-parallel';
import type { SaeSet } from '../saes/types';
import { rotaryDims } from '../models/gptneox';
import { matmulRate } from '../circuits/cost';

export class Runtime {
  readonly sessions: SessionCache;
  private readonly models = new Map<string, Promise<NeoxModel>>();

  constructor(opts: EngineOptions = {}) {
    this.sessions = new SessionCache(opts);
  }

  private readonly saeSets = new Map<string, Promise<SaeSet>>();

  private saeKey = (path: string, opts: Pick<LoadSaeSetOptions, 'submodules' | 'd'>): string => `${resolve(path)}|${opts.submodules.join(',')}|${opts.d}`;

  /** The SAE set if this worker has it loaded (or loading), else null; loads nothing. */
  loadedSaes(path: string, opts: Pick<LoadSaeSetOptions, 'submodules' | 'd'>): Promise<SaeSet> | null {
    return this.saeSets.get(this.saeKey(path, opts)) ?? null;
  }

  /** The MatMul rate of this machine, measured once per worker (circuits/cost.ts). */
  private rate: Promise<number> | null = null;
  matmulRate(): Promise<number> {
    this.rate ??= matmulRate(this.sessions);
    return this.rate;
  }

  /** SAE sets by folder and submodule list; loaded once per worker, on two threads. */
  saes(path: string, opts: LoadSaeSetOptions): Promise<SaeSet> {
    const key = this.saeKey(path, opts);
    let s = this.saeSets.get(key);
    if (!s) {
      s = loadSaeSetParallel(resolve(path), opts);
      this.saeSets.set(key, s);
      s.catch(() => this.saeSets.delete(key));
    }
    return s;
  }

  /** The model if this worker has it loaded (or loading), else null; loads nothing. */
  loadedModel(path: string): Promise<NeoxModel> | null {
    return this.models.get(resolve(path)) ?? null;
  }

  model(path: string): Promise<NeoxModel> {
    const key = resolve(path);
    let m = this.models.get(key);
    if (!m) {
      m = loadNeoxFolder(key, this.sessions);
      this.models.set(key, m);
      m.catch(() => this.models.delete(key));
    }
    return m;
  }
}

let instance: Runtime | null = null;

/** The worker's runtime; the execution provider comes from SFC_PROVIDER (cpu by default). */
export function runtime(): Runtime {
  instance ??= new Runtime({ provider: (process.env.SFC_PROVIDER as EngineOptions['provider']) ?? 'cpu' });
  return instance;
}

export function modelInfo(m: NeoxModel): ModelInfo {
  const c = m.cfg;
  return {
    path: m.path,
    architecture: 'GPTNeoXForCausalLM',
    config: {
      hidden_size: c.hiddenSize,
      num_hidden_layers: c.numLayers,
      num_attention_heads: c.numHeads,
      intermediate_size: c.intermediateSize,
      vocab_size: c.vocabSize,
      rotary_pct: c.rotaryPct,
      rotary_ndims: rotaryDims(c),
      rotary_emb_base: c.rotaryBase,
      layer_norm_eps: c.layerNormEps,
      use_parallel_residual: c.parallelResidual,
    },
    parameters: m.parameterCount,
    hookPoints: m.hookPoints,
    vocabSize: m.tokenizer?.vocabSize ?? c.vocabSize,
  };
}
