/**
 * `sfc fetch pythia-70m-deduped`: puts a known setup's model and dictionaries on disk in the
 * hub cache (docs/hub.md) and returns the folders the loaders read.
 *
 * 1. Plan. Each repository's revision is looked up in the cache first (refs/<revision>, or the
 *    commit itself); when every file it needs is in that snapshot, nothing is requested at all.
 *    Otherwise the Hub is asked for the commit and for each file's size and hash. HF_HUB_OFFLINE
 *    makes a missing file an error instead.
 * 2. Download what is missing into blobs/<etag>.incomplete, resuming, with progress; verify;
 *    rename; link into the snapshot.
 * 3. Assemble: the dictionary_learning zip is unpacked (once per commit) into the app's cache; the
 *    three SAELens repositories are linked side by side into one folder.
 * 4. Check the result with headers only: the model's width against every SAE's, and record the
 *    SAE shapes so annotations can be checked against them.
 */
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { dictionaryLearningLayout } from '../saes/load';
import { CancelledError } from '../util/job-context';
import { COMMIT, blobPath, cachedFile, checkRepoId, checkRepoPath, linkFolder, linkSnapshotFile, readRef, repoFolderName, snapshotDir, writeRef } from './cache';
import { HubError, type RemoteFile, type RequestLog, downloadVerified, remoteFiles, resolveCommit, resolveUrl } from './http';
import { inspectModel, inspectSaes, type SaeHeader } from './inspect';
import { getSaeSource, getSetup, type RepoSpec, type SaeSourceId, type Setup } from './registry';
import type { HubSettings } from './settings';
import { unzipTo } from './unzip';

export interface FetchProgress {
  phase: 'plan' | 'download' | 'verify' | 'unpack' | 'check';
  /** The file being worked on, and its bytes so far (downloads only). */
  file: string | null;
  fileDoneBytes?: number;
  doneBytes: number;
  totalBytes: number;
  /** Bytes per second over the last few seconds of this session's transfer; null before any. */
  bytesPerSecond: number | null;
  etaSeconds: number | null;
  message: string;
}

export interface FetchOptions {
  settings: HubSettings;
  saes?: SaeSourceId;
  /** Model revision (branch, tag or commit); default the registry's, i.e. 'main'. */
  revision?: string;
  /** Ask the Hub for the current commit even when the cache has one for the revision. */
  refresh?: boolean;
  /** Re-hash cached files against the Hub's hashes (needs the network). */
  verify?: boolean;
  /** Also fetch the original annotation file: true for the registry's URL, or a URL. */
  annotations?: boolean | string;
  signal?: AbortSignal;
  onProgress?(p: FetchProgress): void;
}

export interface FetchedRepo {
  repo: string;
  commit: string;
  snapshot: string;
  /** Files downloaded now, and bytes; the rest came from the cache. */
  downloaded: number;
  downloadedBytes: number;
  fromCache: number;
}

export interface FetchResult {
  setup: string;
  saeSource: SaeSourceId;
  modelDir: string;
  saesDir: string;
  layout: string;
  repos: FetchedRepo[];
  /** SAE shapes from headers, in model order (the library records them). */
  shapes: { name: string; features: number; kind: string }[];
  /** Memory the model and dictionaries take once loaded (float32). */
  modelBytes: number;
  saeBytes: number;
  annotationsFile: string | null;
  downloadedBytes: number;
  /** HTTP requests made (0 when everything came from the cache). */
  requests: number;
  seconds: number;
  notes: string[];
}

interface PlannedFile {
  repo: string;
  commit: string;
  remote: RemoteFile;
}

interface RepoPlan {
  spec: RepoSpec;
  commit: string;
  /** Everything needed is in the snapshot already. */
  cached: boolean;
  missing: PlannedFile[];
  present: number;
}

const fmtBytes = (b: number): string =>
  b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(0)} KiB` : `${b} B`;

function fmtSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Aggregated bytes, rate (over a sliding window) and ETA across every file of one fetch. */
class Meter {
  private readonly perFile = new Map<string, number>();
  private readonly samples: [number, number][] = [];
  private transferred = 0;
  constructor(
    readonly totalBytes: number,
    private readonly emit: (p: FetchProgress) => void,
  ) {}
  get doneBytes(): number {
    let n = 0;
    for (const v of this.perFile.values()) n += v;
    return n;
  }
  update(file: string, done: number): void {
    const before = this.perFile.get(file) ?? 0;
    this.perFile.set(file, done);
    if (done > before) this.transferred += done - before;
    const now = performance.now();
    this.samples.push([now, this.transferred]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 5000) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    const rate = now - t0 > 250 ? ((this.transferred - b0) / (now - t0)) * 1000 : null;
    const doneBytes = this.doneBytes;
    const eta = rate && rate > 0 ? (this.totalBytes - doneBytes) / rate : null;
    // The path in its repository: SAELens files share names (cfg.json) across folders.
    const name = file.split('/').slice(2).join('/');
    this.emit({
      phase: 'download',
      file,
      fileDoneBytes: done,
      doneBytes,
      totalBytes: this.totalBytes,
      bytesPerSecond: rate,
      etaSeconds: eta,
      message: `downloading ${name}: ${fmtBytes(doneBytes)} of ${fmtBytes(this.totalBytes)}${rate ? `, ${fmtBytes(rate)}/s` : ''}${eta !== null ? `, about ${fmtSeconds(eta)} left` : ''}`,
    });
  }
}

function freeBytes(dir: string): number | null {
  try {
    let d = dir;
    while (!existsSync(d)) d = join(d, '..');
    const s = statfsSync(d);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null; // not every platform or file system reports it
  }
}

function checkCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

async function planRepo(s: HubSettings, spec: RepoSpec, revision: string, opts: FetchOptions, log: RequestLog): Promise<RepoPlan> {
  checkRepoId(spec.repo);
  for (const f of spec.files) checkRepoPath(f.path, spec.repo);
  const cachedCommit = readRef(s.cacheDir, spec.repo, revision);
  const required = spec.files.filter((f) => !f.optional);
  // Offline, --refresh cannot ask the Hub anything: the cache is all there is.
  if (cachedCommit && (s.offline || (!opts.refresh && !opts.verify)) && required.every((f) => cachedFile(s.cacheDir, spec.repo, cachedCommit, f.path))) {
    return { spec, commit: cachedCommit, cached: true, missing: [], present: spec.files.length };
  }
  if (s.offline) {
    const missing = cachedCommit ? required.filter((f) => !cachedFile(s.cacheDir, spec.repo, cachedCommit, f.path)).map((f) => f.path) : required.map((f) => f.path);
    throw new HubError(
      `HF_HUB_OFFLINE is set and ${spec.repo} (revision ${revision}) is not complete in the cache ${s.cacheDir}: ` +
        (cachedCommit ? `missing ${missing.join(', ')} in snapshot ${cachedCommit}` : `no refs/${revision} and no snapshot for it`) +
        `. Unset HF_HUB_OFFLINE to download it, or open folders you already have (--model DIR --saes DIR).`,
    );
  }
  const commit = COMMIT.test(revision) ? revision : await resolveCommit(s, spec.repo, revision, log, opts.signal);
  writeRef(s.cacheDir, spec.repo, revision, commit);
  const remote = await remoteFiles(s, spec.repo, commit, spec.files.map((f) => f.path), log, opts.signal);
  const absent = required.filter((f) => !remote.has(f.path)).map((f) => f.path);
  if (absent.length) throw new HubError(`${spec.repo} at commit ${commit} has no ${absent.join(', ')}${absent.includes('model.safetensors') ? ' (only safetensors weights are supported)' : ''}`);
  const missing: PlannedFile[] = [];
  let present = 0;
  for (const f of spec.files) {
    const r = remote.get(f.path);
    if (!r) continue;
    const have = cachedFile(s.cacheDir, spec.repo, commit, f.path);
    const blob = blobPath(s.cacheDir, spec.repo, r.etag);
    // A cached file of the wrong size is damaged (an interrupted copy, a full disk): fetch it again.
    const good = (p: string | null): boolean => !!p && existsSync(p) && statSizeOf(p) === r.size;
    if (!opts.verify && good(have)) {
      present++;
      continue;
    }
    if (!opts.verify && good(blob)) {
      linkSnapshotFile(s.cacheDir, spec.repo, commit, f.path, r.etag);
      present++;
      continue;
    }
    missing.push({ repo: spec.repo, commit, remote: r });
  }
  return { spec, commit, cached: false, missing, present };
}

function statSizeOf(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return -1;
  }
}

/** With verify: cached blobs whose hash matches are kept (and linked); the rest are fetched. */
async function verifyCached(s: HubSettings, plan: RepoPlan, opts: FetchOptions, notes: string[]): Promise<void> {
  const keep: PlannedFile[] = [];
  for (const f of plan.missing) {
    checkCancelled(opts.signal);
    const blob = blobPath(s.cacheDir, f.repo, f.remote.etag);
    if (!existsSync(blob)) {
      keep.push(f);
      continue;
    }
    opts.onProgress?.({ phase: 'verify', file: f.remote.path, doneBytes: 0, totalBytes: f.remote.size, bytesPerSecond: null, etaSeconds: null, message: `verifying ${f.repo}/${f.remote.path}` });
    if (statSizeOf(blob) === f.remote.size && (await hashFile(blob, f.remote)) === (f.remote.sha256 ?? f.remote.gitOid)) {
      linkSnapshotFile(s.cacheDir, f.repo, f.commit, f.remote.path, f.remote.etag);
      plan.present++;
    } else {
      notes.push(`${f.repo}/${f.remote.path}: the cached copy ${blob} is damaged (size or hash differs from the Hub's); fetched again`);
      rmSync(blob, { force: true });
      keep.push(f);
    }
  }
  plan.missing = keep;
}

async function hashFile(path: string, r: RemoteFile): Promise<string> {
  const h = r.sha256 ? createHash('sha256') : createHash('sha1').update(`blob ${r.size}\0`);
  for await (const c of createReadStream(path, { highWaterMark: 1 << 22 })) h.update(c as Buffer);
  return h.digest('hex');
}

/**
 * One sfc process at a time per blob: the app and the CLI fetching together would otherwise
 * write the same `.incomplete` file. The lock holds the owner's pid; a lock whose process is
 * gone is taken over. (huggingface_hub's own locks are advisory fcntl locks we cannot share.)
 */
function lockBlob(s: HubSettings, repo: string, etag: string, what: string): () => void {
  const dir = join(s.sfcCacheDir, 'locks');
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, `${repoFolderName(repo)}--${etag}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(lock, 'utf8'));
      let alive = false;
      try {
        alive = Number.isInteger(pid) && pid > 0 && pid !== process.pid && (process.kill(pid, 0), true);
      } catch {
        alive = false;
      }
      if (alive) throw new HubError(`${what}: another sfc process (pid ${pid}) is downloading this file into ${s.cacheDir}; wait for it to finish, then fetch again`);
      rmSync(lock, { force: true }); // left by a process that is gone
    }
  }
  throw new HubError(`${what}: cannot take the download lock in ${dir}`);
}

async function downloadAll(s: HubSettings, files: PlannedFile[], opts: FetchOptions, log: RequestLog): Promise<number> {
  const total = files.reduce((a, f) => a + f.remote.size, 0);
  const meter = new Meter(total, (p) => opts.onProgress?.(p));
  let bytes = 0;
  for (const f of files) {
    checkCancelled(opts.signal);
    const blob = blobPath(s.cacheDir, f.repo, f.remote.etag);
    mkdirSync(join(blob, '..'), { recursive: true });
    const key = `${f.repo}/${f.remote.path}`;
    const unlock = lockBlob(s, f.repo, f.remote.etag, key);
    try {
      await downloadVerified(s, resolveUrl(s, f.repo, f.commit, f.remote.path), `${blob}.incomplete`, { size: f.remote.size, sha256: f.remote.sha256, gitOid: f.remote.gitOid }, key, {
        signal: opts.signal,
        log,
        repo: f.repo,
        onBytes: (done) => meter.update(key, done),
      });
      renameSync(`${blob}.incomplete`, blob);
    } finally {
      unlock();
    }
    linkSnapshotFile(s.cacheDir, f.repo, f.commit, f.remote.path, f.remote.etag);
    bytes += f.remote.size;
  }
  return bytes;
}

/** Folder of one dictionary_learning tree inside an unpacked archive (it may sit a level or two down). */
function findDictionaryRoot(dir: string): string | null {
  const queue: [string, number][] = [[dir, 0]];
  while (queue.length) {
    const [d, depth] = queue.shift()!;
    let plan = null;
    try {
      plan = dictionaryLearningLayout.detect(d);
    } catch {
      plan = null; // several sets one level down: look deeper for a single one
    }
    if (plan) return plan.root;
    if (depth < 3) {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) queue.push([join(d, e.name), depth + 1]);
    }
  }
  return null;
}

export function unpackedDir(s: HubSettings, repo: string, commit: string, file: string): string {
  return join(s.sfcCacheDir, 'unpacked', repoFolderName(repo), commit, file.replace(/\.zip$/i, ''));
}

/** Where the SAELens repositories are linked side by side; named by their commits, so a new commit is a new folder. */
function assembledDir(s: HubSettings, setup: Setup, parts: Record<string, string>, commits: Map<string, string>): string {
  const key = createHash('sha256').update(Object.entries(parts).map(([k, r]) => `${k}=${r}@${commits.get(r)}`).join('\n')).digest('hex').slice(0, 12);
  return join(s.sfcCacheDir, 'sets', `${setup.id}-saelens-${key}`);
}

async function fetchAnnotations(s: HubSettings, setup: Setup, source: true | string, opts: FetchOptions, log: RequestLog, notes: string[]): Promise<string | null> {
  if (typeof source === 'string' && !/^https?:\/\//.test(source)) {
    if (!existsSync(source)) throw new Error(`annotations ${source}: no such file`);
    return source;
  }
  const url = source === true ? setup.annotations.url : source;
  const dest = join(s.sfcCacheDir, 'annotations', setup.id, createHash('sha256').update(url).digest('hex').slice(0, 12), setup.annotations.file);
  if (existsSync(dest) && !opts.refresh) return dest;
  if (s.offline) {
    notes.push(`HF_HUB_OFFLINE is set: the annotation file (${url}) was not downloaded`);
    return null;
  }
  mkdirSync(join(dest, '..'), { recursive: true });
  await downloadVerified(s, url, `${dest}.incomplete`, { size: null, sha256: null, gitOid: null }, `annotations ${url}`, { signal: opts.signal, log, repo: null });
  renameSync(`${dest}.incomplete`, dest);
  return dest;
}

/**
 * The folders of a setup fetched before, found in the cache without a request (so `--model
 * pythia-70m-deduped --saes pythia-70m-deduped:saelens` work after `sfc fetch`); an error says
 * what is missing and how to get it.
 */
export function cachedSetupFolders(s: HubSettings, setupId: string, sourceId?: string): { modelDir: string; saesDir: string } {
  const setup = getSetup(setupId);
  const source = getSaeSource(setup, sourceId ?? setup.defaultSaeSource);
  const fetchHint = `run \`sfc fetch ${setup.id}${source.id === setup.defaultSaeSource ? '' : ` --saes ${source.id}`}\` first`;
  const snapshot = (spec: RepoSpec): string => {
    const commit = readRef(s.cacheDir, spec.repo, spec.revision ?? 'main');
    if (!commit || spec.files.some((f) => !f.optional && !cachedFile(s.cacheDir, spec.repo, commit, f.path))) {
      throw new Error(`${setup.id}: ${spec.repo} is not in the cache ${s.cacheDir}; ${fetchHint}`);
    }
    return snapshotDir(s.cacheDir, spec.repo, commit);
  };
  const modelDir = snapshot(setup.model);
  let saesDir: string | null;
  if (source.assemble.kind === 'zip') {
    const { repo, file } = source.assemble;
    const commit = readRef(s.cacheDir, repo, 'main');
    const dir = commit ? unpackedDir(s, repo, commit, file) : null;
    saesDir = dir && existsSync(dir) ? findDictionaryRoot(dir) : null;
  } else {
    const parts = source.assemble.parts;
    const commits = new Map(Object.values(parts).map((repo) => [repo, readRef(s.cacheDir, repo, 'main') ?? '']));
    saesDir = assembledDir(s, setup, parts, commits);
    if (!existsSync(saesDir) || source.repos.some((r) => !commits.get(r.repo))) saesDir = null;
    else for (const spec of source.repos) snapshot(spec);
  }
  if (!saesDir) throw new Error(`${setup.id}: the ${source.id} dictionaries are not in the cache (${s.sfcCacheDir}); ${fetchHint}`);
  return { modelDir, saesDir };
}

export async function fetchSetup(setupId: string, opts: FetchOptions): Promise<FetchResult> {
  const t0 = performance.now();
  const s = opts.settings;
  const setup = getSetup(setupId);
  const source = getSaeSource(setup, opts.saes ?? setup.defaultSaeSource);
  if (opts.verify && s.offline) throw new HubError('--verify compares cached files with the hashes the Hub publishes, so it needs the network; HF_HUB_OFFLINE is set');
  const log: RequestLog = { count: 0 };
  const notes: string[] = [];
  const progress = (phase: FetchProgress['phase'], message: string, file: string | null = null): void =>
    opts.onProgress?.({ phase, file, doneBytes: 0, totalBytes: 0, bytesPerSecond: null, etaSeconds: null, message });

  // A dictionary_learning zip unpacked before is enough by itself: the zip may since have been
  // cleared from the hub cache to save space.
  const zip = source.assemble.kind === 'zip' ? source.assemble : null;
  let unpackedRoot: string | null = null;
  if (zip) {
    const spec = source.repos.find((r) => r.repo === zip.repo)!;
    const commit = readRef(s.cacheDir, zip.repo, spec.revision ?? 'main');
    const dir = commit && unpackedDir(s, zip.repo, commit, zip.file);
    if (dir && existsSync(dir) && (s.offline || (!opts.refresh && !opts.verify))) unpackedRoot = findDictionaryRoot(dir);
  }

  progress('plan', s.offline ? 'looking in the cache (HF_HUB_OFFLINE)' : 'looking in the cache and on the Hub');
  const specs = [{ ...setup.model, revision: opts.revision ?? setup.model.revision }, ...(unpackedRoot ? [] : source.repos)];
  const plans: RepoPlan[] = [];
  for (const spec of specs) {
    checkCancelled(opts.signal);
    const plan = await planRepo(s, spec, spec.revision ?? 'main', opts, log);
    // --refresh found the same commit whose zip is unpacked already: the zip itself is not needed.
    if (zip && spec.repo === zip.repo && !opts.verify && existsSync(unpackedDir(s, zip.repo, plan.commit, zip.file))) plan.missing = [];
    if (opts.verify) await verifyCached(s, plan, opts, notes);
    plans.push(plan);
  }
  const missing = plans.flatMap((p) => p.missing);
  const needBytes = missing.reduce((a, f) => a + f.remote.size, 0);
  const unpacking = !!zip && !unpackedRoot;
  const free = freeBytes(s.cacheDir);
  if (free !== null && needBytes > 0 && needBytes * 1.02 > free) {
    throw new HubError(`not enough disk space in ${s.cacheDir}: the download needs ${fmtBytes(needBytes)}${unpacking ? ` (and about as much again to unpack the dictionaries in ${s.sfcCacheDir})` : ''}, ${fmtBytes(free)} is free. Free some space, or point HF_HUB_CACHE elsewhere.`);
  }
  const downloadedBytes = missing.length ? await downloadAll(s, missing, opts, log) : 0;

  const commits = new Map(plans.map((p) => [p.spec.repo, p.commit]));
  const modelPlan = plans[0]!;
  const modelDir = snapshotDir(s.cacheDir, modelPlan.spec.repo, modelPlan.commit);

  // Assemble the SAE folder the loaders read.
  let saesDir: string;
  if (zip) {
    if (!unpackedRoot) {
      const commit = commits.get(zip.repo)!;
      const dest = unpackedDir(s, zip.repo, commit, zip.file);
      const zipFetched = missing.some((f) => f.repo === zip.repo);
      // An unpack is redone only when the zip is new or was checked (--verify); a partial one never exists under `dest`.
      if (!existsSync(dest) || zipFetched || opts.verify) {
        const zipPath = cachedFile(s.cacheDir, zip.repo, commit, zip.file)!;
        rmSync(dest, { recursive: true, force: true });
        mkdirSync(join(dest, '..'), { recursive: true });
        const freeSfc = freeBytes(s.sfcCacheDir);
        const zipSize = statSizeOf(zipPath);
        if (freeSfc !== null && zipSize * 1.05 > freeSfc) throw new HubError(`not enough disk space in ${s.sfcCacheDir} to unpack ${zip.file} (about ${fmtBytes(zipSize)} needed, ${fmtBytes(freeSfc)} free); set SFC_HUB_DIR to a folder with room`);
        await unzipTo(zipPath, dest, {
          signal: opts.signal,
          onProgress: (done, total, entry) =>
            opts.onProgress?.({ phase: 'unpack', file: entry, doneBytes: done, totalBytes: total, bytesPerSecond: null, etaSeconds: null, message: `unpacking ${zip.file}: ${entry}` }),
        });
      }
      unpackedRoot = findDictionaryRoot(dest);
      if (!unpackedRoot) throw new HubError(`${zip.repo}/${zip.file}: the archive holds no dictionary_learning tree (embed/, attn_out_layer0/, … with <run>/ae.pt); unpacked in ${dest}`);
    }
    saesDir = unpackedRoot;
  } else {
    const parts = (source.assemble as { parts: Record<string, string> }).parts;
    saesDir = assembledDir(s, setup, parts, commits);
    for (const [name, repo] of Object.entries(parts)) linkFolder(snapshotDir(s.cacheDir, repo, commits.get(repo)!), join(saesDir, name));
  }

  // Headers only: does everything fit together?
  progress('check', 'checking the model and the SAEs (headers only)');
  const model = inspectModel(modelDir);
  if (!model || !model.supported) throw new HubError(`${setup.model.repo}: the fetched model cannot be used: ${model?.problem ?? 'no config.json'}`);
  const sae = inspectSaes(saesDir, { layers: model.layers, width: model.width });
  if (!sae) throw new HubError(`${saesDir}: no SAEs found after the fetch`);
  if (sae.problems.length) throw new HubError(`${setup.id} (${source.id}): the fetched SAEs do not fit the model: ${sae.problems.join('; ')}`);
  notes.push(...sae.notes);
  if (model.layers !== setup.layers || model.width !== setup.width) {
    notes.push(`${setup.model.repo}: ${model.layers} layers of width ${model.width}, where ${setup.id} has ${setup.layers} of width ${setup.width}`);
  }
  const odd = sae.submodules.filter((x) => x.features !== setup.features);
  if (odd.length) notes.push(`dictionary sizes ${[...new Set(odd.map((x) => x.features))].join(', ')} where ${setup.id} has ${setup.features}`);

  const annotationsFile = opts.annotations ? await fetchAnnotations(s, setup, opts.annotations, opts, log, notes) : null;

  const repos: FetchedRepo[] = plans.map((p) => {
    const got = p.missing;
    return {
      repo: p.spec.repo,
      commit: p.commit,
      snapshot: snapshotDir(s.cacheDir, p.spec.repo, p.commit),
      downloaded: got.length,
      downloadedBytes: got.reduce((a, f) => a + f.remote.size, 0),
      fromCache: p.cached ? p.spec.files.filter((f) => cachedFile(s.cacheDir, p.spec.repo, p.commit, f.path)).length : p.present,
    };
  });
  return {
    setup: setup.id,
    saeSource: source.id,
    modelDir,
    saesDir,
    layout: sae.layout,
    repos,
    shapes: sae.submodules.map((x: SaeHeader) => ({ name: x.submodule, features: x.features, kind: x.kind })),
    modelBytes: model.bytesLoaded,
    saeBytes: sae.bytesLoaded,
    annotationsFile,
    downloadedBytes,
    requests: log.count,
    seconds: (performance.now() - t0) / 1000,
    notes,
  };
}

export { fmtBytes };
