/**
 * What a folder holds, read from headers only (config.json, safetensors headers, the pickle of
 * each ae.pt, SAELens cfg.json): a model's type, layers and width; which submodules have an SAE,
 * their widths and kinds; and the memory loading them takes. Nothing big is read, so it answers
 * in milliseconds for the 2.5 GB Pythia dictionaries (`sfc inspect`, the app's Open Folder, and
 * the shapes recorded when a fetched SAE set is registered).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseNeoxConfig } from '../models/neox-config';
import { paramShapes } from '../models/gptneox';
import { readSafetensors } from '../models/safetensors';
import { hookPointNames } from '../models/hooks';
import { readSaelensCfg } from '../saes/saelens';
import { readTorchShapes } from '../saes/torch-zip';
import { SAE_LAYOUTS, type LoadSaeSetOptions, type SaeLayoutPlan } from '../saes/load';
import { COMMIT, readRef, repoFromFolder } from './cache';

export interface ModelInspection {
  path: string;
  /** config.json's model_type (or its first architecture). */
  modelType: string;
  /** Whether the engine runs it (GPT-NeoX with the supported options); `problem` says why not. */
  supported: boolean;
  problem: string | null;
  layers: number | null;
  width: number | null;
  heads: number | null;
  intermediate: number | null;
  vocab: number | null;
  weights: { file: string; dtypes: string[]; parameters: number; bytesOnDisk: number } | null;
  tokenizer: boolean;
  /** Memory of the weights once loaded (float32). */
  bytesLoaded: number;
}

export interface SaeHeader {
  submodule: string;
  path: string;
  features: number;
  width: number;
  kind: 'relu' | 'jumprelu';
  dtype: string;
  bytesOnDisk: number;
  /** Memory once loaded: encoder and decoder [F, D] plus biases (and threshold), float32. */
  bytesLoaded: number;
}

export interface SaeInspection {
  path: string;
  layout: string;
  root: string;
  submodules: SaeHeader[];
  /** Submodules absent up to the last layer found (or the model's layers, when known). */
  missing: string[];
  /** Loads, but worth knowing: a subfolder used, several runs, mixed sizes, a second layout. */
  notes: string[];
  /** Will not load as it is: missing submodules, unreadable headers, wrong widths. */
  problems: string[];
  bytesLoaded: number;
}

export interface Inspection {
  path: string;
  /** A hub cache repository folder given as PATH: the snapshot actually inspected. */
  snapshot: string | null;
  model: ModelInspection | null;
  saes: SaeInspection | null;
  /** Why nothing was recognised, when neither is present. */
  problems: string[];
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A hub cache repository folder (models--owner--name) → the snapshot its `main` ref (or only commit) points at. */
export function snapshotOfCacheRepo(dir: string): string | null {
  const repo = repoFromFolder(basename(dir));
  if (!repo || !existsSync(join(dir, 'snapshots'))) return null;
  const cacheDir = join(dir, '..');
  const main = readRef(cacheDir, repo, 'main');
  if (main && existsSync(join(dir, 'snapshots', main))) return join(dir, 'snapshots', main);
  const commits = readdirSync(join(dir, 'snapshots')).filter((c) => COMMIT.test(c));
  return commits.length === 1 ? join(dir, 'snapshots', commits[0]!) : null;
}

export function inspectModel(dir: string): ModelInspection | null {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) return null;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    return { ...emptyModel(dir), problem: `${cfgPath}: invalid JSON (${(e as Error).message})` };
  }
  if (!raw || typeof raw !== 'object' || !('model_type' in raw || 'architectures' in raw)) return null; // some other config.json (e.g. an SAE's)
  const num = (k: string): number | null => (typeof raw[k] === 'number' ? (raw[k] as number) : null);
  const out: ModelInspection = {
    ...emptyModel(dir),
    modelType: String(raw.model_type ?? (Array.isArray(raw.architectures) ? raw.architectures[0] : '?')),
    layers: num('num_hidden_layers'),
    width: num('hidden_size'),
    heads: num('num_attention_heads'),
    intermediate: num('intermediate_size'),
    vocab: num('vocab_size'),
    tokenizer: existsSync(join(dir, 'tokenizer.json')),
  };
  let shapes: Map<string, number[]> | null = null;
  try {
    shapes = paramShapes(parseNeoxConfig(raw, cfgPath));
    out.supported = true;
  } catch (e) {
    out.problem = (e as Error).message;
  }
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  const file = existsSync(single) ? single : existsSync(index) ? index : null;
  if (!file) {
    out.supported = false;
    out.problem ??= `${dir}: no model.safetensors or model.safetensors.index.json (only safetensors weights are supported)`;
  } else {
    try {
      const st = readSafetensors(file);
      const dtypes = new Set<string>();
      let parameters = 0;
      for (const n of st.names()) {
        const i = st.info(n);
        dtypes.add(i.dtype);
        parameters += numel(i.shape);
      }
      const files = file === index ? [...new Set(Object.values((JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map))].map((f) => join(dir, f)) : [file];
      out.weights = { file: relative(dir, file), dtypes: [...dtypes].sort(), parameters, bytesOnDisk: files.reduce((a, f) => a + (existsSync(f) ? statSync(f).size : 0), 0) };
      out.bytesLoaded = 4 * (shapes ? [...shapes.values()].reduce((a, s) => a + numel(s), 0) : parameters);
    } catch (e) {
      out.supported = false;
      out.problem ??= (e as Error).message;
    }
  }
  if (out.supported && !out.tokenizer) out.problem = `${dir}: no tokenizer.json (data files cannot be tokenized without it)`;
  return out;
}

function emptyModel(path: string): ModelInspection {
  return { path, modelType: '?', supported: false, problem: null, layers: null, width: null, heads: null, intermediate: null, vocab: null, weights: null, tokenizer: false, bytesLoaded: 0 };
}

/** One SAE's header: widths, kind and sizes, from the pickle of an ae.pt or a SAELens folder's cfg.json and safetensors header. */
export function saeHeader(layout: string, submodule: string, path: string): SaeHeader {
  if (layout === 'dictionary_learning') {
    const shapes = readTorchShapes(path);
    const w = shapes.get('encoder.weight');
    if (!w || w.shape.length !== 2) throw new Error(`${path}: no 2-D 'encoder.weight' (keys: ${[...shapes.keys()].join(', ') || 'none'}); not a dictionary_learning AutoEncoder`);
    const [f, d] = w.shape as [number, number];
    return { submodule, path, features: f, width: d, kind: 'relu', dtype: w.dtype, bytesOnDisk: statSync(path).size, bytesLoaded: 4 * (2 * f * d + f + d) };
  }
  const cfg = readSaelensCfg(path);
  const weights = join(path, 'sae_weights.safetensors');
  if (!existsSync(weights)) throw new Error(`${path}: no sae_weights.safetensors next to cfg.json`);
  const st = readSafetensors(weights);
  const w = st.info('W_enc');
  if (w.shape.length !== 2) throw new Error(`${weights}: 'W_enc' has shape [${w.shape}], expected [D, F]`);
  const [d, f] = w.shape as [number, number];
  const jump = cfg.architecture === 'jumprelu' || st.has('threshold') || st.has('log_threshold');
  return { submodule, path, features: f, width: d, kind: jump ? 'jumprelu' : 'relu', dtype: w.dtype, bytesOnDisk: statSync(weights).size, bytesLoaded: 4 * (2 * f * d + f + d + (jump ? f : 0)) };
}

/** Layer numbers a folder tree mentions (to know how far to look for SAEs). */
function lastLayerGuess(plan: SaeLayoutPlan, maxLayers = 128): number {
  const opts: LoadSaeSetOptions = { submodules: [], d: 0 };
  let last = -1;
  for (let l = 0; l < maxLayers; l++) {
    if (['attn', 'mlp', 'resid'].some((k) => !('missing' in plan.locate(`${k}_${l}`, opts)))) last = l;
  }
  return last;
}

/**
 * The SAEs in `dir`: layout, each submodule's header, and what is missing or wrong. `layers`
 * and `width` (from the model, when known) tighten the checks. Returns null when no layout
 * recognises the folder.
 */
export function inspectSaes(dir: string, model?: { layers: number | null; width: number | null }): SaeInspection | null {
  let plan: SaeLayoutPlan | null = null;
  const others: string[] = [];
  for (const layout of SAE_LAYOUTS) {
    let p: SaeLayoutPlan | null;
    try {
      p = layout.detect(dir);
    } catch (e) {
      return { path: dir, layout: layout.name, root: dir, submodules: [], missing: [], notes: [], problems: [(e as Error).message], bytesLoaded: 0 };
    }
    if (p && !plan) plan = p;
    else if (p) others.push(p.layout);
  }
  if (!plan) return null;
  const notes = [...plan.notes];
  if (others.length) notes.push(`${dir} also holds ${others.join(' and ')} SAEs, which are ignored: ${plan.layout} is used (point at a folder holding one set to choose)`);
  const problems: string[] = [];
  const layers = model?.layers ?? lastLayerGuess(plan) + 1;
  const wanted = hookPointNames(Math.max(0, layers));
  const opts: LoadSaeSetOptions = { submodules: wanted, d: model?.width ?? 0 };
  const submodules: SaeHeader[] = [];
  const missing: string[] = [];
  for (const sub of wanted) {
    const r = plan.locate(sub, opts);
    if ('missing' in r) {
      missing.push(sub);
      continue;
    }
    notes.push(...r.notes);
    try {
      submodules.push(saeHeader(plan.layout, sub, r.path));
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (missing.length) {
    const where = plan.locate(missing[0]!, opts);
    problems.push(`no SAE for ${missing.join(', ')}${'missing' in where ? ` (${where.missing})` : ''}`);
  }
  if (!submodules.length && !problems.length) problems.push(`${dir}: no SAE could be read`);
  const byWidth = groupBy(submodules, (s) => s.width);
  if (model?.width) {
    for (const s of submodules) if (s.width !== model.width) problems.push(`${s.path}: activation width ${s.width}, the model's width is ${model.width}`);
  } else if (byWidth.size > 1) {
    problems.push(`activation widths differ: ${describeGroups(byWidth)}`);
  }
  const bySize = groupBy(submodules, (s) => s.features);
  if (bySize.size > 1) notes.push(`dictionary sizes differ: ${describeGroups(bySize)}`);
  return { path: dir, layout: plan.layout, root: plan.root, submodules, missing, notes, problems, bytesLoaded: submodules.reduce((a, s) => a + s.bytesLoaded, 0) };
}

function groupBy<K>(xs: SaeHeader[], key: (s: SaeHeader) => K): Map<K, string[]> {
  const m = new Map<K, string[]>();
  for (const s of xs) m.set(key(s), [...(m.get(key(s)) ?? []), s.submodule]);
  return m;
}

function describeGroups(m: Map<number, string[]>): string {
  return [...m].sort((a, b) => b[1].length - a[1].length).map(([k, subs]) => `${k} (${subs.length > 3 ? `${subs.length} submodules` : subs.join(', ')})`).join(', ');
}

/** Model and SAEs in one folder, a model folder, an SAE folder, or a hub cache repository. */
export function inspectPath(path: string): Inspection {
  if (!existsSync(path)) throw new Error(`${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) throw new Error(`${path}: is a file; give the folder that holds it`);
  const snapshot = snapshotOfCacheRepo(path);
  const dir = snapshot ?? path;
  const model = inspectModel(dir);
  const saes = inspectSaes(dir, model ?? undefined);
  const problems: string[] = [];
  if (!model && !saes) {
    problems.push(`${path}: neither a model folder (config.json + model.safetensors + tokenizer.json) nor SAEs (dictionary_learning folders embed/, attn_out_layer0/, … holding <run>/ae.pt, or SAELens folders with cfg.json + sae_weights.safetensors)`);
  }
  return { path, snapshot, model, saes, problems };
}

/** The shapes the library records for an SAE set (name, features, kind), from headers. */
export function saeShapes(dir: string, submodules: readonly string[]): { name: string; features: number; kind: string }[] {
  const r = inspectSaes(dir);
  if (!r) throw new Error(`${dir}: no SAEs found`);
  const by = new Map(r.submodules.map((s) => [s.submodule, s]));
  const missing = submodules.filter((s) => !by.has(s));
  if (missing.length) throw new Error(`SAE set ${dir}: ${r.problems.join('; ') || `no SAE for ${missing.join(', ')}`}`);
  return submodules.map((s) => ({ name: s, features: by.get(s)!.features, kind: by.get(s)!.kind }));
}
