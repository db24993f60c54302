/**
 * The store under faults and bad input: a writer killed with SIGKILL in the middle of imports
 * and saves leaves an intact file with everything it had committed; every broken import is
 * refused with a message naming the file and the problem, and leaves the database unchanged.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src-main/store';
import { importFile, MAX_IMPORT_BYTES } from '../../src-main/store/import';
import { ensureDemo } from '../../src-main/store/register';
import { DEMO_DIR } from '../../src-main/defaults';
import { contentHash } from '../../src-main/util/hash';
import { syntheticCircuit } from '../helpers/store-fixtures';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-store-faults-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every row of every table, hashed: equal fingerprints = an unchanged database. */
function fingerprint(store: Store): string {
  const h = createHash('sha256');
  const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
  for (const { name } of tables) {
    h.update(name);
    for (const row of store.db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()) h.update(JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('base64') : v)));
  }
  return h.digest('hex');
}

async function killMidWrite(what: 'import' | 'save'): Promise<number[]> {
  const db = join(dir, `${what}.db`);
  const child = spawn(process.execPath, ['bin/run-ts.js', 'test/helpers/store-writer.ts', db, what], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await new Promise<void>((ok, fail) => {
    child.stdout.on('data', (d) => {
      out += d;
      // A few commits in, then kill it wherever it is: most of its time is inside a write.
      if ((out.match(/committed/g) ?? []).length >= 3) setTimeout(() => (child.kill('SIGKILL'), ok()), 37);
    });
    child.once('exit', (code, sig) => (sig === 'SIGKILL' ? ok() : fail(new Error(`writer exited early (${code}): ${err}`))));
  });
  await new Promise((r) => child.once('exit', r));
  const committed = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
  const store = openStore(db);
  try {
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    if (what === 'import') {
      const names = store.library.datasets().map((d) => d.name);
      for (const i of committed) expect(names).toContain(`data ${i}`);
      for (const d of store.library.datasets()) expect(d.examples).toBe(20_000); // nothing half-written
    } else {
      const names = store.circuits.list().map((c) => c.name);
      for (const i of committed) expect(names).toContain(`circuit ${i}`);
      for (const c of store.circuits.list()) expect(store.circuits.get(c.id).edges).toHaveLength(20_000);
    }
  } finally {
    store.close();
  }
  return committed;
}

describe('a writer killed with SIGKILL', () => {
  it('mid-import leaves an intact store with every committed import', async () => {
    expect((await killMidWrite('import')).length).toBeGreaterThanOrEqual(3);
  });
  it('mid-save leaves an intact store with every committed circuit', async () => {
    expect((await killMidWrite('save')).length).toBeGreaterThanOrEqual(3);
  });
});

describe('broken imports are refused and change nothing', () => {
  let store: Store;
  beforeAll(() => {
    store = openStore(join(dir, 'imports.db'));
    ensureDemo(store, DEMO_DIR);
    importFile(store, { name: 'taken.jsonl', text: '{"clean_prefix": "The cat", "patch_prefix": "The cats", "clean_answer": " is", "patch_answer": " are", "case": "singular"}\n' });
    const set = store.library.saeSets()[0];
    store.library.setSaeShapes(set.id, syntheticCircuit({ nodes: 1, edges: 0, features: 512 }).submodules.map((s) => ({ ...s, kind: 'relu' })));
  });
  afterAll(() => store.close());

  const write = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const demo = (): { model: string; saes: string } => ({ model: contentHash(join(DEMO_DIR, 'model')), saes: contentHash(join(DEMO_DIR, 'saes')) });

  const cases: [string, () => Parameters<typeof importFile>[1], RegExp, { saeSetId?: number }?][] = [
    ['not JSON', () => ({ path: write('notes.json', 'hello, world') }), /notes\.json: not JSON or JSON Lines/],
    ['a JSON array', () => ({ name: 'list.json', text: '[1, 2, 3]' }), /list\.json: expected a JSON object or JSON Lines, got a JSON array/],
    ['an agreement line without a key', () => ({ path: write('bad.jsonl', '{"clean_prefix": "The cat", "patch_prefix": "The cats", "clean_answer": " is", "case": "x"}\n') }), /bad\.jsonl:1: missing key "patch_answer"/],
    ['a second agreement line that is broken', () => ({ name: 'half.jsonl', text: '{"clean_prefix": "a", "patch_prefix": "b", "clean_answer": " c", "patch_answer": " d", "case": "x"}\n{"clean_prefix": \n' }), /half\.jsonl:2: malformed JSON/],
    ['a cluster without an answer', () => ({ name: 'clusters.json', text: '{"a": {"context": "The cat"}}' }), /clusters\.json: context "a": missing "answer"/],
    ['a path that does not exist', () => ({ path: join(dir, 'missing.jsonl') }), /missing\.jsonl: no such file/],
    ['a folder', () => ({ path: dir }), /is a folder, not a file/],
    ['a huge file', () => {
      const p = join(dir, 'huge.jsonl');
      const fd = openSync(p, 'w');
      ftruncateSync(fd, MAX_IMPORT_BYTES + 1);
      closeSync(fd);
      return { path: p };
    }, /huge\.jsonl: too large \(64\.0 MiB; the limit is 64 MiB\)/],
    ['a duplicate name', () => ({ name: 'taken.jsonl', text: '{"clean_prefix": "The dog", "patch_prefix": "The dogs", "clean_answer": " is", "patch_answer": " are", "case": "singular"}\n' }), /a dataset named 'taken' is already in the library/],
    ['a circuit of the wrong width', () => {
      const c = syntheticCircuit({ nodes: 5, edges: 5, features: 999, sha: { ...demo(), data: 'c'.repeat(64) } });
      return { name: 'wide.json', text: JSON.stringify(c) };
    }, /wide\.json: embed has 999 features in the circuit but 512 in SAE set 'demo SAEs'/],
    ['a circuit from another SAE set', () => {
      const c = syntheticCircuit({ nodes: 5, edges: 5, sha: { model: demo().model, saes: 'f'.repeat(64), data: 'c'.repeat(64) } });
      return { name: 'other.json', text: JSON.stringify(c) };
    }, /other\.json: its SAE set \(\/nowhere\/saes, sha256 ffffffffffff…\) is not in the library/],
    ['a circuit imported onto an SAE set it was not discovered with', () => {
      const c = syntheticCircuit({ nodes: 5, edges: 5, sha: { model: demo().model, saes: 'e'.repeat(64), data: 'c'.repeat(64) } });
      return { name: 'onto.json', text: JSON.stringify(c) };
    }, /onto\.json: the circuit was discovered with another SAE set .* not with 'demo SAEs'/, { saeSetId: 1 }],
    ['a circuit with a submodule the model lacks', () => {
      const c = syntheticCircuit({ nodes: 5, edges: 5, sha: { ...demo(), data: 'c'.repeat(64) } });
      c.submodules.push({ name: 'resid_7', features: 512, kind: 'relu' });
      return { name: 'deep.json', text: JSON.stringify(c) };
    }, /deep\.json: submodule resid_7 is not in SAE set 'demo SAEs'/],
    ['annotations for features the SAE set does not have', () => ({
      name: 'labels.jsonl',
      text: '{"Name": "resid_1/3", "Annotation": "fine"}\n{"Name": "resid_5/3036", "Annotation": "promotes singular verbs"}\n',
    }), /labels\.jsonl:2 \(resid_5\/3036\): submodule 'resid_5' is not in this SAE set/],
    ['an empty file', () => ({ name: 'empty.jsonl', text: '\n\n' }), /empty\.jsonl: is empty/],
  ];

  for (const [what, source, message, opts] of cases) {
    it(`refuses ${what}`, () => {
      const before = fingerprint(store);
      let caught: Error | null = null;
      try {
        importFile(store, source(), opts);
      } catch (e) {
        caught = e as Error;
      }
      expect(caught?.message).toMatch(message);
      expect(fingerprint(store)).toBe(before);
    });
  }

  it('imports the same annotations file onto a matching SAE set, all or nothing', () => {
    const r = importFile(store, { name: 'labels.jsonl', text: '{"Name": "resid_1/3", "Annotation": "fine"}\n{"Name": "mlp_0/error", "Annotation": "mlp error"}\n' });
    expect(r).toMatchObject({ kind: 'annotations', imported: 2, unchanged: 0 });
    expect(importFile(store, { name: 'labels.jsonl', text: '{"Name": "resid_1/3", "Annotation": "fine"}\n' })).toMatchObject({ imported: 0, unchanged: 1 });
  });
});
