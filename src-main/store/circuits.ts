/**
 * Circuits and their versions. A saved circuit is a root version; every edit (prune, keep
 * only, group, relabel) makes a new version pointing at its parent, and nothing is ever
 * overwritten. A version can be deleted only when no other version was made from it.
 */
import type { CircuitFile, CircuitNode } from '../circuits/circuit-file';
import type { Db } from './database';
import { StoreError, cleanTags, freeName, json, now, parseTags } from './common';
import { decodeEdges, decodeNodes, encodeEdges, encodeNodes } from './circuit-codec';
import type { CircuitEdit, CircuitSummary } from './records';

/** A stored circuit: the interchange file plus what the workbench adds to it. */
export interface StoredCircuit extends CircuitFile {
  /** Supernodes made with the `group` edit. */
  groups?: { name: string; nodes: string[] }[];
  /** Circuit-local labels from the `relabel` edit (feature annotations are kept separately). */
  labels?: Record<string, string>;
}

export interface SaveCircuit {
  circuit: StoredCircuit;
  name: string;
  modelId: number | null;
  saeSetId: number | null;
  datasetId: number | null;
  tags?: string[];
}

interface CircuitRow {
  id: number;
  name: string;
  version_label: string | null;
  parent_id: number | null;
  root_id: number;
  edit: string | null;
  model_id: number | null;
  sae_set_id: number | null;
  dataset_id: number | null;
  header: string;
  node_count: number;
  edge_count: number | null;
  nodes?: Buffer;
  edges?: Buffer | null;
  tags: string;
  created_at: string;
}

const SUMMARY_COLUMNS = 'id, name, version_label, parent_id, root_id, edit, model_id, sae_set_id, dataset_id, header, node_count, edge_count, tags, created_at';

function summaryOut(r: CircuitRow): CircuitSummary {
  const header = JSON.parse(r.header) as StoredCircuit;
  return {
    id: r.id,
    name: r.name,
    versionLabel: r.version_label,
    parentId: r.parent_id,
    rootId: r.root_id,
    edit: r.edit ? (JSON.parse(r.edit) as CircuitEdit) : null,
    modelId: r.model_id,
    saeSetId: r.sae_set_id,
    datasetId: r.dataset_id,
    parameters: header.parameters as unknown as Record<string, unknown>,
    nodes: r.node_count,
    edges: r.edge_count,
    tags: parseTags(r.tags),
    createdAt: r.created_at,
  };
}

/** Applies an edit to a circuit (pure): the new version's content. */
export function applyEdit(c: StoredCircuit, edit: CircuitEdit): StoredCircuit {
  const known = new Set(c.nodes.map((n) => n.id));
  const check = (ids: readonly string[]): void => {
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length) throw new StoreError('invalid_input', `not in this circuit: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  };
  const keepNodes = (keep: (n: CircuitNode) => boolean): StoredCircuit => {
    const nodes = c.nodes.filter(keep);
    const ids = new Set(nodes.map((n) => n.id));
    const edges = c.edges && c.edges.filter((e) => ids.has(e.source) && (e.target === 'y' || ids.has(e.target)));
    const groups = c.groups?.map((g) => ({ ...g, nodes: g.nodes.filter((id) => ids.has(id)) })).filter((g) => g.nodes.length > 0);
    const labels = c.labels && Object.fromEntries(Object.entries(c.labels).filter(([id]) => ids.has(id)));
    return { ...c, nodes, edges, groups, labels };
  };
  switch (edit.op) {
    case 'prune': {
      check(edit.nodes);
      const drop = new Set(edit.nodes);
      return keepNodes((n) => !drop.has(n.id));
    }
    case 'keepOnly': {
      check(edit.nodes);
      const keep = new Set(edit.nodes);
      return keepNodes((n) => keep.has(n.id));
    }
    case 'group': {
      check(edit.nodes);
      if (c.groups?.some((g) => g.name === edit.name)) throw new StoreError('conflict', `a group named '${edit.name}' already exists`);
      return { ...c, groups: [...(c.groups ?? []), { name: edit.name, nodes: [...new Set(edit.nodes)] }] };
    }
    case 'ungroup': {
      if (!c.groups?.some((g) => g.name === edit.name)) throw new StoreError('not_found', `no group named '${edit.name}'`);
      return { ...c, groups: c.groups.filter((g) => g.name !== edit.name) };
    }
    case 'relabel': {
      check(Object.keys(edit.labels));
      const labels = { ...(c.labels ?? {}) };
      for (const [id, text] of Object.entries(edit.labels)) {
        if (text === null || text.trim() === '') delete labels[id];
        else labels[id] = text.trim();
      }
      return { ...c, labels };
    }
  }
}

export class Circuits {
  constructor(private readonly db: Db) {}

  private nameTaken = (name: string): boolean => !!this.db.prepare('SELECT 1 FROM circuits WHERE name = ? AND parent_id IS NULL').get(name);

  /** A free name for a new circuit: `base`, `base (2)`, … */
  freeName(base: string): string {
    return freeName(this.nameTaken, base);
  }

  /** Saves a new circuit (a root version). Circuit names are unique among circuits. */
  save(s: SaveCircuit): CircuitSummary {
    const name = s.name.trim();
    if (!name) throw new StoreError('invalid_input', 'a circuit needs a name');
    if (this.nameTaken(name)) throw new StoreError('conflict', `a circuit named '${name}' already exists; choose another name`);
    return this.insert(s.circuit, { name, parentId: null, rootId: null, edit: null, modelId: s.modelId, saeSetId: s.saeSetId, datasetId: s.datasetId, tags: cleanTags(s.tags ?? []) });
  }

  /** Makes a new version of `id` by applying `edit`; the parent stays as it was. */
  edit(id: number, edit: CircuitEdit, versionLabel: string | null = null): CircuitSummary {
    const parent = this.row(id, false);
    const next = applyEdit(this.get(id), edit);
    const s = this.insert(next, {
      name: parent.name,
      parentId: id,
      rootId: parent.root_id,
      edit,
      modelId: parent.model_id,
      saeSetId: parent.sae_set_id,
      datasetId: parent.dataset_id,
      tags: parseTags(parent.tags),
    });
    if (versionLabel) this.label(s.id, versionLabel);
    return { ...s, versionLabel };
  }

  private insert(
    c: StoredCircuit,
    m: { name: string; parentId: number | null; rootId: number | null; edit: CircuitEdit | null; modelId: number | null; saeSetId: number | null; datasetId: number | null; tags: string[] },
  ): CircuitSummary {
    const subs = c.submodules.map((s) => s.name);
    const { nodes, edges, ...header } = c;
    const nodeBlob = encodeNodes(nodes, subs);
    const edgeBlob = edges ? encodeEdges(edges, subs) : null;
    const r = this.db
      .prepare(
        `INSERT INTO circuits (name, version_label, parent_id, root_id, edit, model_id, sae_set_id, dataset_id, header, node_count, edge_count, nodes, edges, tags, created_at)
         VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${SUMMARY_COLUMNS}`,
      )
      .get(m.name, m.parentId, m.rootId, m.edit ? json(m.edit) : null, m.modelId, m.saeSetId, m.datasetId, json(header), nodes.length, edges ? edges.length : null, nodeBlob, edgeBlob, json(m.tags), now()) as CircuitRow;
    if (m.rootId === null) {
      this.db.prepare('UPDATE circuits SET root_id = id WHERE id = ?').run(r.id);
      r.root_id = r.id;
    }
    return summaryOut(r);
  }

  private row(id: number, full: boolean): CircuitRow {
    const r = this.db.prepare(`SELECT ${full ? '*' : SUMMARY_COLUMNS} FROM circuits WHERE id = ?`).get(id) as CircuitRow | undefined;
    if (!r) throw new StoreError('not_found', `no circuit with id ${id}`);
    return r;
  }

  summary(id: number): CircuitSummary {
    return summaryOut(this.row(id, false));
  }

  /** The whole circuit (nodes and edges decoded). */
  get(id: number): StoredCircuit {
    const r = this.row(id, true);
    const header = JSON.parse(r.header) as Omit<StoredCircuit, 'nodes' | 'edges'>;
    const subs = header.submodules.map((s) => s.name);
    return { ...header, nodes: decodeNodes(r.nodes!, subs), edges: r.edges ? decodeEdges(r.edges, subs) : null };
  }

  /** Every version, newest first; `search` matches the name, a tag or a version label. */
  list(opts: { search?: string; tag?: string; rootsOnly?: boolean } = {}): CircuitSummary[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.rootsOnly) where.push('parent_id IS NULL');
    if (opts.search) {
      where.push("(name LIKE ? ESCAPE '\\' OR version_label LIKE ? ESCAPE '\\' OR tags LIKE ? ESCAPE '\\')");
      const pat = `%${opts.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      args.push(pat, pat, pat);
    }
    if (opts.tag) {
      where.push('EXISTS (SELECT 1 FROM json_each(circuits.tags) WHERE value = ?)');
      args.push(opts.tag);
    }
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM circuits ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`;
    return (this.db.prepare(sql).all(...args) as CircuitRow[]).map(summaryOut);
  }

  /** All versions of the circuit `id` belongs to, oldest first (parents before children). */
  history(id: number): CircuitSummary[] {
    const root = this.row(id, false).root_id;
    return (this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM circuits WHERE root_id = ? ORDER BY id`).all(root) as CircuitRow[]).map(summaryOut);
  }

  label(id: number, label: string | null): void {
    const v = label?.trim() || null;
    if (this.db.prepare('UPDATE circuits SET version_label = ? WHERE id = ?').run(v, id).changes === 0) throw new StoreError('not_found', `no circuit with id ${id}`);
  }

  /** Deletes one version (with its evaluations and experiments) when no version was made from it. */
  delete(id: number): void {
    this.row(id, false);
    const children = this.db.prepare('SELECT id FROM circuits WHERE parent_id = ?').all(id) as { id: number }[];
    if (children.length) {
      throw new StoreError('conflict', `circuit version ${id} has ${children.length} later version(s) made from it (${children.map((c) => c.id).join(', ')}); delete those first`);
    }
    this.db.prepare('DELETE FROM circuits WHERE id = ?').run(id);
  }
}
