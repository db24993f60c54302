/**
 * Models, SAE sets and datasets: what circuits are made from. Models and SAE sets are kept by
 * path and content hash (the hash is their identity: annotations hang off the SAE set's);
 * datasets keep their content, so a job never depends on the file still being where it was.
 */
import { createHash } from 'node:crypto';
import type { Db } from './database';
import { StoreError, cleanTags, freeName, json, now, parseTags } from './common';
import type { DatasetFormat, DatasetKind, DatasetRecord, ModelRecord, SaeSetRecord, SubmoduleShape } from './records';

export type LibraryKind = 'model' | 'saeSet' | 'dataset' | 'circuit';

const TABLE: Record<LibraryKind, string> = { model: 'models', saeSet: 'sae_sets', dataset: 'datasets', circuit: 'circuits' };
const LABEL: Record<LibraryKind, string> = { model: 'model', saeSet: 'SAE set', dataset: 'dataset', circuit: 'circuit' };

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

interface ModelRow {
  id: number;
  name: string;
  path: string;
  sha256: string;
  architecture: string;
  config: string;
  tags: string;
  created_at: string;
}
interface SaeSetRow {
  id: number;
  name: string;
  path: string | null;
  sha256: string;
  layout: string;
  model_id: number | null;
  submodules: string | null;
  tags: string;
  created_at: string;
}
interface DatasetRow {
  id: number;
  name: string;
  kind: DatasetKind;
  format: DatasetFormat;
  source: string | null;
  sha256: string;
  examples: number;
  content?: string;
  tags: string;
  created_at: string;
}

const modelOut = (r: ModelRow): ModelRecord => ({
  id: r.id,
  name: r.name,
  path: r.path,
  sha256: r.sha256,
  architecture: r.architecture,
  config: JSON.parse(r.config) as ModelRecord['config'],
  tags: parseTags(r.tags),
  createdAt: r.created_at,
});
const saeSetOut = (r: SaeSetRow): SaeSetRecord => ({
  id: r.id,
  name: r.name,
  path: r.path,
  sha256: r.sha256,
  layout: r.layout,
  modelId: r.model_id,
  submodules: r.submodules ? (JSON.parse(r.submodules) as SubmoduleShape[]) : null,
  tags: parseTags(r.tags),
  createdAt: r.created_at,
});
const datasetOut = (r: DatasetRow): DatasetRecord => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  format: r.format,
  source: r.source,
  sha256: r.sha256,
  examples: r.examples,
  tags: parseTags(r.tags),
  createdAt: r.created_at,
});

const DATASET_COLUMNS = 'id, name, kind, format, source, sha256, examples, tags, created_at';

export class Library {
  constructor(private readonly db: Db) {}

  // ---- models ----
  addModel(m: { name: string; path: string; sha256: string; architecture: string; config: ModelRecord['config'] }): ModelRecord {
    const existing = this.modelBySha(m.sha256);
    if (existing) return existing;
    const name = freeName((n) => !!this.db.prepare('SELECT 1 FROM models WHERE name = ?').get(n), m.name);
    const r = this.db
      .prepare('INSERT INTO models (name, path, sha256, architecture, config, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *')
      .get(name, m.path, m.sha256, m.architecture, json(m.config), now()) as ModelRow;
    return modelOut(r);
  }
  models(): ModelRecord[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY id').all() as ModelRow[]).map(modelOut);
  }
  model(id: number): ModelRecord {
    const r = this.db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
    if (!r) throw new StoreError('not_found', `no model with id ${id}`);
    return modelOut(r);
  }
  modelBySha(sha: string): ModelRecord | null {
    const r = this.db.prepare('SELECT * FROM models WHERE sha256 = ?').get(sha) as ModelRow | undefined;
    return r ? modelOut(r) : null;
  }

  // ---- SAE sets ----
  addSaeSet(s: { name: string; path: string | null; sha256: string; layout: string; modelId: number | null; submodules?: SubmoduleShape[] | null }): SaeSetRecord {
    const existing = this.saeSetBySha(s.sha256);
    if (existing) return existing;
    const name = freeName((n) => !!this.db.prepare('SELECT 1 FROM sae_sets WHERE name = ?').get(n), s.name);
    const r = this.db
      .prepare('INSERT INTO sae_sets (name, path, sha256, layout, model_id, submodules, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *')
      .get(name, s.path, s.sha256, s.layout, s.modelId, s.submodules ? json(s.submodules) : null, now()) as SaeSetRow;
    return saeSetOut(r);
  }
  saeSets(): SaeSetRecord[] {
    return (this.db.prepare('SELECT * FROM sae_sets ORDER BY id').all() as SaeSetRow[]).map(saeSetOut);
  }
  saeSet(id: number): SaeSetRecord {
    const r = this.db.prepare('SELECT * FROM sae_sets WHERE id = ?').get(id) as SaeSetRow | undefined;
    if (!r) throw new StoreError('not_found', `no SAE set with id ${id}`);
    return saeSetOut(r);
  }
  saeSetBySha(sha: string): SaeSetRecord | null {
    const r = this.db.prepare('SELECT * FROM sae_sets WHERE sha256 = ?').get(sha) as SaeSetRow | undefined;
    return r ? saeSetOut(r) : null;
  }
  /** Widths become known when a discovery loads the set; they never change for one hash. */
  setSaeShapes(id: number, submodules: SubmoduleShape[]): void {
    this.db.prepare('UPDATE sae_sets SET submodules = ? WHERE id = ? AND submodules IS NULL').run(json(submodules), id);
  }

  // ---- datasets ----
  addDataset(d: { name: string; kind: DatasetKind; format: DatasetFormat; source: string | null; content: string; examples: number }): DatasetRecord {
    const sha = sha256(d.content);
    if (this.db.prepare('SELECT 1 FROM datasets WHERE name = ?').get(d.name)) {
      throw new StoreError('conflict', `a dataset named '${d.name}' is already in the library; rename one of them`);
    }
    const r = this.db
      .prepare(`INSERT INTO datasets (name, kind, format, source, sha256, examples, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${DATASET_COLUMNS}`)
      .get(d.name, d.kind, d.format, d.source, sha, d.examples, d.content, now()) as DatasetRow;
    return datasetOut(r);
  }
  datasets(): DatasetRecord[] {
    return (this.db.prepare(`SELECT ${DATASET_COLUMNS} FROM datasets ORDER BY id`).all() as DatasetRow[]).map(datasetOut);
  }
  dataset(id: number): DatasetRecord {
    const r = this.db.prepare(`SELECT ${DATASET_COLUMNS} FROM datasets WHERE id = ?`).get(id) as DatasetRow | undefined;
    if (!r) throw new StoreError('not_found', `no dataset with id ${id}`);
    return datasetOut(r);
  }
  datasetBySha(sha: string): DatasetRecord | null {
    const r = this.db.prepare(`SELECT ${DATASET_COLUMNS} FROM datasets WHERE sha256 = ? ORDER BY id LIMIT 1`).get(sha) as DatasetRow | undefined;
    return r ? datasetOut(r) : null;
  }
  datasetContent(id: number): string {
    const r = this.db.prepare('SELECT content FROM datasets WHERE id = ?').get(id) as { content: string } | undefined;
    if (!r) throw new StoreError('not_found', `no dataset with id ${id}`);
    return r.content;
  }

  // ---- what every kind shares ----
  /** Models, SAE sets and datasets whose name or a tag contains `search` and that carry `tag`. */
  find(opts: { search?: string; tag?: string } = {}): { models: ModelRecord[]; saeSets: SaeSetRecord[]; datasets: DatasetRecord[] } {
    const q = opts.search?.toLowerCase();
    const match = (x: { name: string; tags: string[] }): boolean =>
      (!q || x.name.toLowerCase().includes(q) || x.tags.some((t) => t.toLowerCase().includes(q))) && (!opts.tag || x.tags.includes(opts.tag));
    return { models: this.models().filter(match), saeSets: this.saeSets().filter(match), datasets: this.datasets().filter(match) };
  }

  rename(kind: LibraryKind, id: number, name: string): void {
    const t = TABLE[kind];
    const trimmed = name.trim();
    if (!trimmed) throw new StoreError('invalid_input', 'a name cannot be empty');
    if (kind === 'dataset' && this.db.prepare('SELECT 1 FROM datasets WHERE name = ? AND id != ?').get(trimmed, id)) {
      throw new StoreError('conflict', `a dataset named '${trimmed}' already exists`);
    }
    // A circuit's name belongs to all its versions.
    const sql = kind === 'circuit' ? 'UPDATE circuits SET name = ? WHERE root_id = (SELECT root_id FROM circuits WHERE id = ?)' : `UPDATE ${t} SET name = ? WHERE id = ?`;
    if (this.db.prepare(sql).run(trimmed, id).changes === 0) throw new StoreError('not_found', `no ${LABEL[kind]} with id ${id}`);
  }
  tag(kind: LibraryKind, id: number, tags: readonly string[]): string[] {
    const clean = cleanTags(tags);
    if (this.db.prepare(`UPDATE ${TABLE[kind]} SET tags = ? WHERE id = ?`).run(json(clean), id).changes === 0) {
      throw new StoreError('not_found', `no ${LABEL[kind]} with id ${id}`);
    }
    return clean;
  }
  /** Deletes one item; refuses (and names what needs it) while circuits depend on it. */
  delete(kind: Exclude<LibraryKind, 'circuit'>, id: number): void {
    const column = { model: 'model_id', saeSet: 'sae_set_id', dataset: null }[kind];
    if (column) {
      const n = (this.db.prepare(`SELECT count(*) AS n FROM circuits WHERE ${column} = ?`).get(id) as { n: number }).n;
      if (n > 0) throw new StoreError('conflict', `${LABEL[kind]} ${id} is used by ${n} circuit version(s); delete them first`);
    }
    if (this.db.prepare(`DELETE FROM ${TABLE[kind]} WHERE id = ?`).run(id).changes === 0) {
      throw new StoreError('not_found', `no ${LABEL[kind]} with id ${id}`);
    }
  }
}
