/**
 * The known-setups registry (repositories, files, Neuronpedia ids and links), the Hugging Face
 * environment as huggingface_hub reads it, and the hub cache helpers (refs, links, listing,
 * clearing) on a temporary folder.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SETUPS, getSaeSource, getSetup, neuronpediaUrl } from '../../src-main/hub/registry';
import { hubSettings, isTrue } from '../../src-main/hub/settings';
import { checkRepoPath, clearCache, linkSnapshotFile, listCache, readRef, repoFolderName, writeRef } from '../../src-main/hub/cache';
import { standardSubmodules } from '../../src-main/saes/load';

const root = mkdtempSync(join(tmpdir(), 'sfc-hub-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('registry', () => {
  const p = getSetup('pythia-70m-deduped');

  it('names the model, both SAE sources and their files', () => {
    expect(p.model.repo).toBe('EleutherAI/pythia-70m-deduped');
    expect(p.model.files.filter((f) => !f.optional).map((f) => f.path)).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    expect(getSaeSource(p, 'dictionary_learning').repos).toEqual([{ repo: 'saprmarks/pythia-70m-deduped-saes', files: [{ path: 'dictionaries_pythia-70m-deduped_10.zip' }] }]);
    const sl = getSaeSource(p, 'saelens');
    expect(sl.repos.map((r) => r.repo)).toEqual(['ctigges/pythia-70m-deduped__res-sm_processed', 'ctigges/pythia-70m-deduped__att-sm_processed', 'ctigges/pythia-70m-deduped__mlp-sm_processed']);
    expect(sl.repos[0]!.files.map((f) => f.path).slice(0, 4)).toEqual(['e-res-sm/cfg.json', 'e-res-sm/sae_weights.safetensors', '0-res-sm/cfg.json', '0-res-sm/sae_weights.safetensors']);
    expect(sl.repos.flatMap((r) => r.files)).toHaveLength(2 * 19);
    expect(() => getSetup('gpt2')).toThrow("unknown setup 'gpt2' (known: pythia-70m-deduped); other models and SAEs work from folders (--model DIR --saes DIR)");
    expect(() => getSaeSource(p, 'npz')).toThrow("pythia-70m-deduped: unknown SAE source 'npz' (known: dictionary_learning, saelens)");
  });

  it('gives every submodule its Neuronpedia SAE and every feature its page', () => {
    expect(Object.keys(p.neuronpedia.saeIds)).toEqual(standardSubmodules(6));
    expect(p.neuronpedia).toMatchObject({ modelId: 'pythia-70m-deduped', release: 'p70d-sm' });
    expect(p.neuronpedia.saeIds.embed).toBe('e-res-sm');
    expect(neuronpediaUrl(p.neuronpedia, 'resid_5', 3036)).toBe('https://www.neuronpedia.org/pythia-70m-deduped/5-res-sm/3036');
    expect(neuronpediaUrl(p.neuronpedia, 'attn_2', 13570)).toBe('https://www.neuronpedia.org/pythia-70m-deduped/2-att-sm/13570');
    expect(neuronpediaUrl(p.neuronpedia, 'mlp_0', 0)).toBe('https://www.neuronpedia.org/pythia-70m-deduped/0-mlp-sm/0');
    expect(neuronpediaUrl(p.neuronpedia, 'embed', 946)).toBe('https://www.neuronpedia.org/pythia-70m-deduped/e-res-sm/946');
    expect(neuronpediaUrl(p.neuronpedia, 'mlp_0', 'error')).toBeNull();
    expect(neuronpediaUrl(p.neuronpedia, 'resid_6', 1)).toBeNull();
    expect(Object.keys(SETUPS)).toEqual(['pythia-70m-deduped']);
  });
});

describe('the Hugging Face environment', () => {
  it('cache folder: HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub', () => {
    expect(hubSettings({}).cacheDir).toBe(join(homedir(), '.cache', 'huggingface', 'hub'));
    expect(hubSettings({ XDG_CACHE_HOME: '/x' }).cacheDir).toBe('/x/huggingface/hub');
    expect(hubSettings({ XDG_CACHE_HOME: '/x', HF_HOME: '/h' }).cacheDir).toBe('/h/hub');
    expect(hubSettings({ HF_HOME: '/h', HUGGINGFACE_HUB_CACHE: '/legacy' }).cacheDir).toBe('/legacy');
    expect(hubSettings({ HF_HOME: '/h', HUGGINGFACE_HUB_CACHE: '/legacy', HF_HUB_CACHE: '/c' }).cacheDir).toBe('/c');
    expect(hubSettings({ HF_HOME: '~/hf' }).cacheDir).toBe(join(homedir(), 'hf', 'hub'));
  });

  it('endpoint, token and offline switch', () => {
    expect(hubSettings({})).toMatchObject({ endpoint: 'https://huggingface.co', token: null, offline: false });
    expect(hubSettings({ HF_ENDPOINT: 'https://hf-mirror.com/' }).endpoint).toBe('https://hf-mirror.com');
    expect(hubSettings({ HUGGING_FACE_HUB_TOKEN: 'hf_old' }).token).toBe('hf_old');
    expect(hubSettings({ HUGGING_FACE_HUB_TOKEN: 'hf_old', HF_TOKEN: 'hf_new' }).token).toBe('hf_new');
    for (const v of ['1', 'true', 'YES', 'on']) expect(isTrue(v)).toBe(true);
    for (const v of ['0', 'false', '', undefined]) expect(isTrue(v)).toBe(false);
    expect(hubSettings({ TRANSFORMERS_OFFLINE: '1' }).offline).toBe(true);
    expect(() => hubSettings({ HF_ENDPOINT: 'ftp://x' })).toThrow("HF_ENDPOINT 'ftp://x' is not an http(s) URL");
    expect(hubSettings({ SFC_CACHE_DIR: '/s' }).sfcCacheDir).toBe('/s/hub');
    expect(hubSettings({ SFC_CACHE_DIR: 'off', XDG_CACHE_HOME: '/x' }, 'linux').sfcCacheDir).toBe('/x/sfc-workbench/hub');
    expect(hubSettings({ XDG_CACHE_HOME: '/x' }, 'linux').sfcCacheDir).toBe('/x/sfc-workbench/hub');
    expect(hubSettings({ SFC_CACHE_DIR: '/s', SFC_HUB_DIR: '/h' }).sfcCacheDir).toBe('/h');
  });
});

describe('the hub cache', () => {
  const cacheDir = join(root, 'hub');
  const sfcCacheDir = join(root, 'sfc');
  const repo = 'owner/name';
  const commit = 'c'.repeat(40);
  const etag = 'e'.repeat(64);

  it('refs: written without a newline, read back; a commit stands for itself', () => {
    expect(repoFolderName(repo)).toBe('models--owner--name');
    expect(readRef(cacheDir, repo, 'main')).toBeNull();
    writeRef(cacheDir, repo, 'main', commit);
    expect(readFileSync(join(cacheDir, 'models--owner--name', 'refs', 'main'), 'utf8')).toBe(commit);
    expect(readRef(cacheDir, repo, 'main')).toBe(commit);
    expect(readRef(cacheDir, repo, 'd'.repeat(40))).toBe('d'.repeat(40));
    writeRef(cacheDir, repo, 'refs/pr/1', commit);
    expect(readRef(cacheDir, repo, 'refs/pr/1')).toBe(commit);
    expect(() => readRef(cacheDir, repo, '../x')).toThrow("'../x' is not a valid revision");
  });

  it('snapshot files are relative links to the blob, nested paths included', () => {
    mkdirSync(join(cacheDir, 'models--owner--name', 'blobs'), { recursive: true });
    writeFileSync(join(cacheDir, 'models--owner--name', 'blobs', etag), 'weights');
    const p = linkSnapshotFile(cacheDir, repo, commit, 'sub/dir/file.bin', etag);
    expect(lstatSync(p).isSymbolicLink()).toBe(true);
    expect(readlinkSync(p)).toBe(join('..', '..', '..', '..', 'blobs', etag));
    expect(readFileSync(p, 'utf8')).toBe('weights');
    for (const bad of ['../x', '/abs', 'a//b', 'a\\b', '']) expect(() => checkRepoPath(bad, repo)).toThrow(/unsafe file path/);
  });

  it('lists repositories, partial downloads and app folders; clears by id only', () => {
    writeFileSync(join(cacheDir, 'models--owner--name', 'blobs', `${'f'.repeat(64)}.incomplete`), 'part');
    mkdirSync(join(cacheDir, 'stray-folder'));
    mkdirSync(join(cacheDir, '.locks', 'models--owner--name'), { recursive: true });
    mkdirSync(join(sfcCacheDir, 'unpacked', 'models--owner--name', commit, 'x'), { recursive: true });
    writeFileSync(join(sfcCacheDir, 'unpacked', 'models--owner--name', commit, 'x', 'ae.pt'), '12345');
    const l = listCache({ cacheDir, sfcCacheDir });
    expect(l.entries.map((e) => e.id)).toEqual(['hub:models--owner--name', 'sfc:unpacked/models--owner--name']);
    expect(l.entries[0]).toMatchObject({ kind: 'hub-repo', repo, bytes: 'weights'.length + 4 + 2 * 40, files: 4, incompleteBytes: 4, revisions: [{ commit, refs: ['main', 'refs/pr/1'] }] });
    expect(l.entries[1]).toMatchObject({ kind: 'unpacked', repo, bytes: 5, revisions: [{ commit, refs: [] }] });
    expect(l.warnings).toEqual([`${join(cacheDir, 'stray-folder')}: not a hub cache repository folder (left alone)`]);
    expect(() => clearCache({ cacheDir, sfcCacheDir }, ['hub:../../etc'])).toThrow(/^not in the cache: hub:\.\.\/\.\.\/etc \(cached: hub:models--owner--name, sfc:unpacked\/models--owner--name\)$/);
    const r = clearCache({ cacheDir, sfcCacheDir }, ['hub:models--owner--name']);
    expect(r.removed).toEqual([{ id: 'hub:models--owner--name', path: join(cacheDir, 'models--owner--name'), bytes: 91 }]);
    expect(existsSync(join(cacheDir, 'models--owner--name'))).toBe(false);
    expect(existsSync(join(cacheDir, '.locks', 'models--owner--name'))).toBe(false);
    expect(existsSync(join(cacheDir, 'stray-folder'))).toBe(true);
  });
});
