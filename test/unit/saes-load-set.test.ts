import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identitySaeSet, loadSaeSet, standardSubmodules } from '../../src-main/saes/load';
import { cleanupTempDirs, randomSae, tempDir, writeAe, writeSaelens, flatCfg } from '../helpers/saes-fixtures';

afterAll(cleanupTempDirs);

const D = 8;
const SUBS = standardSubmodules(1); // embed, attn_0, mlp_0, resid_0

/** A dictionary_learning tree for a 1-layer model; `overrides` swaps in other SAEs per folder. */
function dlTree(root: string, widths: Record<string, number> = {}) {
  const folders = { embed: 'embed', attn_0: 'attn_out_layer0', mlp_0: 'mlp_out_layer0', resid_0: 'resid_out_layer0' };
  Object.entries(folders).forEach(([sub, folder], i) => writeAe(join(root, folder, '10_12'), randomSae(10 + i, widths[sub] ?? D, 12)));
  return root;
}

describe('loadSaeSet: dictionary_learning layout', () => {
  it('loads one SAE per submodule and reports progress', () => {
    const root = dlTree(tempDir('dl'));
    const progress: string[] = [];
    const set = loadSaeSet(root, { submodules: SUBS, d: D, layers: 1, onProgress: (n, t, s) => progress.push(`${n}/${t} ${s}`) });
    expect([...set.keys()]).toEqual(SUBS);
    expect(set.get('attn_0')!.source).toBe(join(root, 'attn_out_layer0', '10_12', 'ae.pt'));
    expect(set.get('mlp_0')!.f).toBe(12);
    expect(progress).toEqual(['1/4 embed', '2/4 attn_0', '3/4 mlp_0', '4/4 resid_0']);
  });

  it('accepts the folder above the dictionary set, and says so', () => {
    const parent = tempDir('parent');
    dlTree(join(parent, 'pythia-70m-deduped'));
    const notes: string[] = [];
    const set = loadSaeSet(parent, { submodules: ['embed'], d: D, onNote: (m) => notes.push(m) });
    expect(set.size).toBe(1);
    expect(notes).toEqual([`${parent}: using the dictionary set in pythia-70m-deduped/`]);
  });

  it('with several runs, picks the first in natural order and says so; the run option chooses', () => {
    const root = dlTree(tempDir('runs'));
    writeAe(join(root, 'embed', '9_20'), randomSae(99, D, 20));
    const notes: string[] = [];
    const set = loadSaeSet(root, { submodules: ['embed', 'mlp_0'], d: D, onNote: (m) => notes.push(m) });
    expect(set.get('embed')!.f).toBe(20); // 9_20 sorts before 10_12 numerically
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('several dictionaries (9_20, 10_12); using 9_20');
    expect(loadSaeSet(root, { submodules: ['embed'], d: D, run: '10_12' }).get('embed')!.f).toBe(12);
    expect(() => loadSaeSet(root, { submodules: ['embed'], d: D, run: '3_4' })).toThrow('no SAE for embed (looked for embed/3_4/ae.pt)');
  });

  it('names a missing submodule and where it looked', () => {
    const root = dlTree(tempDir('miss'));
    expect(() => loadSaeSet(root, { submodules: [...SUBS, 'mlp_3'], d: D })).toThrow(
      `SAE set ${root} (dictionary_learning): no SAE for mlp_3 (looked for mlp_out_layer3/*/ae.pt)`,
    );
  });

  it('names the file whose width does not match the model', () => {
    const root = dlTree(tempDir('width'), { attn_0: 4 });
    expect(() => loadSaeSet(root, { submodules: SUBS, d: D })).toThrow(`${join(root, 'attn_out_layer0', '10_12', 'ae.pt')}: activation width 4, model width ${D}`);
  });

  it('rejects unknown submodules and layers past the model', () => {
    const root = dlTree(tempDir('names'));
    expect(() => loadSaeSet(root, { submodules: ['emb'], d: D })).toThrow("unknown submodule 'emb'");
    expect(() => loadSaeSet(root, { submodules: ['resid_1'], d: D, layers: 1 })).toThrow('submodule resid_1 asked for, but the model has 1 layers');
  });

  it('passes a corrupt ae.pt error through with the file name', () => {
    const root = dlTree(tempDir('corrupt'));
    const bad = join(root, 'mlp_out_layer0', '10_12', 'ae.pt');
    writeFileSync(bad, 'garbage');
    expect(() => loadSaeSet(root, { submodules: SUBS, d: D })).toThrow(`${bad}: not a zip archive`);
  });
});

describe('loadSaeSet: SAELens layout', () => {
  /** The three Pythia releases side by side, as downloaded (one folder level each). */
  function releases(root: string, d = D) {
    const s = (seed: number) => randomSae(seed, d, 12);
    const put = (path: string, seed: number, hook: string) => writeSaelens(join(root, path), s(seed), flatCfg(s(seed), hook));
    put('res/e-res-sm', 1, 'blocks.0.hook_resid_pre');
    put('res/0-res-sm', 2, 'blocks.0.hook_resid_post');
    put('att/0-att-sm', 3, 'blocks.0.hook_attn_out');
    put('mlp/0-mlp-sm', 4, 'blocks.0.hook_mlp_out');
    return root;
  }

  it('finds SAEs by hook name in subfolders', () => {
    const root = releases(tempDir('sl'));
    const set = loadSaeSet(root, { submodules: SUBS, d: D });
    expect(set.get('embed')!.source).toBe(join(root, 'res/e-res-sm', 'sae_weights.safetensors'));
    expect(set.get('attn_0')!.source).toBe(join(root, 'att/0-att-sm', 'sae_weights.safetensors'));
    expect(set.get('resid_0')!.bDec).toEqual(randomSae(2, D, 12).bDec);
  });

  it('names a missing submodule and what it looked for', () => {
    const root = releases(tempDir('slmiss'));
    expect(() => loadSaeSet(root, { submodules: ['mlp_1'], d: D })).toThrow(
      `SAE set ${root} (saelens): no SAE for mlp_1 (looked for a cfg.json with hook_name blocks.1.hook_mlp_out among 4 SAELens folders)`,
    );
  });

  it('names the file whose width does not match', () => {
    const root = releases(tempDir('slwidth'), 6);
    expect(() => loadSaeSet(root, { submodules: ['mlp_0'], d: D })).toThrow(`${join(root, 'mlp/0-mlp-sm', 'sae_weights.safetensors')}: activation width 6, model width ${D}`);
  });
});

describe('loadSaeSet: other', () => {
  it('an empty or missing folder', () => {
    const dir = tempDir('empty');
    mkdirSync(join(dir, 'unrelated'));
    expect(() => loadSaeSet(dir, { submodules: ['embed'], d: D })).toThrow(`SAE set ${dir}: no SAEs found`);
    expect(() => loadSaeSet(join(dir, 'nope'), { submodules: ['embed'], d: D })).toThrow('folder does not exist');
  });

  it('identity sets', () => {
    const set = identitySaeSet(SUBS, D);
    expect([...set.keys()]).toEqual(SUBS);
    const s = set.get('mlp_0')!;
    expect([s.kind, s.d, s.f, s.enc.length, s.bDec.length]).toEqual(['identity', D, D, 0, D]);
  });
});
