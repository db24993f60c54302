import type { Command } from '../command';
import { DB_OPTION, withStore } from '../store';

export const libraryCommand: Command = {
  name: 'library',
  summary: 'list what the store holds: models, SAE sets, datasets, circuits and their versions',
  usage: 'sfc library list [--search TEXT] [--tag TAG] [--json] [--db FILE]',
  options: { ...DB_OPTION, search: { type: 'string' }, tag: { type: 'string' }, json: { type: 'boolean', default: false } },
  positionals: true,
  async run({ values, positionals }) {
    const [sub = 'list'] = positionals;
    if (sub !== 'list') throw new Error(`unknown subcommand '${sub}' (only 'list')`);
    await withStore(values, (store) => {
      const search = values.search as string | undefined;
      const tag = values.tag as string | undefined;
      const lib = { db: store.path, ...store.library.find({ search, tag }), circuits: store.circuits.list({ search, tag }) };
      if (values.json) return console.log(JSON.stringify(lib));
      const tags = (t: string[]): string => (t.length ? `  [${t.join(', ')}]` : '');
      console.log(`store: ${store.path}`);
      console.log(`models (${lib.models.length}):`);
      for (const m of lib.models) console.log(`  ${String(m.id).padStart(4)}  ${m.name}  ${m.path}${tags(m.tags)}`);
      console.log(`SAE sets (${lib.saeSets.length}):`);
      for (const s of lib.saeSets) console.log(`  ${String(s.id).padStart(4)}  ${s.name}  ${s.layout}${s.path ? `  ${s.path}` : ''}${tags(s.tags)}`);
      console.log(`datasets (${lib.datasets.length}):`);
      for (const d of lib.datasets) console.log(`  ${String(d.id).padStart(4)}  ${d.name}  ${d.kind}, ${d.examples} examples${tags(d.tags)}`);
      console.log(`circuits (${lib.circuits.length} versions):`);
      for (const c of lib.circuits) {
        const version = c.parentId === null ? '' : `  (version of ${c.parentId}${c.edit ? `: ${c.edit.op}` : ''})`;
        console.log(`  ${String(c.id).padStart(4)}  ${c.name}${c.versionLabel ? ` — ${c.versionLabel}` : ''}  ${c.nodes} nodes${c.edges === null ? '' : `, ${c.edges} edges`}  ${c.createdAt.slice(0, 16).replace('T', ' ')}${version}${tags(c.tags)}`);
      }
    });
  },
};
