/** The store as the CLI opens it: `--db FILE`, else SFC_DB, else the desktop app's own file. */
import { openStore, defaultDbPath, type Store } from '../store';
import { ensureDemo } from '../store/register';
import { DEMO_DIR } from '../defaults';

export const DB_OPTION = { db: { type: 'string' } } as const;

export function openCliStore(values: Record<string, unknown>): Store {
  const store = openStore((values.db as string | undefined) ?? defaultDbPath());
  try {
    ensureDemo(store, DEMO_DIR);
  } catch (e) {
    store.close();
    throw e;
  }
  return store;
}

/** Runs `fn` with the store open, and always closes it. */
export async function withStore<T>(values: Record<string, unknown>, fn: (store: Store) => T | Promise<T>): Promise<T> {
  const store = openCliStore(values);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/** A positive integer id from the command line, or a UsageError naming the argument. */
export function parseId(raw: string | undefined, what: string): number {
  const n = Number(raw);
  if (!raw || !Number.isInteger(n) || n <= 0) throw new Error(`${what}: expected an id (a positive integer), got '${raw ?? ''}'`);
  return n;
}
