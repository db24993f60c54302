/**
 * The store's schema as numbered migrations. `PRAGMA user_version` holds the number of
 * migrations applied; opening a database applies the missing ones in order, each in its own
 * transaction. Never edit a migration that has shipped: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the library (models, SAE sets, datasets), circuits with versions, current annotations.
  `
  CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    architecture TEXT NOT NULL,
    config TEXT NOT NULL,            -- JSON: hidden_size, layers, vocab, ...
    tags TEXT NOT NULL DEFAULT '[]', -- JSON list of strings
    created_at TEXT NOT NULL
  );
  CREATE TABLE sae_sets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT,                       -- null for the identity (neuron) set
    sha256 TEXT NOT NULL UNIQUE,     -- the SAE set's identity: annotations hang off it
    layout TEXT NOT NULL,            -- dictionary_learning | saelens | identity
    model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
    submodules TEXT,                 -- JSON [{name, features, kind}], once known
    tags TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
  );
  CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,              -- agreement | cluster | generated | demo
    format TEXT NOT NULL,            -- jsonl (paired agreement) | cluster-json
    source TEXT,                     -- where it came from (a path or a file name)
    sha256 TEXT NOT NULL,
    examples INTEGER NOT NULL,
    content TEXT NOT NULL,           -- the file as imported, so jobs never depend on the original
    tags TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
  );
  CREATE TABLE circuits (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version_label TEXT,
    parent_id INTEGER REFERENCES circuits(id) ON DELETE RESTRICT,
    root_id INTEGER,                 -- the first version of this circuit (itself for a root)
    edit TEXT,                       -- JSON: the edit that made this version from its parent
    model_id INTEGER REFERENCES models(id) ON DELETE RESTRICT,
    sae_set_id INTEGER REFERENCES sae_sets(id) ON DELETE RESTRICT,
    dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    header TEXT NOT NULL,            -- JSON: the circuit file without nodes and edges
    node_count INTEGER NOT NULL,
    edge_count INTEGER,              -- null for nodes-only circuits
    nodes BLOB NOT NULL,             -- circuit-codec.ts
    edges BLOB,
    tags TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
  );
  CREATE INDEX circuits_parent ON circuits(parent_id);
  CREATE INDEX circuits_root ON circuits(root_id);
  CREATE TABLE annotations (
    sae_set TEXT NOT NULL,           -- sae_sets.sha256
    submodule TEXT NOT NULL,
    feature TEXT NOT NULL,           -- index as text, or 'error'
    text TEXT NOT NULL,
    notes TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (sae_set, submodule, feature)
  );
  `,
  // 2: the history of annotation edits, and results tied to circuit versions.
  `
  CREATE TABLE annotation_history (
    id INTEGER PRIMARY KEY,
    sae_set TEXT NOT NULL,
    submodule TEXT NOT NULL,
    feature TEXT NOT NULL,
    text TEXT,                       -- null: the annotation was removed
    notes TEXT,
    source TEXT NOT NULL,            -- 'edit' or 'import:<file>'
    changed_at TEXT NOT NULL
  );
  CREATE INDEX annotation_history_key ON annotation_history(sae_set, submodule, feature);
  INSERT INTO annotation_history (sae_set, submodule, feature, text, notes, source, changed_at)
    SELECT sae_set, submodule, feature, text, notes, 'before history', updated_at FROM annotations;
  CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    circuit_id INTEGER NOT NULL REFERENCES circuits(id) ON DELETE CASCADE,
    params TEXT NOT NULL,            -- JSON
    result TEXT NOT NULL,            -- JSON: m(M), m(∅) and the sweep rows
    created_at TEXT NOT NULL
  );
  CREATE INDEX evaluations_circuit ON evaluations(circuit_id);
  CREATE TABLE experiments (
    id INTEGER PRIMARY KEY,
    circuit_id INTEGER NOT NULL REFERENCES circuits(id) ON DELETE CASCADE,
    params TEXT NOT NULL,            -- JSON: nodes, ablation or clamp, dataset
    result TEXT NOT NULL,            -- JSON: metric per example before/after, top token changes
    created_at TEXT NOT NULL
  );
  CREATE INDEX experiments_circuit ON experiments(circuit_id);
  `,
  // 3: SHIFT (docs/shift.md): linear probes, judgements of features (keep/ablate + note, keyed
  // like annotations), and SHIFT runs with their table.
  `
  CREATE TABLE probes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    layer INTEGER NOT NULL,          -- the probe reads resid_<layer>, mean-pooled
    seed INTEGER NOT NULL,
    train_set TEXT NOT NULL,         -- ambiguous | balanced
    label TEXT NOT NULL,             -- profession | gender
    params TEXT NOT NULL,            -- JSON: the training recipe
    weights BLOB NOT NULL,           -- float32 little-endian: D weights, then the bias
    accuracy TEXT NOT NULL,          -- JSON: train accuracy and the test-set scores
    created_at TEXT NOT NULL
  );
  CREATE INDEX probes_model ON probes(model_id);
  CREATE TABLE judgements (
    sae_set TEXT NOT NULL,           -- sae_sets.sha256, as annotations
    submodule TEXT NOT NULL,
    feature TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('keep', 'ablate')),
    note TEXT,
    source TEXT NOT NULL,            -- 'edit', 'import:<file>' or 'demo'
    updated_at TEXT NOT NULL,
    PRIMARY KEY (sae_set, submodule, feature)
  );
  CREATE TABLE shift_runs (
    id INTEGER PRIMARY KEY,
    probe_id INTEGER NOT NULL REFERENCES probes(id) ON DELETE CASCADE,
    sae_set_id INTEGER NOT NULL REFERENCES sae_sets(id) ON DELETE CASCADE,
    circuit_id INTEGER REFERENCES circuits(id) ON DELETE SET NULL,
    params TEXT NOT NULL,            -- JSON: the ablated features and the settings
    result TEXT NOT NULL,            -- JSON: the table rows and what they rest on
    created_at TEXT NOT NULL
  );
  CREATE INDEX shift_runs_probe ON shift_runs(probe_id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
