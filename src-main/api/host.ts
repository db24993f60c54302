/**
 * Everything a process needs to host the API (the Electron main process, `sfc serve`): the
 * store (with the demo registered on first start), the compute worker and the handlers.
 */
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { JobRunner } from '../jobs/runner';
import { openStore, type Store } from '../store';
import { ensureDemo } from '../store/register';
import { DEMO_DIR } from '../defaults';
import { createApi, type Api, type ApiHost } from './handlers';

export interface HostOptions {
  dbPath: string;
  model: string | null;
  app: ApiHost['app'];
  /** Answer debug.* channels (tests only): SFC_TEST_CHANNELS=1. */
  testChannels?: boolean;
}

export interface ApiHostProcess {
  api: Api;
  store: Store;
  runner: JobRunner;
  close(): Promise<void>;
}

export function startApiHost(o: HostOptions): ApiHostProcess {
  const store = openStore(o.dbPath);
  try {
    ensureDemo(store, DEMO_DIR);
  } catch (e) {
    store.close();
    throw e;
  }
  const runner = new JobRunner();
  const cacheDir = o.dbPath === ':memory:' ? join(tmpdir(), 'sfc-cache') : join(dirname(o.dbPath), 'cache');
  const api = createApi({
    runner,
    store,
    cacheDir,
    settings: { model: o.model, testChannels: o.testChannels ?? process.env.SFC_TEST_CHANNELS === '1' },
    app: o.app,
  });
  return {
    api,
    store,
    runner,
    async close() {
      await runner.close();
      store.close();
    },
  };
}
