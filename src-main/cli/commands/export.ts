import type { Command } from '../command';
import { UsageError } from '../command';
import { DB_OPTION, parseId, withStore } from '../store';
import { checkWritable, writeFileAtomic } from '../../util/atomic-write';

export const exportCommand: Command = {
  name: 'export',
  summary: "export a stored circuit version as circuit JSON, or an SAE set's annotations as JSONL (the original's field names)",
  usage: 'sfc export ID --out FILE [--annotations] [--db FILE]   (ID: a circuit id; with --annotations an SAE set id)',
  options: { ...DB_OPTION, out: { type: 'string' }, annotations: { type: 'boolean', default: false } },
  positionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('give exactly one ID to export');
    const out = values.out as string | undefined;
    if (!out) throw new UsageError('--out FILE is required');
    checkWritable(out);
    const id = parseId(positionals[0], 'ID');
    await withStore(values, (store) => {
      if (values.annotations) {
        const set = store.library.saeSet(id);
        writeFileAtomic(out, store.annotations.jsonl(set.sha256));
        console.log(`wrote ${store.annotations.all(set.sha256).length} annotations of SAE set ${id} '${set.name}' to ${out}`);
        return;
      }
      const c = store.circuits.get(id);
      writeFileAtomic(out, `${JSON.stringify(c, null, 1)}\n`);
      console.log(`wrote circuit ${id} (${c.nodes.length} nodes${c.edges ? `, ${c.edges.length} edges` : ''}) to ${out}`);
    });
  },
};
