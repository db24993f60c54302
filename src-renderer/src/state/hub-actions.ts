/**
 * The Library's hub controls (docs/hub.md): the known setups and their sizes, a fetch with
 * progress and Cancel, inspecting and registering a folder, and the disk cache. Part of the
 * actions (state/actions.ts): only actions talk to the API.
 */
import type { CallName, JobName, Request, Response } from '../../../src-main/api/contract';
import { fmtBytes, fmtDuration } from '../util/format';
import { startJob } from './history';
import type { HubState, JobView, State } from './types';

/** What actions.ts lends its parts: the store, the API and the job runner. */
export interface ActionParts {
  get(): State;
  set(patch: Partial<State>): void;
  call<C extends CallName>(c: C, r: Request<C>): Promise<Response<C>>;
  runJob<C extends JobName>(slot: null, key: string, channel: C, req: Request<C>, onProgress?: (j: JobView) => void): Promise<Response<C>>;
  cancel(key: string): void;
  refreshLibrary(): Promise<void>;
  message(e: unknown): string;
  cancelled(e: unknown): boolean;
}

export function createHubActions({ get, set, call, runJob, cancel, refreshLibrary, message, cancelled }: ActionParts) {
  const hub = (patch: Partial<HubState>): void => set({ hub: { ...get().hub, ...patch } });

  async function loadSetups(): Promise<void> {
    try {
      hub({ setups: await call('hub.setups', {}), setupsError: null });
    } catch (e) {
      hub({ setupsError: message(e) });
    }
  }

  async function loadCache(): Promise<void> {
    hub({ cache: { ...get().hub.cache, loading: true, error: null } });
    try {
      const listing = await call('hub.cache.list', {});
      hub({ cache: { ...get().hub.cache, loading: false, listing } });
    } catch (e) {
      hub({ cache: { ...get().hub.cache, loading: false, error: message(e) } });
    }
  }

  return {
    loadSetups,
    /** Downloads a known setup (model and its default SAEs) and registers both; only on a click. */
    async fetchSetup(setup: string): Promise<void> {
      if (get().hub.fetchJob) return;
      hub({ fetchJob: startJob(Date.now()), fetchNote: null });
      try {
        const r = await runJob(null, 'hub.fetch', 'hub.fetch', { setup }, (j) => hub({ fetchJob: j }));
        const how = r.requests === 0 ? 'everything came from the cache' : `${fmtBytes(r.downloadedBytes)} downloaded in ${fmtDuration(r.seconds)}`;
        hub({ fetchJob: null, fetchNote: { ok: true, text: `Added “${r.model.name}” and “${r.saeSet.name}” to the library (${how}).${r.notes.length ? ` ${r.notes.join(' ')}` : ''}` } });
        await refreshLibrary();
        void loadSetups();
      } catch (e) {
        hub({ fetchJob: null, fetchNote: { ok: false, text: cancelled(e) ? 'Cancelled. What was downloaded stays in the cache; the next download resumes it.' : `Download failed: ${message(e)}` } });
      }
    },
    cancelFetch: () => cancel('hub.fetch'),
    setInspectPath(path: string) {
      hub({ inspect: { path, loading: false, result: null, error: null, added: null } });
    },
    async inspectFolder(): Promise<void> {
      const path = get().hub.inspect.path.trim();
      if (!path) return;
      hub({ inspect: { path, loading: true, result: null, error: null, added: null } });
      try {
        const result = await call('hub.inspect', { path });
        hub({ inspect: { ...get().hub.inspect, loading: false, result } });
      } catch (e) {
        hub({ inspect: { ...get().hub.inspect, loading: false, error: message(e) } });
      }
    },
    async registerFolder(kind: 'model' | 'saeSet', path: string): Promise<void> {
      try {
        const r = await call('library.register', { kind, path });
        hub({ inspect: { ...get().hub.inspect, added: `Added ${kind === 'model' ? 'model' : 'SAE set'} “${r.name}” to the library.`, error: null } });
        await refreshLibrary();
      } catch (e) {
        hub({ inspect: { ...get().hub.inspect, error: message(e) } });
      }
    },
    loadCache,
    async clearCache(id: string): Promise<void> {
      try {
        const r = await call('hub.cache.clear', { ids: [id] });
        hub({ cache: { ...get().hub.cache, note: `Freed ${fmtBytes(r.freedBytes)}.${r.warnings.length ? ` ${r.warnings.join(' ')}` : ''}` } });
      } catch (e) {
        hub({ cache: { ...get().hub.cache, note: `Not cleared: ${message(e)}` } });
      }
      await loadCache();
      void loadSetups();
    },
  };
}
