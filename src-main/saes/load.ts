/**
 * Loads a set of SAEs, one per submodule, from a folder, whatever layout it is in. Layouts are
 * a table of detectors (SAE_LAYOUTS): each looks at the folder without reading weights, and
 * the first that recognises it locates and loads every requested submodule. A Gemma Scope
 * `params.npz` layout slots in as one more entry.
 *
 * Every requested submodule is located before any weights are read, so a missing SAE fails in
 * milliseconds, and every SAE is checked against the model width.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadAutoEncoder } from './dictionary-learning';
import { hookToSubmodule, loadSaelensSae, submoduleToHook } from './saelens';
import { checkSaeArrays, type SaeLoadResult } from './sae-util';
import type { Sae, SaeSet, Submodule } from './types';
import { hookPointNames, hookRef, parseHook } from '../models/hooks';

export { identitySae, identitySaeSet } from './identity';

export interface LoadSaeSetOptions {
  /** Submodules that need an SAE ('embed', 'attn_0', 'mlp_0', 'resid_0', ...). */
  submodules: readonly Submodule[];
  /** The model's activation width; every SAE must match. */
  d: number;
  /** The model's layer count; requested submodules beyond it are an error. */
  layers?: number;
  /** dictionary_learning: which `<run>_<size>` folder to use when there are several. */
  run?: string;
  /** Override each loader's decoder-norm default (see normalizeDecoder). */
  normalizeDecoder?: boolean;
  /** Let loaders map weights from the file (default true; false where arrays change threads). */
  mapWeights?: boolean;
  /** Things the user should hear about: rescaled decoders, choices between several candidates. */
  onNote?: (message: string) => void;
  /** Called after each SAE is loaded. */
  onProgress?: (loaded: number, total: number, submodule: Submodule) => void;
}

/** What a layout detector found: where each submodule's SAE is, and how to load it. */
export interface SaeLayoutPlan {
  layout: string;
  root: string;
  /** Notes about the detection itself (e.g. a subfolder was used). */
  notes: string[];
  /** The SAE's location, or a message saying where it looked. */
  locate(sub: Submodule, opts: LoadSaeSetOptions): { path: string; notes: string[] } | { missing: string };
  load(path: string, opts: LoadSaeSetOptions): SaeLoadResult;
}

export interface SaeLayout {
  name: string;
  /** Cheap: reads folder listings and small JSON files only. Null if the layout is not there. */
  detect(dir: string): SaeLayoutPlan | null;
}


function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() || (e.isSymbolicLink() && statSync(join(dir, e.name)).isDirectory()))
      .map((e) => e.name)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// dictionary_learning: <root>/{embed, attn_out_layer{l}, mlp_out_layer{l}, resid_out_layer{l}}/<run>_<size>/ae.pt

export function dictionaryLearningFolder(sub: Submodule): string {
  const { kind, layer } = hookRef(sub);
  return kind === 'embed' ? 'embed' : `${kind}_out_layer${layer}`;
}

const DL_FOLDER = /^(?:embed|(?:attn|mlp|resid)_out_layer\d+)$/;
const isDlRoot = (dir: string) => subdirs(dir).some((n) => DL_FOLDER.test(n));

export const dictionaryLearningLayout: SaeLayout = {
  name: 'dictionary_learning',
  detect(dir) {
    let root = dir;
    const notes: string[] = [];
    if (!isDlRoot(dir)) {
      // Also accept the folder above, e.g. `dictionaries/` holding `pythia-70m-deduped/`.
      const inner = subdirs(dir).filter((n) => isDlRoot(join(dir, n)));
      if (inner.length === 0) return null;
      if (inner.length > 1) throw new Error(`${dir}: several dictionary sets inside (${inner.join(', ')}); choose one of them`);
      root = join(dir, inner[0]!);
      notes.push(`${dir}: using the dictionary set in ${inner[0]}/`);
    }
    return {
      layout: 'dictionary_learning',
      root,
      notes,
      locate(sub, opts) {
        const folder = dictionaryLearningFolder(sub);
        const base = join(root, folder);
        if (opts.run) {
          const path = join(base, opts.run, 'ae.pt');
          return existsSync(path) ? { path, notes: [] } : { missing: `looked for ${folder}/${opts.run}/ae.pt` };
        }
        const runs = subdirs(base).filter((r) => existsSync(join(base, r, 'ae.pt')));
        if (runs.length === 0) {
          const direct = join(base, 'ae.pt');
          return existsSync(direct) ? { path: direct, notes: [] } : { missing: `looked for ${folder}/*/ae.pt` };
        }
        const notes =
          runs.length > 1 ? [`${base}: several dictionaries (${runs.join(', ')}); using ${runs[0]} (the first in natural order; choose another with the run option)`] : [];
        return { path: join(base, runs[0]!, 'ae.pt'), notes };
      },
      load: (path, opts) => loadAutoEncoder(path, { normalizeDecoder: opts.normalizeDecoder, map: opts.mapWeights }),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// SAELens: folders with cfg.json + sae_weights.safetensors, in the folder itself, its
// subfolders, or one level further (e.g. the res, att and mlp release repos side by side).

function hookOf(cfgPath: string): string | null {
  try {
    const raw = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    const meta = (raw.metadata ?? {}) as Record<string, unknown>;
    const h = raw.hook_name ?? raw.hook_point ?? meta.hook_name ?? meta.hook_point;
    return typeof h === 'string' ? h : null;
  } catch {
    return null; // reported when (if) this SAE is actually requested and loaded
  }
}

export const saelensLayout: SaeLayout = {
  name: 'saelens',
  detect(dir) {
    const found: string[] = [];
    const visit = (d: string, depth: number) => {
      if (existsSync(join(d, 'cfg.json'))) found.push(d);
      if (depth < 2) for (const s of subdirs(d)) visit(join(d, s), depth + 1);
    };
    visit(dir, 0);
    if (found.length === 0) return null;
    const bySub = new Map<Submodule, string[]>();
    const unreadable: string[] = [];
    for (const d of found) {
      const hook = hookOf(join(d, 'cfg.json'));
      if (hook === null) unreadable.push(relative(dir, d) || '.');
      const sub = hook === null ? null : hookToSubmodule(hook);
      if (sub) bySub.set(sub, [...(bySub.get(sub) ?? []), d]);
    }
    return {
      layout: 'saelens',
      root: dir,
      notes: [],
      locate(sub) {
        const dirs = bySub.get(sub) ?? [];
        if (dirs.length === 0) {
          const why = unreadable.length ? `; cfg.json without a readable hook_name in ${unreadable.join(', ')}` : '';
          return { missing: `looked for a cfg.json with hook_name ${submoduleToHook(sub)} among ${found.length} SAELens folders${why}` };
        }
        const notes =
          dirs.length > 1
            ? [`${dir}: several SAEs for ${sub} (${dirs.map((d) => relative(dir, d)).join(', ')}); using ${relative(dir, dirs[0]!)} (the first in natural order)`]
            : [];
        return { path: dirs[0]!, notes };
      },
      load: (path, opts) => loadSaelensSae(path, { normalizeDecoder: opts.normalizeDecoder, map: opts.mapWeights }),
    };
  },
};

/** Tried in order; the first that recognises the folder is used. */
export const SAE_LAYOUTS: SaeLayout[] = [dictionaryLearningLayout, saelensLayout];

/** Finds the layout of `dir` (throws if none matches). */
export function detectSaeLayout(dir: string, layouts: readonly SaeLayout[] = SAE_LAYOUTS): SaeLayoutPlan {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`SAE set ${dir}: folder does not exist`);
  for (const layout of layouts) {
    const plan = layout.detect(dir);
    if (!plan) continue;
    // Two sets in one folder (e.g. SAELens downloads next to an ae.pt tree): say which is used.
    const others = layouts.filter((l) => {
      if (l === layout) return false;
      try {
        return l.detect(dir) !== null;
      } catch {
        return true;
      }
    });
    if (others.length) plan.notes.push(`${dir} also holds ${others.map((l) => l.name).join(' and ')} SAEs, which are ignored: ${plan.layout} is used (point at a folder holding one set to choose)`);
    return plan;
  }
  throw new Error(
    `SAE set ${dir}: no SAEs found (expected dictionary_learning folders embed/, attn_out_layer0/, … each holding <run>/ae.pt, ` +
      `or SAELens folders with cfg.json and sae_weights.safetensors)`,
  );
}

export function loadSaeSet(dir: string, opts: LoadSaeSetOptions, layouts: readonly SaeLayout[] = SAE_LAYOUTS): SaeSet {
  const { plan, paths } = planSaeSet(dir, opts, layouts);
  const set: SaeSet = new Map();
  for (const sub of opts.submodules) {
    const { sae, notes } = plan.load(paths.get(sub)!, opts);
    acceptSae(set, sub, sae, notes, opts);
  }
  return set;
}

/** Detects the layout and locates every requested SAE (before any weights are read). */
export function planSaeSet(dir: string, opts: LoadSaeSetOptions, layouts: readonly SaeLayout[] = SAE_LAYOUTS): { plan: SaeLayoutPlan; paths: Map<Submodule, string> } {
  const note = (m: string) => opts.onNote?.(m);
  for (const sub of opts.submodules) {
    const h = parseHook(sub);
    if (!h) throw new Error(`SAE set ${dir}: unknown submodule '${sub}' (expected embed, attn_<l>, mlp_<l> or resid_<l>)`);
    if (h.kind !== 'embed' && opts.layers !== undefined && h.layer >= opts.layers) {
      throw new Error(`SAE set ${dir}: submodule ${sub} asked for, but the model has ${opts.layers} layers`);
    }
  }
  const plan = detectSaeLayout(dir, layouts);
  plan.notes.forEach(note);
  // Locate everything first: a missing SAE should not cost loading the others.
  const paths = new Map<Submodule, string>();
  const missing: string[] = [];
  for (const sub of opts.submodules) {
    const r = plan.locate(sub, opts);
    if ('missing' in r) missing.push(`no SAE for ${sub} (${r.missing})`);
    else {
      paths.set(sub, r.path);
      r.notes.forEach(note);
    }
  }
  if (missing.length) throw new Error(`SAE set ${plan.root} (${plan.layout}): ${missing.join('; ')}`);
  return { plan, paths };
}

/** Checks one loaded SAE against the model and adds it to the set. */
export function acceptSae(set: SaeSet, sub: Submodule, sae: Sae, notes: string[], opts: LoadSaeSetOptions): void {
  checkSaeArrays(sae);
  if (sae.d !== opts.d) throw new Error(`${sae.source}: activation width ${sae.d}, model width ${opts.d}`);
  notes.forEach((m) => opts.onNote?.(m));
  set.set(sub, sae);
  opts.onProgress?.(set.size, opts.submodules.length, sub);
}

/** The submodules of a model with `layers` layers, in model order (models/hooks.ts). */
export function standardSubmodules(layers: number, withEmbed = true): Submodule[] {
  return hookPointNames(layers, { embed: withEmbed });
}
