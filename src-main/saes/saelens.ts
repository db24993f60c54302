/**
 * SAELens SAE folders (docs/sae-formats.md): `cfg.json` + `sae_weights.safetensors` with
 *
 *   W_enc [D, F]   b_enc [F]   W_dec [F, D]   b_dec [D]   (threshold [F] for JumpReLU)
 *
 * Canonical form: enc = W_encᵀ, dec = W_dec (already rows), kind 'jumprelu' when the
 * architecture says so or a threshold is present, else 'relu'. apply_b_dec_to_input comes from
 * the cfg and defaults to true, SAELens's own default.
 *
 * cfg.json comes in two shapes: flat (SAELens < 6: hook_name or older hook_point,
 * activation_fn_str / activation_fn, ...) and SAELens ≥ 6 (`architecture` at the top, model
 * fields such as hook_name under `metadata`). Both are read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../models/safetensors';
import { checkFiniteRows, checkFiniteWeights, normalizeDecoder, sameShape, type SaeLoadResult } from './sae-util';
import type { Sae, SaeKind, Submodule } from './types';
import { EMBED, hookName, hookRef, layerInputHook } from '../models/hooks';

/**
 * TransformerLens hook name → our submodule, or null when it is not one of ours. Only the
 * TransformerLens side of the names is spelled here; ours come from models/hooks.ts.
 */
export function hookToSubmodule(hook: string): Submodule | null {
  if (hook === 'hook_embed') return EMBED;
  const m = /^blocks\.(\d+)\.(hook_resid_pre|hook_resid_post|hook_attn_out|hook_mlp_out|attn\.hook_z)$/.exec(hook);
  if (!m) return null;
  const l = Number(m[1]);
  switch (m[2]) {
    case 'hook_resid_pre':
      // Pythia has no position embedding, so the stream entering block l is layer l's input:
      // the embedding for l = 0, the output of block l − 1 after that.
      return layerInputHook(l);
    case 'hook_resid_post':
      return hookName('resid', l);
    case 'hook_attn_out':
      return hookName('attn', l);
    case 'attn.hook_z':
      // Gemma Scope attention SAEs read the concatenated head outputs (the o_proj input), which
      // is what attn_l means for Gemma (docs/sae-formats.md, hook names).
      return hookName('attn', l);
    default:
      return hookName('mlp', l);
  }
}

const TL_HOOK = { attn: 'hook_attn_out', mlp: 'hook_mlp_out', resid: 'hook_resid_post' } as const;

/** Our submodule → the hook name the SAELens Pythia releases use. */
export function submoduleToHook(sub: Submodule): string {
  const { kind, layer } = hookRef(sub);
  return kind === 'embed' ? 'blocks.0.hook_resid_pre' : `blocks.${layer}.${TL_HOOK[kind]}`;
}

export interface SaelensCfg {
  path: string;
  hookName: string;
  /** null when the hook is not one of our submodules. */
  submodule: Submodule | null;
  architecture: 'standard' | 'jumprelu';
  applyBDecToInput: boolean;
  dIn?: number;
  dSae?: number;
}

type Json = Record<string, unknown>;

/** Parses and checks `<dir>/cfg.json` (no weights are read). */
export function readSaelensCfg(dir: string): SaelensCfg {
  const path = join(dir, 'cfg.json');
  let raw: Json;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Json;
  } catch (e) {
    throw new Error(`${path}: ${existsSync(path) ? `invalid JSON (${(e as Error).message})` : 'not found'}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${path}: not a JSON object`);
  const meta = (raw.metadata && typeof raw.metadata === 'object' ? raw.metadata : {}) as Json;
  const pick = (k: string) => (raw[k] !== undefined ? raw[k] : meta[k]);
  const hookName = pick('hook_name') ?? pick('hook_point');
  if (typeof hookName !== 'string') throw new Error(`${path}: no hook_name (or hook_point) saying which activation the SAE reads`);
  if (pick('hook_head_index') != null) throw new Error(`${path}: per-head SAEs (hook_head_index ${pick('hook_head_index')}) are not supported`);

  const act = pick('activation_fn_str') ?? pick('activation_fn');
  let arch = pick('architecture') as string | undefined;
  if (arch === undefined) arch = act === 'topk' ? 'topk' : 'standard';
  if (arch !== 'standard' && arch !== 'jumprelu') throw new Error(`${path}: SAE architecture '${arch}' is not supported (only standard ReLU and JumpReLU)`);
  if (act !== undefined && act !== 'relu') throw new Error(`${path}: activation function '${String(act)}' is not supported (only relu)`);
  const norm = pick('normalize_activations');
  if (norm != null && norm !== 'none') {
    throw new Error(`${path}: normalize_activations '${String(norm)}' is not supported (it rescales inputs by a factor not stored with the weights)`);
  }
  if (pick('finetuning_scaling_factor') === true) throw new Error(`${path}: finetuning_scaling_factor is not supported`);
  const apply = pick('apply_b_dec_to_input');
  if (apply !== undefined && typeof apply !== 'boolean') throw new Error(`${path}: apply_b_dec_to_input must be true or false`);
  const num = (k: string) => (typeof pick(k) === 'number' ? (pick(k) as number) : undefined);
  return {
    path,
    hookName,
    submodule: hookToSubmodule(hookName),
    architecture: arch,
    applyBDecToInput: apply ?? true,
    dIn: num('d_in'),
    dSae: num('d_sae'),
  };
}

export interface SaelensLoadOptions {
  /**
   * Fold non-unit decoder norms into the encoder. Default: true for ReLU SAEs (the Pythia
   * SAELens folders are copies of the dictionary_learning dictionaries, which are loaded that
   * way), false for JumpReLU (Gemma Scope features are used as released).
   */
  normalizeDecoder?: boolean;
  normTolerance?: number;
  /** Map W_dec from the file instead of reading it (default true; docs/native.md). */
  map?: boolean;
}

export interface SaelensLoadResult extends SaeLoadResult {
  cfg: SaelensCfg;
}

const WEIGHTS = 'sae_weights.safetensors';

/** Loads one SAELens SAE folder. */
export function loadSaelensSae(dir: string, opts: SaelensLoadOptions = {}): SaelensLoadResult {
  const cfg = readSaelensCfg(dir);
  const path = join(dir, WEIGHTS);
  if (!existsSync(path)) throw new Error(`${dir}: no ${WEIGHTS} next to cfg.json`);
  const st = readSafetensors(path);
  const names = st.names();
  const hasThreshold = st.has('threshold') || st.has('log_threshold');
  const kind: SaeKind = cfg.architecture === 'jumprelu' || hasThreshold ? 'jumprelu' : 'relu';
  const known = ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold', 'log_threshold'];
  for (const k of ['W_enc', 'b_enc', 'W_dec', 'b_dec']) {
    if (!st.has(k)) throw new Error(`${path}: missing key '${k}' (found ${names.join(', ') || 'nothing'})`);
  }
  if (kind === 'jumprelu' && !hasThreshold) throw new Error(`${path}: missing key 'threshold' (cfg.json says architecture jumprelu)`);
  const extra = names.filter((n) => !known.includes(n));
  if (extra.length) throw new Error(`${path}: unexpected key(s) ${extra.join(', ')}: not a standard or JumpReLU SAELens SAE`);

  const wEncShape = st.info('W_enc').shape;
  if (wEncShape.length !== 2) throw new Error(`${path}: 'W_enc' has shape [${wEncShape}], expected [D, F]`);
  const [d, f] = wEncShape as [number, number];
  const expect: Record<string, number[]> = { b_enc: [f], W_dec: [f, d], b_dec: [d] };
  if (st.has('threshold')) expect.threshold = [f];
  if (st.has('log_threshold')) expect.log_threshold = [f];
  for (const [k, shape] of Object.entries(expect)) {
    const got = st.info(k).shape;
    if (!sameShape(got, shape)) throw new Error(`${path}: '${k}' has shape [${got}], expected [${shape}] (from W_enc [${d}, ${f}])`);
  }
  if (cfg.dIn !== undefined && cfg.dIn !== d) throw new Error(`${path}: W_enc is [${d}, ${f}] but ${cfg.path} says d_in ${cfg.dIn}`);
  if (cfg.dSae !== undefined && cfg.dSae !== f) throw new Error(`${path}: W_enc is [${d}, ${f}] but ${cfg.path} says d_sae ${cfg.dSae}`);

  let threshold: Float32Array | undefined;
  if (kind === 'jumprelu') {
    threshold = st.has('threshold') ? st.getTensor('threshold').data : st.getTensor('log_threshold').data.map(Math.exp);
  }
  // W_enc [D, F] streamed into [F, D]; W_dec is already feature-major and may be mapped.
  const enc = st.getTransposed('W_enc');
  const sae: Sae = {
    kind,
    d,
    f,
    enc: enc.data,
    bEnc: st.getTensor('b_enc').data,
    dec: st.getTensor('W_dec', { map: opts.map ?? true }).data,
    bDec: st.getTensor('b_dec').data,
    ...(threshold ? { threshold } : {}),
    applyBDecToInput: cfg.applyBDecToInput,
    source: path,
  };
  // NaN / ±Inf weights are refused by name; W_enc's row norms come with the transpose.
  checkFiniteRows(path, 'W_enc', enc.rowNorms!, sae.enc, d, true);
  checkFiniteWeights(path, [
    ['b_enc', sae.bEnc, [f]],
    ['W_dec', sae.dec, [f, d]],
    ['b_dec', sae.bDec, [d]],
    ...(threshold ? [[st.has('threshold') ? 'threshold' : 'log_threshold', threshold, [f]] as [string, Float32Array, number[]]] : []),
  ]);
  const notes: string[] = [];
  if (opts.normalizeDecoder ?? kind === 'relu') {
    const note = normalizeDecoder(sae, opts.normTolerance);
    if (note) notes.push(note);
  }
  return { sae, notes, cfg };
}
