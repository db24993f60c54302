/**
 * The workbench's store: one SQLite file (better-sqlite3, WAL) holding the library, circuits
 * with their versions, annotations and results. Opened by the process that hosts the API (the
 * Electron main process or `sfc serve`) and by the CLI; see docs/store.md.
 */
import { Annotations } from './annotations';
import { Circuits } from './circuits';
import { inTransaction } from './common';
import { openDatabase, type Db, type OpenOptions } from './database';
import { Library } from './library';
import { Results } from './results';
import { ShiftStore } from './shift';

export class Store {
  readonly library: Library;
  readonly circuits: Circuits;
  readonly annotations: Annotations;
  readonly results: Results;
  /** Probes, judgements and SHIFT runs (docs/shift.md). */
  readonly shift: ShiftStore;

  constructor(
    readonly db: Db,
    readonly path: string,
  ) {
    this.library = new Library(db);
    this.circuits = new Circuits(db);
    this.annotations = new Annotations(db);
    this.results = new Results(db);
    this.shift = new ShiftStore(db);
  }

  /** One user action = one transaction: all of `fn`'s writes land together or not at all. */
  action<T>(fn: () => T): T {
    return inTransaction(this.db, fn);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function openStore(path: string, opts: OpenOptions = {}): Store {
  return new Store(openDatabase(path, opts), path);
}

export { StoreError } from './common';
export { defaultDbPath, userDataDir } from './database';
export type { StoredCircuit } from './circuits';
