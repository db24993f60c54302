/**
 * The CLI on the store: `sfc discover --save`, `library list`, `import`, `export` and `compare`
 * against one database file, and their refusals.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCircuitFile } from '../../src-main/circuits/circuit-file';

const bin = join(process.cwd(), 'bin', 'sfc.js');
let dir: string;
let db: string;

function sfc(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args, '--db', db], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-cli-store-'));
  db = join(dir, 'sfc.db');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sfc on the store', () => {
  it('saves a discovery, lists it, exports it as the same circuit and compares it with its file', () => {
    const d = sfc('discover', '--data', 'simple', '--n', '20', '--out', 'c.json', '--save', '--name', 'simple agreement', '--json');
    expect(d.code, d.err).toBe(0);
    const summary = JSON.parse(d.out);
    expect(summary.saved).toEqual({ id: 1, name: 'simple agreement' });

    const again = sfc('discover', '--data', 'simple', '--n', '20', '--out', 'c2.json', '--save', '--name', 'simple agreement');
    expect(again.code).toBe(2); // refused before the computation
    expect(again.err).toMatch(/--name: a circuit named 'simple agreement' already exists/);

    const lib = sfc('library', 'list', '--json');
    expect(lib.code, lib.err).toBe(0);
    const l = JSON.parse(lib.out);
    expect(l.circuits.map((c: any) => c.name)).toEqual(['simple agreement']);
    expect(l.datasets.find((x: any) => x.id === l.circuits[0].datasetId).name).toBe('demo simple (train)');

    const ex = sfc('export', '1', '--out', 'exported.json');
    expect(ex.code, ex.err).toBe(0);
    const exported = validateCircuitFile(JSON.parse(readFileSync(join(dir, 'exported.json'), 'utf8')), 'exported.json');
    const written = validateCircuitFile(JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')), 'c.json');
    expect(exported.nodes).toEqual(written.nodes);
    expect(exported.edges).toEqual(written.edges);

    const cmp = sfc('compare', '1', 'c.json', '--json');
    expect(cmp.code, cmp.err).toBe(0);
    expect(JSON.parse(cmp.out)).toMatchObject({ jaccard: 1, onlyA: [], onlyB: [] });
  });

  it('imports files of each kind and refuses broken ones with the file named', () => {
    writeFileSync(join(dir, 'labels.jsonl'), '{"Name": "resid_1/3", "Annotation": "plural subject"}\n');
    const a = sfc('import', 'labels.jsonl', '--json');
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out)).toMatchObject({ kind: 'annotations', imported: 1 });
    const ann = sfc('export', '1', '--annotations', '--out', 'labels-out.jsonl');
    expect(ann.code, ann.err).toBe(0);
    expect(readFileSync(join(dir, 'labels-out.jsonl'), 'utf8')).toBe('{"Component": "resid", "Layer": "1", "Feature": "3", "Name": "resid_1/3", "Annotation": "plural subject", "Notes": ""}\n');

    const c = sfc('import', 'c.json', '--name', 'imported copy');
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(/imported circuit 2 'imported copy'/);

    writeFileSync(join(dir, 'broken.json'), '{"format": "sfc-circuit", "version": 1}');
    const b = sfc('import', 'broken.json');
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/broken\.json/);
    const missing = sfc('import', 'nope.jsonl');
    expect(missing.err).toMatch(/nope\.jsonl: no such file/);
    expect(sfc('export', '99', '--out', 'x.json').err).toMatch(/no circuit with id 99/);
    expect(sfc('export', '1', '--out', join(dir, 'no', 'such', 'x.json')).err).toMatch(/folder .* does not exist/);
    expect(sfc('library', 'list', '--json').code).toBe(0);
  });
});
