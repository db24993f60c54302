/**
 * Fetching the pythia-70m-deduped setup from a fake Hub on 127.0.0.1 (test/helpers/fake-hub.ts)
 * whose repositories hold the real file layout with small tensors: the cache layout Python's
 * huggingface_hub uses, loading what was fetched, resume, corruption, a gated repository,
 * offline mode, and a cache written the way Python writes it, used without a request.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub, GOOD_TOKEN, gitSha1, sha256 } from '../helpers/fake-hub';
import { servePythia, ZIP_NAME, type PythiaHub } from '../helpers/pythia-hub-fixture';
import { fetchSetup, type FetchProgress } from '../../src-main/hub/fetch';
import type { HubSettings } from '../../src-main/hub/settings';
import { repoFolderName } from '../../src-main/hub/cache';
import { loadSaeSet, standardSubmodules } from '../../src-main/saes/load';
import { loadNeoxFolder } from '../../src-main/models/load';
import { SessionCache } from '../../src-main/engine/session';
import { CancelledError } from '../../src-main/util/job-context';

let root: string;
let hub: FakeHub;
let repos: PythiaHub;
let n = 0;

/** Fresh, empty caches for one test. */
function settings(extra: Partial<HubSettings> = {}): HubSettings {
  const dir = join(root, `run-${++n}`);
  return { endpoint: hub.url, token: null, offline: false, cacheDir: join(dir, 'hub'), sfcCacheDir: join(dir, 'sfc'), ...extra };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sfc-hub-'));
  hub = await new FakeHub().start();
  repos = servePythia(hub, join(root, 'fixture'));
});
afterAll(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});
afterEach(() => {
  hub.log.length = 0;
  hub.faults.drop.clear();
  hub.faults.corrupt.clear();
  hub.faults.ignoreRange = false;
});

const repoOf = (name: string) => hub.repos.get(name)!;
const fileOf = (repo: string, path: string) => repoOf(repo).files.get(path)!.bytes;

describe('fetch pythia-70m-deduped (dictionary_learning)', () => {
  it('downloads only the needed files into the hub cache layout, unpacks the zip and loads the result', async () => {
    const s = settings();
    const events: FetchProgress[] = [];
    const r = await fetchSetup('pythia-70m-deduped', { settings: s, onProgress: (e) => events.push(e) });

    // The cache, as huggingface_hub lays it out.
    const model = repoOf(repos.model);
    const dir = join(s.cacheDir, repoFolderName(repos.model));
    expect(readFileSync(join(dir, 'refs', 'main'), 'utf8')).toBe(model.commit);
    expect(r.modelDir).toBe(join(dir, 'snapshots', model.commit));
    const link = join(r.modelDir, 'model.safetensors');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(join('..', '..', 'blobs', sha256(fileOf(repos.model, 'model.safetensors'))));
    expect(readlinkSync(join(r.modelDir, 'config.json'))).toBe(join('..', '..', 'blobs', gitSha1(fileOf(repos.model, 'config.json'))));
    expect(readdirSync(r.modelDir).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(readdirSync(join(dir, 'blobs')).some((b) => b.endsWith('.incomplete'))).toBe(false);

    // Requests: metadata through @huggingface/hub, bytes through resolve → CDN; no token, no extra files.
    const urls = hub.requests().map((q) => `${q.server} ${q.method} ${q.url.replace(/\?.*$/, '')}`);
    expect(urls).toContain(`hub GET /api/models/${repos.model}/revision/main`);
    expect(urls).toContain(`hub POST /api/models/${repos.model}/paths-info/${model.commit}`);
    expect(urls).toContain(`hub GET /${repos.model}/resolve/${model.commit}/model.safetensors`);
    expect(urls.some((u) => u.includes('pytorch_model.bin') || u.includes('README.md'))).toBe(false);
    expect(hub.requests('cdn').every((q) => q.auth === null)).toBe(true);
    expect(r.requests).toBe(hub.requests().length);

    // Progress: bytes of the whole fetch, rising to the total, with a rate once data flows.
    const dl = events.filter((e) => e.phase === 'download');
    expect(dl.length).toBeGreaterThan(0);
    expect(dl.at(-1)!.doneBytes).toBe(dl.at(-1)!.totalBytes);
    expect(dl.at(-1)!.totalBytes).toBe(r.downloadedBytes);
    for (let i = 1; i < dl.length; i++) expect(dl[i]!.doneBytes).toBeGreaterThanOrEqual(dl[i - 1]!.doneBytes);
    expect(events.some((e) => e.phase === 'unpack')).toBe(true);

    // The zip went to the app's cache and the loaders read it.
    expect(r.layout).toBe('dictionary_learning');
    expect(r.saesDir.startsWith(s.sfcCacheDir)).toBe(true);
    expect(r.saesDir.endsWith(join('dictionaries', 'pythia-70m-deduped'))).toBe(true);
    expect(r.shapes).toHaveLength(19);
    expect(r.shapes.every((x) => x.features === 32 && x.kind === 'relu')).toBe(true);
    const m = await loadNeoxFolder(r.modelDir, new SessionCache());
    const set = loadSaeSet(r.saesDir, { submodules: standardSubmodules(6), d: m.cfg.hiddenSize, layers: 6 });
    expect(set.size).toBe(19);
    expect(r.saeBytes).toBe(19 * 4 * (2 * 32 * 32 + 32 + 32));
  });

  it('a second fetch finds everything in the cache and makes no request', async () => {
    const s = settings();
    await fetchSetup('pythia-70m-deduped', { settings: s });
    hub.log.length = 0;
    const r = await fetchSetup('pythia-70m-deduped', { settings: s });
    expect(hub.requests()).toEqual([]);
    expect(r.requests).toBe(0);
    expect(r.downloadedBytes).toBe(0);
  });

  it('HF_HUB_OFFLINE with a warm cache makes no request; with a cold one it says what is missing', async () => {
    const s = settings();
    await fetchSetup('pythia-70m-deduped', { settings: s });
    hub.log.length = 0;
    const r = await fetchSetup('pythia-70m-deduped', { settings: { ...s, offline: true } });
    expect(r.requests).toBe(0);
    expect(hub.requests()).toEqual([]);
    const cold = settings({ offline: true });
    await expect(fetchSetup('pythia-70m-deduped', { settings: cold })).rejects.toThrow(/HF_HUB_OFFLINE is set and EleutherAI\/pythia-70m-deduped \(revision main\) is not complete in the cache .*no refs\/main.*Unset HF_HUB_OFFLINE/);
    expect(hub.requests()).toEqual([]);
  });
});

describe('fetch pythia-70m-deduped (SAELens)', () => {
  it('links the three repositories side by side; they load to the same SAEs as the zip', async () => {
    const s = settings();
    const r = await fetchSetup('pythia-70m-deduped', { settings: s, saes: 'saelens' });
    expect(r.layout).toBe('saelens');
    expect(readdirSync(r.saesDir).sort()).toEqual(['att', 'mlp', 'res']);
    expect(lstatSync(join(r.saesDir, 'res')).isSymbolicLink()).toBe(true);
    // sparsity.safetensors is not needed, so not fetched.
    expect(hub.requests().some((q) => q.url.includes('sparsity'))).toBe(false);
    const nested = join(s.cacheDir, repoFolderName(repos.res), 'snapshots', repoOf(repos.res).commit, '0-res-sm', 'cfg.json');
    expect(readlinkSync(nested)).toBe(join('..', '..', '..', 'blobs', gitSha1(fileOf(repos.res, '0-res-sm/cfg.json'))));
    const a = loadSaeSet(r.saesDir, { submodules: standardSubmodules(6), d: 32 });
    const dl = await fetchSetup('pythia-70m-deduped', { settings: s });
    const b = loadSaeSet(dl.saesDir, { submodules: standardSubmodules(6), d: 32 });
    for (const sub of standardSubmodules(6)) {
      expect(Array.from(a.get(sub)!.enc)).toEqual(Array.from(b.get(sub)!.enc));
      expect(Array.from(a.get(sub)!.dec)).toEqual(Array.from(b.get(sub)!.dec));
    }
  });
});

describe('interrupted downloads resume', () => {
  it('a dropped connection is resumed with a Range request from where it stopped', async () => {
    const s = settings();
    const zip = fileOf(repos.dl, ZIP_NAME);
    hub.faults.drop.set(`${repos.dl}/${ZIP_NAME}`, { after: 5000, times: 1 });
    const r = await fetchSetup('pythia-70m-deduped', { settings: s });
    const zipGets = hub.requests('cdn').filter((q) => q.url.includes(sha256(zip)));
    expect(zipGets).toHaveLength(2);
    expect(zipGets[0]!.range).toBeNull();
    expect(zipGets[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(Number(/=(\d+)-/.exec(zipGets[1]!.range!)![1])).toBeLessThanOrEqual(5000);
    expect(r.shapes).toHaveLength(19);
  });

  it('a cancelled fetch leaves the partial file, and the next fetch resumes it', async () => {
    const s = settings();
    const zip = fileOf(repos.dl, ZIP_NAME);
    const abort = new AbortController();
    // Cut the zip after 20 kB, then cancel while the client waits to resume.
    hub.faults.drop.set(`${repos.dl}/${ZIP_NAME}`, { after: 20_000, times: 1 });
    const run = fetchSetup('pythia-70m-deduped', {
      settings: s,
      signal: abort.signal,
      onProgress: (e) => {
        if (e.phase === 'download' && e.file?.endsWith(ZIP_NAME) && e.fileDoneBytes! > 0) abort.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    const partial = join(s.cacheDir, repoFolderName(repos.dl), 'blobs', `${sha256(zip)}.incomplete`);
    expect(existsSync(partial)).toBe(true);
    const have = statSync(partial).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThan(zip.length);
    hub.log.length = 0;
    const r = await fetchSetup('pythia-70m-deduped', { settings: s });
    const resumed = hub.requests('cdn').filter((q) => q.url.includes(sha256(zip)));
    expect(resumed.map((q) => q.range)).toEqual([`bytes=${have}-`]);
    expect(existsSync(partial)).toBe(false);
    expect(r.shapes).toHaveLength(19);
  });

  it('a server that ignores Range makes the client start that file over, not append to it', async () => {
    const s = settings();
    const zip = fileOf(repos.dl, ZIP_NAME);
    const blobs = join(s.cacheDir, repoFolderName(repos.dl), 'blobs');
    mkdirSync(blobs, { recursive: true });
    writeFileSync(join(blobs, `${sha256(zip)}.incomplete`), zip.subarray(0, 3000));
    hub.faults.ignoreRange = true;
    const r = await fetchSetup('pythia-70m-deduped', { settings: s });
    expect(sha256(readFileSync(join(blobs, sha256(zip))))).toBe(sha256(zip));
    expect(r.shapes).toHaveLength(19);
  });
});

describe('revisions', () => {
  it('--refresh follows a branch that moved, fetching only the changed file; without it the cached commit is used', async () => {
    const s = settings();
    const first = await fetchSetup('pythia-70m-deduped', { settings: s });
    const old = repoOf(repos.model);
    const changed = [...old.files.values()].map((f) => (f.path === 'tokenizer_config.json' ? { ...f, bytes: new TextEncoder().encode('{"model_max_length": 2048}') } : f));
    const moved = hub.addRepo(repos.model, changed);
    try {
      hub.log.length = 0;
      const stale = await fetchSetup('pythia-70m-deduped', { settings: s });
      expect(stale.requests).toBe(0);
      expect(stale.modelDir).toBe(first.modelDir);
      const fresh = await fetchSetup('pythia-70m-deduped', { settings: s, refresh: true });
      expect(fresh.modelDir).toBe(join(s.cacheDir, repoFolderName(repos.model), 'snapshots', moved.commit));
      expect(readFileSync(join(s.cacheDir, repoFolderName(repos.model), 'refs', 'main'), 'utf8')).toBe(moved.commit);
      expect(fresh.repos[0]).toMatchObject({ downloaded: 1, downloadedBytes: 26 }); // the other blobs are shared with the old commit
      expect(existsSync(join(first.modelDir, 'config.json'))).toBe(true); // the old snapshot stays, as huggingface_hub keeps it
      expect(fresh.repos[1]).toMatchObject({ downloaded: 0 });
    } finally {
      hub.repos.set(repos.model, old);
    }
  });
});

describe('two fetches at once', () => {
  it('a file another live sfc process is downloading is left to it; a lock of a dead process is taken over', async () => {
    const s = settings();
    const etag = sha256(fileOf(repos.model, 'model.safetensors'));
    const lock = join(s.sfcCacheDir, 'locks', `${repoFolderName(repos.model)}--${etag}.lock`);
    mkdirSync(dirname(lock), { recursive: true });
    writeFileSync(lock, String(process.ppid)); // alive: the process that started this test
    await expect(fetchSetup('pythia-70m-deduped', { settings: s })).rejects.toThrow(`EleutherAI/pythia-70m-deduped/model.safetensors: another sfc process (pid ${process.ppid}) is downloading this file into ${s.cacheDir}; wait for it to finish, then fetch again`);
    writeFileSync(lock, '999999999'); // no such process
    const r = await fetchSetup('pythia-70m-deduped', { settings: s });
    expect(r.shapes).toHaveLength(19);
    expect(existsSync(lock)).toBe(false);
  });
});

describe('corruption is detected', () => {
  it('a corrupt download fails its sha256 check and is fetched again', async () => {
    const s = settings();
    const key = `${repos.model}/model.safetensors`;
    hub.faults.corrupt.set(key, { times: 1 });
    const r = await fetchSetup('pythia-70m-deduped', { settings: s });
    const body = fileOf(repos.model, 'model.safetensors');
    expect(hub.requests('cdn').filter((q) => q.url.includes(sha256(body)))).toHaveLength(2);
    expect(sha256(readFileSync(join(r.modelDir, 'model.safetensors')))).toBe(sha256(body));
  });

  it('a corrupt small file fails its git sha1 check and is fetched again', async () => {
    const s = settings();
    hub.faults.corrupt.set(`${repos.model}/config.json`, { times: 1 });
    const r = await fetchSetup('pythia-70m-deduped', { settings: s });
    expect(hub.requests('hub').filter((q) => q.url.endsWith('/config.json'))).toHaveLength(2);
    expect(gitSha1(readFileSync(join(r.modelDir, 'config.json')))).toBe(gitSha1(fileOf(repos.model, 'config.json')));
  });

  it('corruption on every try is an error naming the file, and nothing corrupt is kept', async () => {
    const s = settings();
    hub.faults.corrupt.set(`${repos.model}/model.safetensors`, { times: 5 });
    await expect(fetchSetup('pythia-70m-deduped', { settings: s })).rejects.toThrow(/EleutherAI\/pythia-70m-deduped\/model\.safetensors: the download is corrupt: sha256 [0-9a-f]{64}, the Hub publishes [0-9a-f]{64} \(downloaded twice; nothing was kept\)/);
    const blobs = join(s.cacheDir, repoFolderName(repos.model), 'blobs');
    expect(readdirSync(blobs).filter((b) => b.startsWith(sha256(fileOf(repos.model, 'model.safetensors'))))).toEqual([]);
  });

  it('a damaged cached file: a wrong size is refetched at once, a same-size change with --verify', async () => {
    const s = settings();
    const r = await fetchSetup('pythia-70m-deduped', { settings: s });
    const blob = join(s.cacheDir, repoFolderName(repos.model), 'blobs', sha256(fileOf(repos.model, 'model.safetensors')));
    truncateSync(blob, 100);
    await fetchSetup('pythia-70m-deduped', { settings: s, refresh: true });
    expect(statSync(blob).size).toBe(fileOf(repos.model, 'model.safetensors').length);

    const bytes = readFileSync(blob);
    bytes[10] ^= 1;
    writeFileSync(blob, bytes);
    const v = await fetchSetup('pythia-70m-deduped', { settings: s, verify: true });
    expect(v.notes.some((x) => /model\.safetensors: the cached copy .* is damaged/.test(x))).toBe(true);
    expect(sha256(readFileSync(join(r.modelDir, 'model.safetensors')))).toBe(sha256(fileOf(repos.model, 'model.safetensors')));
  });
});

describe('gated repositories', () => {
  let gated: FakeHub;
  beforeAll(async () => {
    gated = await new FakeHub().start();
    servePythia(gated, join(root, 'gated-fixture'), { gated: ['saprmarks/pythia-70m-deduped-saes'] });
  });
  afterAll(() => gated.close());

  it('401 without a token names the repository and says how to get access; a token opens it; a wrong one gets 403', async () => {
    const s = { ...settings(), endpoint: gated.url };
    await expect(fetchSetup('pythia-70m-deduped', { settings: s })).rejects.toThrow(
      /saprmarks\/pythia-70m-deduped-saes: downloading .*dictionaries_pythia-70m-deduped_10\.zip was refused with 401 Unauthorized: the repository is gated or private\. Accept its terms on http:\/\/127\.0\.0\.1:\d+\/saprmarks\/pythia-70m-deduped-saes .* set HF_TOKEN/,
    );
    await expect(fetchSetup('pythia-70m-deduped', { settings: { ...s, token: 'hf_wrong' } })).rejects.toThrow(/403 Forbidden: the token in HF_TOKEN has no access to this repository; request access on/);
    const r = await fetchSetup('pythia-70m-deduped', { settings: { ...s, token: GOOD_TOKEN } });
    expect(r.shapes).toHaveLength(19);
    // The token went to the Hub only, never to the CDN.
    expect(gated.requests('hub').some((q) => q.auth === `Bearer ${GOOD_TOKEN}`)).toBe(true);
    expect(gated.requests('cdn').every((q) => q.auth === null)).toBe(true);
  });
});

describe('a cache written by Python', () => {
  /** Writes repo files the way huggingface_hub does: blobs by etag, refs/main, relative symlinks, .no_exist, .locks. */
  function pythonCache(cacheDir: string, repo: string, paths: string[]): void {
    const r = repoOf(repo);
    const dir = join(cacheDir, repoFolderName(repo));
    mkdirSync(join(dir, 'refs'), { recursive: true });
    writeFileSync(join(dir, 'refs', 'main'), r.commit);
    for (const p of paths) {
      const f = r.files.get(p)!;
      const etag = f.lfs ? sha256(f.bytes) : gitSha1(f.bytes);
      mkdirSync(join(dir, 'blobs'), { recursive: true });
      writeFileSync(join(dir, 'blobs', etag), f.bytes);
      const pointer = join(dir, 'snapshots', r.commit, ...p.split('/'));
      mkdirSync(dirname(pointer), { recursive: true });
      symlinkSync(relative(dirname(pointer), join(dir, 'blobs', etag)), pointer);
    }
    // A file Python learned is absent, and its lock folder: both must be tolerated.
    mkdirSync(join(dir, '.no_exist', r.commit), { recursive: true });
    writeFileSync(join(dir, '.no_exist', r.commit, 'special_tokens_map.json'), '');
    mkdirSync(join(cacheDir, '.locks', repoFolderName(repo)), { recursive: true });
  }

  it('is used for both SAE sources with no request at all', async () => {
    const s = settings({ endpoint: 'http://127.0.0.1:9' }); // nothing listens there
    pythonCache(s.cacheDir, repos.model, ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'README.md']);
    pythonCache(s.cacheDir, repos.dl, [ZIP_NAME]);
    for (const part of [repos.res, repos.att, repos.mlp]) pythonCache(s.cacheDir, part, [...repoOf(part).files.keys()]);
    const a = await fetchSetup('pythia-70m-deduped', { settings: s });
    const b = await fetchSetup('pythia-70m-deduped', { settings: s, saes: 'saelens' });
    expect(a.requests + b.requests).toBe(0);
    expect(a.modelDir).toBe(join(s.cacheDir, repoFolderName(repos.model), 'snapshots', repoOf(repos.model).commit));
    expect(a.shapes).toEqual(b.shapes);
    expect(loadSaeSet(b.saesDir, { submodules: standardSubmodules(6), d: 32 }).size).toBe(19);
  });
});
