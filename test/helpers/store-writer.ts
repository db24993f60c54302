/**
 * A process that writes to a store as fast as it can and says after each commit what it has
 * committed, so a test can kill it (-9) at an arbitrary moment and check what survived.
 *   node bin/run-ts.js test/helpers/store-writer.ts DB import|save
 */
import { openStore } from '../../src-main/store';
import { importFile } from '../../src-main/store/import';
import { syntheticCircuit } from './store-fixtures';

const [db, what] = process.argv.slice(2);
const store = openStore(db);
const m = store.library.addModel({ name: 'm', path: '/m', sha256: 'a'.repeat(64), architecture: 'GPTNeoXForCausalLM', config: { num_hidden_layers: 3 } });
const s = store.library.addSaeSet({ name: 's', path: '/s', sha256: 'b'.repeat(64), layout: 'dictionary_learning', modelId: m.id });
const line = (i: number, k: number) => JSON.stringify({ clean_prefix: `The cat ${i} ${k}`, patch_prefix: `The cats ${i} ${k}`, clean_answer: ' is', patch_answer: ' are', case: 'singular' });
for (let i = 0; ; i++) {
  if (what === 'import') {
    // A large file, so the kill often lands inside the transaction.
    const text = Array.from({ length: 20_000 }, (_, k) => line(i, k)).join('\n');
    importFile(store, { name: `data ${i}.jsonl`, text });
  } else {
    store.circuits.save({ circuit: syntheticCircuit({ nodes: 2000, edges: 20_000, seed: i }), name: `circuit ${i}`, modelId: m.id, saeSetId: s.id, datasetId: null });
  }
  process.stdout.write(`committed ${i}\n`);
}
