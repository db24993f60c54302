/**
 * Importing a file into the library, from a path (the CLI; the desktop app's dropped files)
 * or from bytes (the served UI's dropped files). The kind is told from the content: agreement
 * JSONL, cluster JSON, a circuit file from `sfc discover`, or the original's annotation JSONL
 * (docs/store.md). Everything is checked before anything is written, and one import is one
 * transaction, so a refused file leaves the store exactly as it was.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { parseAgreementJsonl, splitLines } from '../data/agreement';
import { parseClusterJson } from '../data/clusters';
import { parseAnnotationJsonl } from '../data/annotations';
import { parseJudgementJsonl } from '../data/judgements';
import { formatBiosJsonl, parseBiasInBios } from '../data/bias-in-bios';
import { CIRCUIT_FORMAT, validateCircuitFile, type CircuitFile } from '../circuits/circuit-file';
import { contentHash } from '../util/hash';
import { hookPointNames } from '../models/hooks';
import { Annotations } from './annotations';
import { StoreError } from './common';
import type { Store } from './index';
import type { SaeSetRecord } from './records';
import { registerModel, registerSaeSet } from './register';

/** Larger files are refused before they are read (a circuit of 20 000 edges is ~2 MB). */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

export type ImportSource = { path: string } | { name: string; text: string };

export interface ImportOptions {
  /** The name in the library (default: the file name without its extension). */
  name?: string;
  /** Annotations: the SAE set they belong to. Circuits: the SAE set they must match. */
  saeSetId?: number;
}

export type ImportResult =
  | { kind: 'dataset'; id: number; name: string; examples: number }
  | { kind: 'circuit'; id: number; name: string; nodes: number; edges: number | null; warnings: string[] }
  | { kind: 'annotations'; saeSetId: number; imported: number; unchanged: number; skipped: { line: number; reason: string }[]; judgements: number };

const bad = (file: string, msg: string): StoreError => new StoreError('invalid_input', `${file}: ${msg}`);

/** Reads the source as UTF-8 text within the size cap; every message names the file. */
export function readSource(src: ImportSource): { file: string; text: string } {
  if ('text' in src) {
    if (Buffer.byteLength(src.text) > MAX_IMPORT_BYTES) throw bad(src.name, `too large (over ${MAX_IMPORT_BYTES >> 20} MiB)`);
    return { file: src.name, text: src.text };
  }
  const file = resolve(src.path);
  if (!existsSync(file)) throw bad(src.path, 'no such file');
  const st = statSync(file);
  if (st.isDirectory()) throw bad(src.path, 'is a folder, not a file');
  if (st.size > MAX_IMPORT_BYTES) throw bad(src.path, `too large (${(st.size / 2 ** 20).toFixed(1)} MiB; the limit is ${MAX_IMPORT_BYTES >> 20} MiB)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file));
  } catch {
    throw bad(src.path, 'is not UTF-8 text');
  }
  return { file: src.path, text };
}

type Detected = 'agreement' | 'annotations' | 'cluster' | 'circuit' | 'bios';

function detect(file: string, text: string): { kind: Detected; json?: unknown } {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (t.trim() === '') throw bad(file, 'is empty');
  let whole: unknown;
  let wholeOk = true;
  try {
    whole = JSON.parse(t);
  } catch {
    wholeOk = false;
  }
  if (wholeOk && whole && typeof whole === 'object' && !Array.isArray(whole)) {
    const o = whole as Record<string, unknown>;
    if (o.format === CIRCUIT_FORMAT) return { kind: 'circuit', json: whole };
    if ('clean_prefix' in o) return { kind: 'agreement' }; // a one-line JSONL file
    if ('hard_text' in o) return { kind: 'bios' };
    if ('Name' in o || 'Annotation' in o) return { kind: 'annotations' };
    if ('format' in o) throw bad(file, `unknown format ${JSON.stringify(o.format)} (a circuit file has "format": "${CIRCUIT_FORMAT}")`);
    return { kind: 'cluster' };
  }
  if (wholeOk) throw bad(file, 'expected a JSON object or JSON Lines, got ' + (Array.isArray(whole) ? 'a JSON array' : `a bare ${typeof whole}`));
  const first = splitLines(t).find((l) => l.trim() !== '')!;
  let line: unknown;
  try {
    line = JSON.parse(first);
  } catch (e) {
    throw bad(file, `not JSON or JSON Lines (${(e as Error).message})`);
  }
  if (line && typeof line === 'object' && !Array.isArray(line)) {
    if ('clean_prefix' in line) return { kind: 'agreement' };
    if ('hard_text' in line) return { kind: 'bios' };
    if ('Name' in line || 'Annotation' in line) return { kind: 'annotations' };
  }
  throw bad(file, 'not a recognised file: expected agreement JSONL (clean_prefix, …), cluster JSON, an sfc circuit file, annotation JSONL (Name, Annotation), or Bias in Bios JSONL (hard_text, profession, gender, split)');
}

const baseName = (file: string): string => basename(file, extname(file));

export function importFile(store: Store, src: ImportSource, opts: ImportOptions = {}): ImportResult {
  const { file, text } = readSource(src);
  const { kind, json } = detect(file, text);
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError('invalid_input', (e as Error).message);
    }
  };
  switch (kind) {
    case 'agreement':
    case 'cluster': {
      const examples = wrap(() => (kind === 'agreement' ? parseAgreementJsonl(text, file).length : parseClusterJson(text, file).length));
      if (examples === 0) throw bad(file, 'holds no examples');
      const name = opts.name ?? baseName(file);
      const d = store.action(() =>
        store.library.addDataset({ name, kind, format: kind === 'agreement' ? 'jsonl' : 'cluster-json', source: 'path' in src ? resolve(src.path) : src.name, content: text, examples }),
      );
      return { kind: 'dataset', id: d.id, name: d.name, examples: d.examples };
    }
    case 'bios': {
      // Bias in Bios for SHIFT (docs/shift.md): kept as professors and nurses with their split.
      const data = wrap(() => parseBiasInBios(text, file));
      const name = opts.name ?? baseName(file);
      const d = store.action(() =>
        store.library.addDataset({ name, kind: 'bios', format: 'bios-jsonl', source: 'path' in src ? resolve(src.path) : src.name, content: formatBiosJsonl(data), examples: data.train.rows.length + data.test.rows.length }),
      );
      return { kind: 'dataset', id: d.id, name: d.name, examples: d.examples };
    }
    case 'circuit': {
      const circuit = wrap(() => validateCircuitFile(json, file));
      return importCircuit(store, circuit, file, opts);
    }
    case 'annotations':
      return importAnnotations(store, text, file, opts.saeSetId);
  }
}

function wrapInput<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new StoreError('invalid_input', (e as Error).message);
  }
}

/** The SAE set an imported file belongs to: the one asked for, or the only real one. */
function targetSaeSet(store: Store, saeSetId: number | undefined, file: string): SaeSetRecord {
  if (saeSetId !== undefined) return store.library.saeSet(saeSetId);
  const real = store.library.saeSets().filter((s) => s.layout !== 'identity');
  if (real.length === 1) return real[0];
  throw bad(file, real.length ? `say which SAE set these annotations belong to (${real.map((s) => `${s.id} '${s.name}'`).join(', ')})` : 'no SAE set in the library to attach annotations to; add one first');
}

function importAnnotations(store: Store, text: string, file: string, saeSetId: number | undefined): ImportResult {
  const set = targetSaeSet(store, saeSetId, file);
  const { rows, skipped } = (() => {
    try {
      return parseAnnotationJsonl(text, file);
    } catch (e) {
      throw new StoreError('invalid_input', (e as Error).message);
    }
  })();
  for (const r of rows) Annotations.checkKey(set.submodules, r, `${file}:${r.line} (${r.name})`);
  // SHIFT judgements the lines carry (a Judgement field, or the original file's Bias-in-Bios lines; docs/shift.md).
  const judged = wrapInput(() => parseJudgementJsonl(text, file, { lenient: true }).rows);
  for (const r of judged) Annotations.checkKey(set.submodules, r, `${file}:${r.line} (${r.submodule}/${r.feature})`);
  let imported = 0;
  let unchanged = 0;
  store.action(() => {
    for (const r of rows) {
      const before = store.annotations.get(set.sha256, r);
      const after = store.annotations.set(set.sha256, r, r.annotation, r.notes, `import:${basename(file)}`);
      if (before && after && before.text === after.text && before.notes === after.notes) unchanged++;
      else imported++;
    }
    for (const r of judged) store.shift.judge(set.sha256, r, r.judgement, r.note, `import:${basename(file)}`);
  });
  return { kind: 'annotations', saeSetId: set.id, imported, unchanged, skipped, judgements: judged.length };
}

/**
 * A circuit joins the library tied to its model and SAE set, found by the content hashes in its
 * provenance (registered from the recorded paths when they still hold the same content). A
 * circuit whose SAEs are not the ones asked for, or whose widths disagree with them, is refused.
 */
function importCircuit(store: Store, circuit: CircuitFile, file: string, opts: ImportOptions): ImportResult {
  const warnings: string[] = [];
  const prov = circuit.provenance;
  const findOrRegister = <T>(sha: string, path: string, have: (sha: string) => T | null, register: () => T): T | null => {
    const found = have(sha);
    if (found) return found;
    if (existsSync(path) && contentHash(path) === sha) return register();
    return null;
  };
  const result = store.action(() => {
    const model = findOrRegister(prov.model.sha256, prov.model.path, (s) => store.library.modelBySha(s), () => registerModel(store, prov.model.path));
    if (!model) warnings.push(`its model (${prov.model.path}, sha256 ${prov.model.sha256.slice(0, 12)}…) is not in the library; add it to run jobs on this circuit`);
    let set: SaeSetRecord | null;
    if ('identity' in prov.saes) {
      set = model ? store.library.saeSetBySha(`identity:${model.sha256}`) ?? store.library.addSaeSet({ name: `${model.name} neurons`, path: null, sha256: `identity:${model.sha256}`, layout: 'identity', modelId: model.id }) : null;
      if (!set) throw bad(file, 'a neuron circuit needs its model in the library');
    } else {
      const p = prov.saes;
      set = findOrRegister(p.sha256, p.path, (s) => store.library.saeSetBySha(s), () => registerSaeSet(store, p.path, model?.id ?? null));
      if (opts.saeSetId !== undefined) {
        const want = store.library.saeSet(opts.saeSetId);
        if (want.sha256 !== p.sha256) {
          throw bad(file, `the circuit was discovered with another SAE set (${p.path}, sha256 ${p.sha256.slice(0, 12)}…), not with '${want.name}' (sha256 ${want.sha256.slice(0, 12)}…)`);
        }
        set = want;
      }
      if (!set) throw bad(file, `its SAE set (${p.path}, sha256 ${p.sha256.slice(0, 12)}…) is not in the library and not found at that path; add the SAE set first`);
    }
    if (set.submodules) {
      for (const s of circuit.submodules) {
        const known = set.submodules.find((k) => k.name === s.name);
        if (!known) throw bad(file, `submodule ${s.name} is not in SAE set '${set.name}'`);
        if (known.features !== s.features) throw bad(file, `${s.name} has ${s.features} features in the circuit but ${known.features} in SAE set '${set.name}' (a circuit from another SAE set?)`);
      }
    } else store.library.setSaeShapes(set.id, circuit.submodules);
    if (model) {
      const layers = Number(model.config.num_hidden_layers);
      const known = new Set(hookPointNames(layers));
      const outside = circuit.submodules.find((s) => !known.has(s.name));
      if (outside) throw bad(file, `submodule ${outside.name} does not exist in model '${model.name}' (${layers} layers)`);
    }
    const dataset = store.library.datasetBySha(prov.data.sha256);
    const name = opts.name ?? baseName(file);
    const saved = store.circuits.save({ circuit, name, modelId: model?.id ?? null, saeSetId: set.id, datasetId: dataset?.id ?? null });
    return saved;
  });
  return { kind: 'circuit', id: result.id, name: result.name, nodes: result.nodes, edges: result.edges, warnings };
}
