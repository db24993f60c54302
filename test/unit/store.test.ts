/**
 * The store without a transport: the circuit codec against the JSON it replaces, versions and
 * the rules for deleting them, annotations with their history, and the schema migrations.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, StoreError, type Store } from '../../src-main/store';
import { openDatabase, schemaVersion } from '../../src-main/store/database';
import { MIGRATIONS } from '../../src-main/store/schema';
import { decodeEdges, decodeNodes, encodeEdges, encodeNodes, parseNodeId } from '../../src-main/store/circuit-codec';
import { applyEdit } from '../../src-main/store/circuits';
import { SUBMODULES, syntheticCircuit } from '../helpers/store-fixtures';

const tmpDb = (): string => join(mkdtempSync(join(tmpdir(), 'sfc-store-')), 'sfc.db');

function withParents(store: Store): { modelId: number; saeSetId: number; datasetId: number } {
  const m = store.library.addModel({ name: 'm', path: '/m', sha256: 'a'.repeat(64), architecture: 'GPTNeoXForCausalLM', config: { hidden_size: 128, num_hidden_layers: 3 } });
  const s = store.library.addSaeSet({ name: 's', path: '/s', sha256: 'b'.repeat(64), layout: 'dictionary_learning', modelId: m.id });
  const d = store.library.addDataset({ name: 'd', kind: 'agreement', format: 'jsonl', source: null, content: '{}\n', examples: 1 });
  return { modelId: m.id, saeSetId: s.id, datasetId: d.id };
}

describe('circuit codec', () => {
  it('round-trips nodes and edges exactly, position-resolved or not', () => {
    for (const positions of [null, 7]) {
      const c = syntheticCircuit({ nodes: 500, edges: 3000, positions, features: 32768 });
      const nodes = decodeNodes(encodeNodes(c.nodes, SUBMODULES), SUBMODULES);
      const edges = decodeEdges(encodeEdges(c.edges!, SUBMODULES), SUBMODULES);
      // Equal to the JSON round trip the codec replaces (float64 effects, ids rebuilt from keys).
      expect(nodes).toEqual(JSON.parse(JSON.stringify(c.nodes)));
      expect(edges).toEqual(JSON.parse(JSON.stringify(c.edges)));
    }
  });

  it('parses node ids as discovery writes them, and refuses others', () => {
    expect(parseNodeId('resid_2/31@4')).toEqual({ submodule: 'resid_2', feature: 31, position: 4 });
    expect(parseNodeId('embed/error')).toEqual({ submodule: 'embed', feature: 'error' });
    expect(parseNodeId('y')).toBeNull();
    expect(() => parseNodeId('resid_2')).toThrow(/malformed node id 'resid_2'/);
    expect(() => encodeNodes([{ id: 'x/1', submodule: 'x', feature: 1, effect: 0 }], SUBMODULES)).toThrow(/unknown submodule 'x'/);
  });

  it('refuses a truncated blob instead of reading past it', () => {
    const c = syntheticCircuit({ nodes: 10, edges: 10 });
    const blob = encodeNodes(c.nodes, SUBMODULES);
    expect(() => decodeNodes(blob.subarray(0, blob.length - 8), SUBMODULES)).toThrow(/truncated/);
  });
});

describe('circuits and versions', () => {
  it('saves, loads and edits into versions without touching the parent', () => {
    const store = openStore(tmpDb());
    const refs = withParents(store);
    const c = syntheticCircuit({ nodes: 200, edges: 800 });
    const root = store.circuits.save({ circuit: c, name: 'agreement', ...refs });
    expect(store.circuits.get(root.id)).toEqual(JSON.parse(JSON.stringify(c)));

    const drop = c.nodes.slice(0, 20).map((n) => n.id);
    const v2 = store.circuits.edit(root.id, { op: 'prune', nodes: drop }, 'pruned');
    const got = store.circuits.get(v2.id);
    const dropped = new Set(drop);
    // Against a plain filter of the original: no dropped node, no edge touching one.
    expect(got.nodes).toEqual(JSON.parse(JSON.stringify(c.nodes.filter((n) => !dropped.has(n.id)))));
    expect(got.edges).toEqual(JSON.parse(JSON.stringify(c.edges!.filter((e) => !dropped.has(e.source) && !dropped.has(e.target)))));
    expect(store.circuits.get(root.id).nodes).toHaveLength(200); // the parent is untouched
    expect(v2).toMatchObject({ parentId: root.id, rootId: root.id, name: 'agreement', versionLabel: 'pruned', edit: { op: 'prune' } });

    const keep = got.nodes.slice(0, 10).map((n) => n.id);
    const v3 = store.circuits.edit(v2.id, { op: 'keepOnly', nodes: keep });
    expect(store.circuits.get(v3.id).nodes.map((n) => n.id)).toEqual(keep);
    const v4 = store.circuits.edit(v3.id, { op: 'relabel', labels: { [keep[0]]: 'subject number' } });
    expect(store.circuits.get(v4.id).labels).toEqual({ [keep[0]]: 'subject number' });
    const v5 = store.circuits.edit(v4.id, { op: 'group', name: 'noun', nodes: keep.slice(0, 3) });
    expect(store.circuits.get(v5.id).groups).toEqual([{ name: 'noun', nodes: keep.slice(0, 3) }]);

    expect(store.circuits.history(v3.id).map((s) => s.id)).toEqual([root.id, v2.id, v3.id, v4.id, v5.id]);
    expect(() => store.circuits.edit(root.id, { op: 'prune', nodes: ['resid_0/999999'] })).toThrow(/not in this circuit: resid_0\/999999/);
    store.close();
  });

  it('deletes a version only when no later version needs it', () => {
    const store = openStore(tmpDb());
    const refs = withParents(store);
    const root = store.circuits.save({ circuit: syntheticCircuit({ nodes: 20, edges: 40 }), name: 'c', ...refs });
    const child = store.circuits.edit(root.id, { op: 'prune', nodes: [store.circuits.get(root.id).nodes[0].id] });
    store.results.add('evaluation', child.id, { n: 1 }, { rows: [] });
    expect(() => store.circuits.delete(root.id)).toThrow(/has 1 later version\(s\) made from it \(2\)/);
    expect(() => store.library.delete('model', refs.modelId)).toThrow(/used by 2 circuit version/);
    store.circuits.delete(child.id);
    expect(store.results.forCircuit('evaluation', child.id)).toEqual([]); // its results went with it
    store.circuits.delete(root.id);
    expect(store.circuits.list()).toEqual([]);
    store.close();
  });

  it('keeps circuit names unique, makes default names free, and finds circuits by name and tag', () => {
    const store = openStore(tmpDb());
    const refs = withParents(store);
    const c = syntheticCircuit({ nodes: 5, edges: 5 });
    const a = store.circuits.save({ circuit: c, name: 'simple ig', ...refs, tags: ['agreement', ' agreement', ''] });
    expect(a.tags).toEqual(['agreement']);
    expect(() => store.circuits.save({ circuit: c, name: 'simple ig', ...refs })).toThrow(StoreError);
    expect(store.circuits.freeName('simple ig')).toBe('simple ig (2)');
    store.circuits.save({ circuit: c, name: 'nounpp ig', ...refs });
    expect(store.circuits.list({ search: 'simple' }).map((s) => s.name)).toEqual(['simple ig']);
    expect(store.circuits.list({ tag: 'agreement' }).map((s) => s.id)).toEqual([a.id]);
    expect(store.circuits.list({ search: '%' })).toEqual([]); // LIKE wildcards are literal
    store.library.rename('circuit', a.id, 'renamed');
    expect(store.circuits.summary(a.id).name).toBe('renamed');
    store.close();
  });
});

describe('edits as pure functions', () => {
  it('keepOnly keeps edges into y from kept nodes and drops the rest', () => {
    const c = syntheticCircuit({ nodes: 50, edges: 300 });
    const keep = new Set(c.nodes.slice(0, 25).map((n) => n.id));
    const out = applyEdit(c, { op: 'keepOnly', nodes: [...keep] });
    for (const e of out.edges!) expect(keep.has(e.source) && (e.target === 'y' || keep.has(e.target))).toBe(true);
    const brute = c.edges!.filter((e) => keep.has(e.source) && (e.target === 'y' || keep.has(e.target)));
    expect(out.edges!.length).toBe(brute.length);
  });
});

describe('annotations', () => {
  it('sets, changes and removes an annotation, keeping every change in the history', () => {
    const store = openStore(tmpDb());
    const key = { submodule: 'resid_2', feature: 31 };
    expect(store.annotations.set('sha', key, 'plural subject', null)).toMatchObject({ text: 'plural subject', feature: 31 });
    expect(store.annotations.set('sha', key, 'plural subject', null)).toMatchObject({ text: 'plural subject' }); // unchanged: no history
    store.annotations.set('sha', key, 'plural nouns', 'seen on nounpp');
    expect(store.annotations.set('sha', key, '  ', null)).toBeNull();
    expect(store.annotations.history('sha', key).map((h) => [h.text, h.notes])).toEqual([
      ['plural subject', null],
      ['plural nouns', 'seen on nounpp'],
      [null, null],
    ]);
    store.annotations.set('sha', { submodule: 'mlp_0', feature: 'error' }, 'the MLP error', null);
    expect(store.annotations.forKeys('sha', [{ submodule: 'mlp_0', feature: 'error' }, key]).map((a) => a.text)).toEqual(['the MLP error']);
    store.close();
  });
});

describe('migrations', () => {
  it('upgrades a database made by the first schema version, keeping its data', () => {
    const path = tmpDb();
    const v1 = openDatabase(path, { migrateTo: 1 });
    expect(schemaVersion(v1)).toBe(1);
    v1.prepare("INSERT INTO annotations (sae_set, submodule, feature, text, notes, updated_at) VALUES ('sha', 'resid_1', '7', 'old label', NULL, '2026-01-01')").run();
    v1.prepare("INSERT INTO models (name, path, sha256, architecture, config, created_at) VALUES ('m', '/m', 'a', 'GPTNeoXForCausalLM', '{}', '2026-01-01')").run();
    expect(() => v1.prepare('SELECT * FROM evaluations').all()).toThrow(/no such table/);
    v1.close();

    const store = openStore(path);
    expect(schemaVersion(store.db)).toBe(MIGRATIONS.length);
    expect(store.library.models().map((m) => m.name)).toEqual(['m']);
    expect(store.annotations.get('sha', { submodule: 'resid_1', feature: 7 })?.text).toBe('old label');
    // The existing label became the first entry of its history.
    expect(store.annotations.history('sha', { submodule: 'resid_1', feature: 7 })).toEqual([{ text: 'old label', notes: null, source: 'before history', changedAt: '2026-01-01' }]);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    store.close();
  });

  it('refuses a database from a newer app, and a file that is not a database', async () => {
    const path = tmpDb();
    const db = openDatabase(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => openStore(path)).toThrow(/schema version \d+ is newer than this app knows/);
    const junk = tmpDb();
    (await import('node:fs')).writeFileSync(junk, 'not a database, just text '.repeat(100));
    expect(() => openStore(junk)).toThrow(/not an SQLite database|file is not a database/);
  });
});
