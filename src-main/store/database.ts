/**
 * Opening the store's SQLite file: where it lives, the pragmas every connection needs, and the
 * migrations. The CLI and the app may write at once, so WAL and a busy timeout are not optional.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { MIGRATIONS } from './schema';

export type Db = Database.Database;

/** The folder Electron's `app.getPath('userData')` gives this app (its name is set in app/main.ts). */
export const APP_DIR_NAME = 'sfc-workbench';

export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_DIR_NAME);
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), APP_DIR_NAME);
}

/** `--db FILE`, else SFC_DB, else `<userData>/sfc.db` (the same file the desktop app opens). */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SFC_DB || join(userDataDir(env), 'sfc.db');
}

export interface OpenOptions {
  /** Apply only the first N migrations (tests of the upgrade path). */
  migrateTo?: number;
  readonly?: boolean;
}

export function openDatabase(path: string, opts: OpenOptions = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (e) {
    throw new Error(`store ${path}: cannot open (${(e as Error).message})`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // with WAL: durable at each checkpoint, never corrupt
    db.pragma('foreign_keys = ON');
    if (!opts.readonly) migrate(db, path, opts.migrateTo ?? MIGRATIONS.length);
    return db;
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_NOTADB') throw new Error(`store ${path}: not an SQLite database`);
    throw e;
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, path: string, upTo: number): void {
  const have = schemaVersion(db);
  if (have > MIGRATIONS.length) {
    throw new Error(`store ${path}: schema version ${have} is newer than this app knows (${MIGRATIONS.length}); update the app`);
  }
  for (let v = have; v < upTo; v++) {
    // IMMEDIATE: a second process opening the same file waits instead of migrating twice.
    db.transaction(() => {
      if (schemaVersion(db) !== v) return; // someone else applied it while we waited
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
