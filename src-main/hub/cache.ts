/**
 * The Hugging Face hub cache, laid out exactly as Python's huggingface_hub lays it out, so either
 * tool uses what the other downloaded (docs/hub.md):
 *
 *   <cache>/models--<owner>--<name>/
 *     blobs/<etag>                  file contents; etag = sha256 for LFS files, git blob sha1 otherwise
 *     blobs/<etag>.incomplete       a download in progress (resumed from its length)
 *     refs/<revision>               the commit a branch or tag resolved to (no newline)
 *     snapshots/<commit>/<path>     relative symlink to ../../blobs/<etag> (a copy where symlinks fail)
 *
 * Our own derived folders (unpacked zips, assembled SAE sets) are kept under the app's cache
 * (settings.sfcCacheDir), listed and cleared alongside.
 */
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { getRepoFolderName } from '@huggingface/hub';
import { writeFileAtomic } from '../util/atomic-write';
import type { HubSettings } from './settings';

export const COMMIT = /^[0-9a-f]{40}$/;
const ETAG = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/** `owner/name` → `models--owner--name` (the library's own rule, the same as Python's). */
export const repoFolderName = (repo: string): string => getRepoFolderName({ type: 'model', name: repo });

/** `models--owner--name` → `owner/name`, or null when the folder is not a model repository. */
export function repoFromFolder(folder: string): string | null {
  const m = /^models--(.+)$/.exec(folder);
  return m ? m[1].split('--').join('/') : null;
}

export function checkRepoId(repo: string): void {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo) || repo.includes('--') || repo.includes('..')) throw new Error(`'${repo}' is not a Hub repository id (expected owner/name)`);
}

/** A path inside a repository, as the Hub names it; refuses anything that could leave the snapshot. */
export function checkRepoPath(path: string, where: string): void {
  const parts = path.split('/');
  if (!path || path.startsWith('/') || path.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`${where}: unsafe file path '${path}' in the repository`);
  }
}

export function checkRevision(revision: string): void {
  if (!revision || revision.split('/').some((p) => p === '' || p === '.' || p === '..') || /[\\\0]/.test(revision)) throw new Error(`'${revision}' is not a valid revision`);
}

export const repoDir = (cacheDir: string, repo: string): string => join(cacheDir, repoFolderName(repo));
export const snapshotDir = (cacheDir: string, repo: string, commit: string): string => join(repoDir(cacheDir, repo), 'snapshots', commit);

export function blobPath(cacheDir: string, repo: string, etag: string): string {
  if (!ETAG.test(etag)) throw new Error(`${repo}: unexpected blob id '${etag}' from the Hub`);
  return join(repoDir(cacheDir, repo), 'blobs', etag);
}

/** The commit `revision` stands for in the cache (a commit stands for itself), or null. */
export function readRef(cacheDir: string, repo: string, revision: string): string | null {
  if (COMMIT.test(revision)) return revision;
  checkRevision(revision);
  try {
    const c = readFileSync(join(repoDir(cacheDir, repo), 'refs', ...revision.split('/')), 'utf8').trim();
    return COMMIT.test(c) ? c : null;
  } catch {
    return null;
  }
}

/** Records revision → commit, as huggingface_hub does (only when it changed, so a read-only cache still works). */
export function writeRef(cacheDir: string, repo: string, revision: string, commit: string): void {
  if (revision === commit || readRef(cacheDir, repo, revision) === commit) return;
  const p = join(repoDir(cacheDir, repo), 'refs', ...revision.split('/'));
  mkdirSync(dirname(p), { recursive: true });
  writeFileAtomic(p, commit);
}

/** The snapshot path of `path` if it is there (following the symlink to an existing blob), else null. */
export function cachedFile(cacheDir: string, repo: string, commit: string, path: string): string | null {
  checkRepoPath(path, repo);
  const p = join(snapshotDir(cacheDir, repo, commit), ...path.split('/'));
  try {
    return statSync(p).isFile() ? p : null;
  } catch {
    return null;
  }
}

let symlinksWork: boolean | null = null;

/**
 * Points snapshots/<commit>/<path> at blobs/<etag> with a relative symlink (huggingface_hub's
 * layout). Where symlinks are not allowed (Windows without developer mode) the blob is copied,
 * as huggingface_hub does.
 */
export function linkSnapshotFile(cacheDir: string, repo: string, commit: string, path: string, etag: string): string {
  checkRepoPath(path, repo);
  const blob = blobPath(cacheDir, repo, etag);
  const pointer = join(snapshotDir(cacheDir, repo, commit), ...path.split('/'));
  mkdirSync(dirname(pointer), { recursive: true });
  rmSync(pointer, { force: true });
  if (symlinksWork !== false) {
    try {
      symlinkSync(relative(dirname(pointer), blob), pointer);
      symlinksWork = true;
      return pointer;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOTSUP' && code !== 'EINVAL') throw e;
      symlinksWork = false;
    }
  }
  const tmp = `${pointer}.tmp-${process.pid}`;
  copyFileSync(blob, tmp);
  renameSync(tmp, pointer);
  return pointer;
}

/** A folder link (a junction on Windows, which needs no privileges); replaces what is there. */
export function linkFolder(target: string, at: string): void {
  mkdirSync(dirname(at), { recursive: true });
  try {
    if (lstatSync(at).isSymbolicLink() && readlinkSync(at) === target) return;
    rmSync(at, { recursive: true, force: true });
  } catch {
    /* not there */
  }
  symlinkSync(target, at, process.platform === 'win32' ? 'junction' : 'dir');
}

// ---- listing and clearing ------------------------------------------------------------------

export interface CacheEntry {
  /** Stable id for clearing: `hub:<models--owner--name>`, `sfc:unpacked/<folder>`, `sfc:sets/<folder>`. */
  id: string;
  kind: 'hub-repo' | 'unpacked' | 'assembled';
  /** The Hub repository it holds or was made from, when known. */
  repo: string | null;
  path: string;
  /** Bytes on disk (symlinks count nothing; each blob once). */
  bytes: number;
  files: number;
  /** Bytes of interrupted downloads (`*.incomplete`) that a new fetch resumes from. */
  incompleteBytes: number;
  /** Cached commits and the branches or tags that point at them. */
  revisions: { commit: string; refs: string[] }[];
  modifiedAt: string | null;
}

export interface CacheListing {
  hubCache: string;
  sfcCache: string;
  entries: CacheEntry[];
  totalBytes: number;
  /** Folders that are not in the expected layout (listed, never touched). */
  warnings: string[];
}

function du(path: string): { bytes: number; files: number; incomplete: number; mtime: number } {
  let bytes = 0;
  let files = 0;
  let incomplete = 0;
  let mtime = 0;
  const walk = (p: string): void => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) walk(join(p, e));
      return;
    }
    bytes += st.size;
    files++;
    mtime = Math.max(mtime, st.mtimeMs);
    if (p.endsWith('.incomplete')) incomplete += st.size;
  };
  walk(path);
  return { bytes, files, incomplete, mtime };
}

function refsOf(dir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (p: string, name: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e), name ? `${name}/${e}` : e);
    else {
      const c = readFileSync(p, 'utf8').trim();
      out.set(c, [...(out.get(c) ?? []), name]);
    }
  };
  walk(join(dir, 'refs'), '');
  return out;
}

const subdirs = (dir: string): string[] => {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => e.name).sort();
  } catch {
    return [];
  }
};

export function listCache(s: Pick<HubSettings, 'cacheDir' | 'sfcCacheDir'>): CacheListing {
  const entries: CacheEntry[] = [];
  const warnings: string[] = [];
  for (const name of subdirs(s.cacheDir)) {
    if (name.startsWith('.')) continue; // .locks and the like belong to huggingface_hub
    const path = join(s.cacheDir, name);
    if (!/^(models|datasets|spaces)--/.test(name) || !existsSync(join(path, 'snapshots'))) {
      warnings.push(`${path}: not a hub cache repository folder (left alone)`);
      continue;
    }
    const size = du(path);
    const refs = refsOf(path);
    entries.push({
      id: `hub:${name}`,
      kind: 'hub-repo',
      repo: repoFromFolder(name) ?? name,
      path,
      bytes: size.bytes,
      files: size.files,
      incompleteBytes: size.incomplete,
      revisions: subdirs(join(path, 'snapshots')).map((commit) => ({ commit, refs: refs.get(commit) ?? [] })),
      modifiedAt: size.mtime ? new Date(size.mtime).toISOString() : null,
    });
  }
  for (const [folder, kind] of [['unpacked', 'unpacked'], ['sets', 'assembled']] as const) {
    for (const name of subdirs(join(s.sfcCacheDir, folder))) {
      const path = join(s.sfcCacheDir, folder, name);
      const size = du(path);
      entries.push({
        id: `sfc:${folder}/${name}`,
        kind,
        repo: kind === 'unpacked' ? repoFromFolder(name) : null,
        path,
        bytes: size.bytes,
        files: size.files,
        incompleteBytes: 0,
        revisions: kind === 'unpacked' ? subdirs(path).filter((c) => COMMIT.test(c)).map((commit) => ({ commit, refs: [] })) : [],
        modifiedAt: size.mtime ? new Date(size.mtime).toISOString() : null,
      });
    }
  }
  return { hubCache: s.cacheDir, sfcCache: s.sfcCacheDir, entries, totalBytes: entries.reduce((a, e) => a + e.bytes, 0), warnings };
}

/**
 * Deletes cache entries by id (ids from listCache only, so nothing outside the two caches can be
 * named). Returns what was removed; an unknown id is an error naming the known ones.
 */
export function clearCache(s: Pick<HubSettings, 'cacheDir' | 'sfcCacheDir'>, ids: readonly string[]): { removed: { id: string; path: string; bytes: number }[] } {
  const listing = listCache(s);
  const byId = new Map(listing.entries.map((e) => [e.id, e]));
  const unknown = ids.filter((id) => !byId.has(id));
  if (unknown.length) {
    throw new Error(`not in the cache: ${unknown.join(', ')} (cached: ${listing.entries.map((e) => e.id).join(', ') || 'nothing'})`);
  }
  const removed: { id: string; path: string; bytes: number }[] = [];
  for (const id of new Set(ids)) {
    const e = byId.get(id)!;
    // Rename first, then delete: a crash midway leaves no half-deleted folder under the real name.
    const doomed = `${e.path}.deleting-${process.pid}`;
    renameSync(e.path, doomed);
    rmSync(doomed, { recursive: true, force: true });
    if (e.kind === 'hub-repo') rmSync(join(s.cacheDir, '.locks', e.path.split(sep).pop()!), { recursive: true, force: true });
    removed.push({ id, path: e.path, bytes: e.bytes });
  }
  return { removed };
}

/** Removes a file if present (ignoring a missing one). */
export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
