import { existsSync, readFileSync } from 'node:fs';
import type { Command } from '../command';
import { UsageError } from '../command';
import { num } from '../options';
import { DB_OPTION, withStore } from '../store';
import { validateCircuitFile, type CircuitFile } from '../../circuits/circuit-file';
import { compareCircuits } from '../../view/compare';
import type { Store } from '../../store';

/** A stored circuit id, or a circuit file. */
function load(store: Store, ref: string): CircuitFile {
  if (/^\d+$/.test(ref) && !existsSync(ref)) return store.circuits.get(Number(ref));
  if (!existsSync(ref)) throw new UsageError(`${ref}: neither a circuit id nor a file`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(ref, 'utf8'));
  } catch (e) {
    throw new Error(`${ref}: malformed JSON (${(e as Error).message})`);
  }
  return validateCircuitFile(raw, ref);
}

export const compareCommand: Command = {
  name: 'compare',
  summary: 'compare two circuits (ids or files): nodes only in A / only in B / in both, Jaccard, effect correlation, changed edges',
  usage: 'sfc compare A B [--threshold T] [--json] [--db FILE]',
  options: { ...DB_OPTION, threshold: { type: 'string', default: '0' }, json: { type: 'boolean', default: false } },
  positionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 2) throw new UsageError('give two circuits: A B (ids or circuit files)');
    const threshold = num(values, 'threshold', { min: 0 });
    await withStore(values, (store) => {
      const [a, b] = positionals.map((r) => load(store, r));
      const c = compareCircuits(a, b, { threshold });
      if (values.json) return console.log(JSON.stringify(c));
      for (const w of c.warnings) console.error(`warning: ${w}`);
      const fmt = (x: number | null): string => (x === null ? '—' : x.toFixed(3));
      console.log(`nodes with |effect| > ${threshold}: ${c.both.length} in both, ${c.onlyA.length} only in A, ${c.onlyB.length} only in B`);
      console.log(`Jaccard ${fmt(c.jaccard)}, correlation of shared effects ${fmt(c.correlation)}`);
      if (c.changedEdges.length) {
        console.log('edges that changed most (A → B):');
        for (const e of c.changedEdges.slice(0, 10)) console.log(`  ${e.source} → ${e.target}: ${e.weightA.toFixed(4)} → ${e.weightB.toFixed(4)}`);
      }
    });
  },
};
