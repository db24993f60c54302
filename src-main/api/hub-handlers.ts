/**
 * Handlers of the hub channels (contract.ts, docs/hub.md). The download runs in the compute
 * worker (`hub.fetch` job); registering its result, the cache listing and the links need the
 * store, so they run here.
 */
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { JobRunner } from '../jobs/runner';
import type { Store } from '../store';
import { StoreError } from '../store/common';
import { importFile } from '../store/import';
import { registerModel, registerSaeSet } from '../store/register';
import { cachedFile, clearCache, listCache, readRef } from '../hub/cache';
import { unpackedDir } from '../hub/fetch';
import { inspectPath } from '../hub/inspect';
import { NEURONPEDIA_URL, SETUPS, type Setup } from '../hub/registry';
import { hubSettings, type HubSettings } from '../hub/settings';
import type { ParsedRequest, Response } from './contract';
import type { HubFetchResult } from '../jobs/hub-job';
import type { ModelRecord, SaeSetRecord } from '../store/records';

type HubChannel = 'hub.setups' | 'hub.fetch' | 'hub.inspect' | 'hub.cache.list' | 'hub.cache.clear' | 'hub.links';
interface Ctx {
  signal: AbortSignal;
  progress(fraction: number | null, message: string): void;
}
type HubHandlers = { [C in HubChannel]: (req: ParsedRequest<C>, ctx: Ctx) => Promise<Response<C>> };

/** Settings errors (a malformed HF_ENDPOINT) are the user's to fix. */
function settings(): HubSettings {
  try {
    return hubSettings();
  } catch (e) {
    throw new StoreError('invalid_input', (e as Error).message);
  }
}

function repoComplete(s: HubSettings, spec: Setup['model']): boolean {
  const commit = readRef(s.cacheDir, spec.repo, spec.revision ?? 'main');
  return !!commit && spec.files.every((f) => f.optional || !!cachedFile(s.cacheDir, spec.repo, commit, f.path));
}

/** Whether `item` (a library folder) lies in `dir`, directly or through the links of an assembled SAE set. */
function dependsOn(item: string, dir: string): boolean {
  const inside = (p: string): boolean => p === dir || p.startsWith(dir + sep);
  if (inside(item)) return true;
  try {
    return readdirSync(item).some((e) => {
      const p = join(item, e);
      if (!lstatSync(p).isSymbolicLink()) return false;
      const t = readlinkSync(p);
      return inside(isAbsolute(t) ? t : resolve(item, t));
    });
  } catch {
    return false;
  }
}

/**
 * Puts a fetch's model and SAE set in the library (store/register.ts, with the hashes the worker
 * computed), records the SAE shapes from the headers, tags both with the setup, and imports the
 * annotation file when one came with it. Shared by the API and `sfc fetch`.
 */
export function registerFetched(store: Store, setup: string, r: HubFetchResult): { out: { model: ModelRecord; saeSet: SaeSetRecord }; imported: { imported: number; unchanged: number; skipped: number } | null; notes: string[] } {
  const notes = [...r.notes];
  const out = store.action(() => {
    const model = registerModel(store, r.modelDir, setup, r.modelSha256);
    const set = registerSaeSet(store, r.saesDir, model.id, `${setup} SAEs (${r.saeSource})`, r.saesSha256);
    // Shapes from the headers, so annotations are range-checked from the start (a set
    // registered from a folder learns them at its first discovery).
    if (!set.submodules) store.library.setSaeShapes(set.id, r.shapes);
    // The tag names the setup: it is how hub.links finds the Neuronpedia ids of this set.
    for (const [kind, item] of [['model', model], ['saeSet', set]] as const) {
      if (!item.tags.includes(setup)) store.library.tag(kind, item.id, [...item.tags, setup]);
    }
    return { model: store.library.model(model.id), saeSet: store.library.saeSet(set.id) };
  });
  let imported: { imported: number; unchanged: number; skipped: number } | null = null;
  if (r.annotationsFile) {
    // The model and SAEs are in; a bad annotation file should not undo that.
    try {
      const a = importFile(store, { path: r.annotationsFile }, { saeSetId: out.saeSet.id });
      if (a.kind === 'annotations') {
        imported = { imported: a.imported, unchanged: a.unchanged, skipped: a.skipped.length };
        if (a.skipped.length) notes.push(`${r.annotationsFile}: ${a.skipped.length} lines skipped (${a.skipped.slice(0, 3).map((x) => `line ${x.line}: ${x.reason}`).join('; ')}${a.skipped.length > 3 ? '; …' : ''})`);
      }
    } catch (e) {
      notes.push(`annotations not imported: ${(e as Error).message}`);
    }
  }
  return { out, imported, notes };
}

type LibraryItem = { kind: 'model' | 'saeSet'; id: number; name: string; path: string };

function libraryFolders(store: Store): LibraryItem[] {
  return [
    ...store.library.models().map((m) => ({ kind: 'model' as const, id: m.id, name: m.name, path: m.path })),
    ...store.library.saeSets().filter((x) => x.path).map((x) => ({ kind: 'saeSet' as const, id: x.id, name: x.name, path: x.path! })),
  ];
}

/** The cache listing, with the library items that live in each entry. */
export function cacheListWithUsage(store: Store, s: HubSettings): Response<'hub.cache.list'> {
  const listing = listCache(s);
  const items = libraryFolders(store);
  return {
    ...listing,
    entries: listing.entries.map((e) => ({ ...e, usedBy: items.filter((i) => dependsOn(i.path, e.path)).map(({ kind, id, name }) => ({ kind, id, name })) })),
  };
}

/** Clears cache entries and names the library items that used them. */
export function clearWithWarnings(store: Store, s: HubSettings, ids: readonly string[]): Response<'hub.cache.clear'> {
  const before = listCache(s);
  let removed;
  try {
    removed = clearCache(s, ids).removed;
  } catch (e) {
    throw new StoreError('invalid_input', (e as Error).message);
  }
  const gone = before.entries.filter((e) => removed.some((r) => r.id === e.id));
  const warnings = libraryFolders(store)
    .filter((i) => gone.some((e) => dependsOn(i.path, e.path)))
    .map((i) => `${i.kind === 'model' ? 'model' : 'SAE set'} ${i.id} '${i.name}' used files in what was cleared (${i.path}); fetch it again to use it, or delete it from the library`);
  return { removed, freedBytes: removed.reduce((a, r) => a + r.bytes, 0), warnings };
}

export function hubHandlers(store: Store, runner: Pick<JobRunner, 'run'>): HubHandlers {
  const jobOpts = (ctx: Ctx) => ({ signal: ctx.signal, onProgress: ctx.progress });
  return {
    async 'hub.setups'() {
      const s = settings();
      return {
        setups: Object.values(SETUPS).map((setup) => ({
          id: setup.id,
          title: setup.title,
          model: { repo: setup.model.repo, approxBytes: setup.approxModelBytes, cached: repoComplete(s, setup.model) },
          saeSources: Object.values(setup.saeSources).map((src) => {
            const zip = src.assemble.kind === 'zip' ? src.assemble : null;
            const commit = zip && readRef(s.cacheDir, zip.repo, 'main');
            const unpacked = !!zip && !!commit && existsSync(unpackedDir(s, zip.repo, commit, zip.file));
            return { id: src.id, title: src.title, layout: src.layout, repos: src.repos.map((r) => r.repo), approxBytes: src.approxBytes, cached: unpacked || src.repos.every((r) => repoComplete(s, r)) };
          }),
          defaultSaeSource: setup.defaultSaeSource,
          neuronpedia: setup.neuronpedia,
          annotationsUrl: setup.annotations.url,
        })),
        endpoint: s.endpoint,
        offline: s.offline,
        hubCache: s.cacheDir,
        sfcCache: s.sfcCacheDir,
      };
    },

    async 'hub.fetch'({ setup, saes, revision, refresh, verify, annotations }, ctx) {
      if (!Object.hasOwn(SETUPS, setup)) throw new StoreError('invalid_input', `unknown setup '${setup}' (known: ${Object.keys(SETUPS).join(', ')})`);
      const r = await runner.run('hub.fetch', { setup, saes, revision: revision ?? null, refresh, verify, offline: false, annotations }, jobOpts(ctx));
      ctx.progress(null, 'adding the model and the SAEs to the library');
      const { out, imported, notes } = registerFetched(store, setup, r);
      return {
        ...out,
        annotations: imported,
        saeSource: r.saeSource,
        layout: r.layout,
        modelDir: r.modelDir,
        saesDir: r.saesDir,
        repos: r.repos,
        downloadedBytes: r.downloadedBytes,
        requests: r.requests,
        modelBytes: r.modelBytes,
        saeBytes: r.saeBytes,
        seconds: r.seconds,
        notes,
      };
    },

    async 'hub.inspect'({ path }) {
      try {
        return inspectPath(path);
      } catch (e) {
        throw new StoreError('invalid_input', (e as Error).message);
      }
    },

    async 'hub.cache.list'() {
      return cacheListWithUsage(store, settings());
    },

    async 'hub.cache.clear'({ ids }) {
      return clearWithWarnings(store, settings(), ids);
    },

    async 'hub.links'({ saeSetId }) {
      const set = store.library.saeSet(saeSetId);
      const setup = set.tags.find((t) => Object.hasOwn(SETUPS, t)) ?? null;
      if (!setup) return { setup: null, neuronpedia: null };
      const np = SETUPS[setup]!.neuronpedia;
      return { setup, neuronpedia: { ...np, featureUrl: `${NEURONPEDIA_URL}/${np.modelId}/{saeId}/{feature}` } };
    },
  };
}
