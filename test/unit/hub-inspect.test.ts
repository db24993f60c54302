/**
 * Layout detection and `sfc inspect` on small generated trees: both released layouts, the folder
 * above, and wrong trees (a missing submodule, a wrong width, mixed sizes, several runs, a
 * SAELens folder next to an ae.pt tree, nothing at all), plus model folders and a hub cache
 * repository. Headers only: nothing here reads weights.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectSaeLayout, dictionaryLearningFolder, loadSaeSet, planSaeSet, standardSubmodules } from '../../src-main/saes/load';
import { submoduleToHook } from '../../src-main/saes/saelens';
import { readTorchShapes } from '../../src-main/saes/torch-zip';
import { inspectPath, inspectSaes, saeShapes } from '../../src-main/hub/inspect';
import { cleanupTempDirs, flatCfg, randomSae, tempDir, writeAe, writeSaelens } from '../helpers/saes-fixtures';
import { writeRandomNeoxFolder } from '../helpers/neox-folder';

afterAll(cleanupTempDirs);

const D = 8;
const F = 16;
const SUBS = standardSubmodules(2); // embed + 2 layers = 7 submodules

function dlTree(root: string, opts: { width?: Record<string, number>; features?: Record<string, number>; skip?: string[]; run?: string } = {}): string {
  SUBS.forEach((sub, i) => {
    if (opts.skip?.includes(sub)) return;
    writeAe(join(root, dictionaryLearningFolder(sub), opts.run ?? '10_32768'), randomSae(20 + i, opts.width?.[sub] ?? D, opts.features?.[sub] ?? F));
  });
  return root;
}

function saelensTree(root: string, opts: { width?: Record<string, number>; skip?: string[] } = {}): string {
  SUBS.forEach((sub, i) => {
    if (opts.skip?.includes(sub)) return;
    const sae = randomSae(40 + i, opts.width?.[sub] ?? D, F);
    const part = sub === 'embed' || sub.startsWith('resid') ? 'res' : sub.startsWith('attn') ? 'att' : 'mlp';
    const folder = sub === 'embed' ? 'e-res-sm' : `${sub.split('_')[1]}-${part}-sm`;
    writeSaelens(join(root, part, folder), sae, flatCfg(sae, submoduleToHook(sub)));
  });
  return root;
}

describe('layout detection: the released layouts', () => {
  it('a dictionary_learning tree: every submodule, its width, size and kind, from the pickle only', () => {
    const root = dlTree(tempDir('dl'));
    const r = inspectSaes(root)!;
    expect(r.layout).toBe('dictionary_learning');
    expect(r.submodules.map((s) => s.submodule)).toEqual(SUBS);
    expect(r.submodules.every((s) => s.features === F && s.width === D && s.kind === 'relu' && s.dtype === 'float32')).toBe(true);
    expect(r.missing).toEqual([]);
    expect(r.problems).toEqual([]);
    expect(r.bytesLoaded).toBe(SUBS.length * 4 * (2 * F * D + F + D));
    expect([...readTorchShapes(r.submodules[0]!.path)]).toEqual([
      ['bias', { dtype: 'float32', shape: [D] }],
      ['encoder.weight', { dtype: 'float32', shape: [F, D] }],
      ['encoder.bias', { dtype: 'float32', shape: [F] }],
      ['decoder.weight', { dtype: 'float32', shape: [D, F] }],
    ]);
    expect(saeShapes(root, SUBS)).toEqual(SUBS.map((name) => ({ name, features: F, kind: 'relu' })));
  });

  it('the three SAELens repositories side by side', () => {
    const root = saelensTree(tempDir('sl'));
    const r = inspectSaes(root)!;
    expect(r.layout).toBe('saelens');
    expect(r.submodules.map((s) => s.submodule)).toEqual(SUBS);
    expect(r.submodules.find((s) => s.submodule === 'embed')!.path).toBe(join(root, 'res', 'e-res-sm'));
    expect(r.problems).toEqual([]);
    expect(loadSaeSet(root, { submodules: SUBS, d: D }).size).toBe(SUBS.length);
  });

  it('the folder above a dictionary set, as the release zip unpacks (dictionaries/pythia-70m-deduped/…)', () => {
    const top = tempDir('above');
    dlTree(join(top, 'pythia-70m-deduped'));
    const r = inspectSaes(top)!;
    expect(r.root).toBe(join(top, 'pythia-70m-deduped'));
    expect(r.notes).toContain(`${top}: using the dictionary set in pythia-70m-deduped/`);
    expect(r.submodules).toHaveLength(SUBS.length);
  });

  it('symlinked folders (a hub cache snapshot) are followed', () => {
    const real = saelensTree(tempDir('real'));
    const linked = tempDir('linked');
    for (const part of ['res', 'att', 'mlp']) symlinkSync(join(real, part), join(linked, part), 'dir');
    expect(inspectSaes(linked)!.submodules).toHaveLength(SUBS.length);
  });
});

describe('layout detection: wrong trees', () => {
  it('a missing submodule is named, with where the loader looked', () => {
    const root = dlTree(tempDir('missing'), { skip: ['mlp_1'] });
    const r = inspectSaes(root)!;
    expect(r.missing).toEqual(['mlp_1']);
    expect(r.problems).toEqual(['no SAE for mlp_1 (looked for mlp_out_layer1/*/ae.pt)']);
    expect(() => planSaeSet(root, { submodules: SUBS, d: D })).toThrow(`SAE set ${root} (dictionary_learning): no SAE for mlp_1 (looked for mlp_out_layer1/*/ae.pt)`);
    const sl = saelensTree(tempDir('sl-missing'), { skip: ['embed'] });
    expect(inspectSaes(sl, { layers: 2, width: D })!.problems[0]).toMatch(/^no SAE for embed \(looked for a cfg\.json with hook_name blocks\.0\.hook_resid_pre among 6 SAELens folders\)$/);
  });

  it('a wrong width is named by file, against the model or against the others', () => {
    const root = dlTree(tempDir('width'), { width: { attn_1: 4 } });
    const file = join(root, 'attn_out_layer1', '10_32768', 'ae.pt');
    expect(inspectSaes(root, { layers: 2, width: D })!.problems).toEqual([`${file}: activation width 4, the model's width is ${D}`]);
    expect(inspectSaes(root)!.problems).toEqual([`activation widths differ: ${D} (6 submodules), 4 (attn_1)`]);
    expect(() => loadSaeSet(root, { submodules: SUBS, d: D })).toThrow(`${file}: activation width 4, model width ${D}`);
  });

  it('mixed dictionary sizes load, with a note', () => {
    const root = dlTree(tempDir('sizes'), { features: { resid_0: 32 } });
    const r = inspectSaes(root, { layers: 2, width: D })!;
    expect(r.problems).toEqual([]);
    expect(r.notes).toContain(`dictionary sizes differ: ${F} (6 submodules), 32 (resid_0)`);
    expect(loadSaeSet(root, { submodules: SUBS, d: D }).get('resid_0')!.f).toBe(32);
  });

  it('several runs in one submodule folder: the first is used, and the choice is said', () => {
    const root = dlTree(tempDir('runs'));
    writeAe(join(root, 'embed', '9_16384'), randomSae(99, D, 24));
    const r = inspectSaes(root)!;
    expect(r.submodules.find((s) => s.submodule === 'embed')!.features).toBe(24);
    expect(r.notes.some((n) => n.includes('several dictionaries (9_16384, 10_32768); using 9_16384'))).toBe(true);
  });

  it('a SAELens folder next to an ae.pt tree: the ae.pt tree is used and the other set is named', () => {
    const root = dlTree(tempDir('both'));
    const sae = randomSae(77, D, F);
    writeSaelens(join(root, '0-res-sm'), sae, flatCfg(sae, 'blocks.0.hook_resid_post'));
    const r = inspectSaes(root)!;
    expect(r.layout).toBe('dictionary_learning');
    expect(r.notes).toContain(`${root} also holds saelens SAEs, which are ignored: dictionary_learning is used (point at a folder holding one set to choose)`);
    expect(detectSaeLayout(root).notes).toContain(`${root} also holds saelens SAEs, which are ignored: dictionary_learning is used (point at a folder holding one set to choose)`);
  });

  it('two dictionary sets one level down: refused, naming both', () => {
    const top = tempDir('two');
    dlTree(join(top, 'a'));
    dlTree(join(top, 'b'));
    expect(inspectSaes(top)!.problems).toEqual([`${top}: several dictionary sets inside (a, b); choose one of them`]);
  });

  it('a broken ae.pt and an unsupported SAELens cfg are problems naming the file', () => {
    const root = dlTree(tempDir('broken'));
    writeFileSync(join(root, 'mlp_out_layer0', '10_32768', 'ae.pt'), 'not a zip');
    expect(inspectSaes(root)!.problems[0]).toMatch(/mlp_out_layer0\/10_32768\/ae\.pt: not a zip archive/);
    const sl = saelensTree(tempDir('topk'));
    const sae = randomSae(5, D, F);
    writeSaelens(join(sl, 'mlp', '0-mlp-sm'), sae, flatCfg(sae, 'blocks.0.hook_mlp_out', { activation_fn_str: 'topk' }));
    expect(inspectSaes(sl)!.problems.some((p) => p.includes("0-mlp-sm/cfg.json: SAE architecture 'topk' is not supported"))).toBe(true);
  });

  it('a folder with neither a model nor SAEs says what was expected', () => {
    const dir = tempDir('empty');
    mkdirSync(join(dir, 'stuff'));
    const r = inspectPath(dir);
    expect(r.model).toBeNull();
    expect(r.saes).toBeNull();
    expect(r.problems[0]).toMatch(/neither a model folder \(config\.json \+ model\.safetensors \+ tokenizer\.json\) nor SAEs/);
    expect(() => inspectPath(join(dir, 'nope'))).toThrow(`${join(dir, 'nope')}: no such file or folder`);
  });
});

describe('inspect: model folders', () => {
  it('type, layers, width, weights and their memory, from config.json and the safetensors header', () => {
    const dir = tempDir('model');
    writeRandomNeoxFolder(dir, { hidden: 16, layers: 3, heads: 2, intermediate: 32, vocab: 64, dtype: 'F16' });
    const r = inspectPath(dir);
    const m = r.model!;
    expect(m).toMatchObject({ modelType: 'gpt_neox', supported: true, problem: null, layers: 3, width: 16, heads: 2, intermediate: 32, vocab: 64, tokenizer: true });
    expect(m.weights!.dtypes).toEqual(['F16']);
    const params = 2 * 64 * 16 + 2 * 16 + 3 * (4 * 16 + 3 * 16 * 16 + 3 * 16 + 16 * 16 + 16 + 32 * 16 + 32 + 16 * 32 + 16);
    expect(m.weights!.parameters).toBe(params);
    expect(m.bytesLoaded).toBe(4 * params);
    expect(r.saes).toBeNull();
  });

  it('an unsupported model is described, with the reason', () => {
    const dir = tempDir('llama');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', num_hidden_layers: 2, hidden_size: 8 }));
    const m = inspectPath(dir).model!;
    expect(m.supported).toBe(false);
    expect(m.modelType).toBe('llama');
    expect(m.layers).toBe(2);
    expect(m.problem).toMatch(/model_type "llama" is not supported/);
  });

  it('a hub cache repository folder is inspected through refs/main', () => {
    const cache = tempDir('cache');
    const repo = join(cache, 'models--EleutherAI--pythia-70m-deduped');
    const commit = 'a'.repeat(40);
    writeRandomNeoxFolder(join(repo, 'snapshots', commit), { hidden: 16, layers: 1, heads: 2, intermediate: 32, vocab: 64 });
    mkdirSync(join(repo, 'refs'));
    writeFileSync(join(repo, 'refs', 'main'), commit);
    const r = inspectPath(repo);
    expect(r.snapshot).toBe(join(repo, 'snapshots', commit));
    expect(r.model!.layers).toBe(1);
    rmSync(join(repo, 'refs'), { recursive: true });
    expect(inspectPath(repo).snapshot).toBe(join(repo, 'snapshots', commit)); // the only snapshot
  });
});
