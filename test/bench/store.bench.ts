/**
 * `npm run bench:store`: save and load times of a 2 000-node / 20 000-edge circuit in the store,
 * the database size per circuit, and the same circuit as JSON for comparison. Prints its numbers.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src-main/store';
import { syntheticCircuit } from '../helpers/store-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'sfc-bench-store-'));
const store = openStore(join(dir, 'sfc.db'));
const m = store.library.addModel({ name: 'm', path: '/m', sha256: 'a'.repeat(64), architecture: 'GPTNeoXForCausalLM', config: {} });
const s = store.library.addSaeSet({ name: 's', path: '/s', sha256: 'b'.repeat(64), layout: 'dictionary_learning', modelId: m.id });
const ms = (t0: number): number => performance.now() - t0;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const positions of [null, 6]) {
  const circuits = Array.from({ length: 10 }, (_, i) => syntheticCircuit({ nodes: 2000, edges: 20_000, features: 32768, positions, seed: i + 1 }));
  const save: number[] = [];
  const load: number[] = [];
  const json: number[] = [];
  const ids: number[] = [];
  const size0 = statSync(join(dir, 'sfc.db')).size;
  for (const [i, c] of circuits.entries()) {
    let t0 = performance.now();
    ids.push(store.circuits.save({ circuit: c, name: `c ${positions} ${i}`, modelId: m.id, saeSetId: s.id, datasetId: null }).id);
    save.push(ms(t0));
    t0 = performance.now();
    JSON.parse(JSON.stringify(c));
    json.push(ms(t0));
  }
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const perCircuit = (statSync(join(dir, 'sfc.db')).size - size0) / circuits.length;
  for (const id of ids) {
    const t0 = performance.now();
    const c = store.circuits.get(id);
    load.push(ms(t0));
    if (c.edges!.length !== 20_000) throw new Error('lost edges');
  }
  const jsonBytes = JSON.stringify(circuits[0]).length;
  console.log(
    `${positions === null ? 'summed' : 'position-resolved'} circuit, 2000 nodes / 20000 edges: save ${median(save).toFixed(1)} ms (max ${Math.max(...save).toFixed(1)}), ` +
      `load ${median(load).toFixed(1)} ms (max ${Math.max(...load).toFixed(1)}), database ${(perCircuit / 1024).toFixed(0)} KiB per circuit ` +
      `(JSON file ${(jsonBytes / 1024).toFixed(0)} KiB; JSON stringify+parse alone ${median(json).toFixed(1)} ms)`,
  );
}
store.close();
rmSync(dir, { recursive: true, force: true });
