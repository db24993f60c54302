import type { Command } from '../command';
import { UsageError } from '../command';
import { DB_OPTION, parseId, withStore } from '../store';
import { importFile } from '../../store/import';

export const importCommand: Command = {
  name: 'import',
  summary: 'import a file into the store: agreement JSONL, cluster JSON, a circuit JSON, or annotation JSONL',
  usage: 'sfc import FILE [--name NAME] [--sae-set ID] [--json] [--db FILE]',
  options: { ...DB_OPTION, name: { type: 'string' }, 'sae-set': { type: 'string' }, json: { type: 'boolean', default: false } },
  positionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('give exactly one FILE to import');
    const saeSetId = values['sae-set'] === undefined ? undefined : parseId(values['sae-set'] as string, '--sae-set');
    await withStore(values, (store) => {
      const r = importFile(store, { path: positionals[0] }, { name: values.name as string | undefined, saeSetId });
      if (values.json) return console.log(JSON.stringify(r));
      if (r.kind === 'dataset') console.log(`imported dataset ${r.id} '${r.name}' (${r.examples} examples)`);
      else if (r.kind === 'circuit') {
        for (const w of r.warnings) console.error(`warning: ${w}`);
        console.log(`imported circuit ${r.id} '${r.name}' (${r.nodes} nodes${r.edges === null ? '' : `, ${r.edges} edges`})`);
      } else {
        console.log(`imported ${r.imported} annotations onto SAE set ${r.saeSetId} (${r.unchanged} unchanged, ${r.skipped.length} lines skipped)`);
        for (const s of r.skipped) console.error(`  skipped line ${s.line}: ${s.reason}`);
      }
    });
  },
};
