import type { Command } from '../command';
import { UsageError } from '../command';
import { DB_OPTION, withStore } from '../store';
import { cacheListWithUsage, clearWithWarnings } from '../../api/hub-handlers';
import { fmtBytes } from '../../hub/fetch';
import { hubSettings } from '../../hub/settings';

export const cacheCommand: Command = {
  name: 'cache',
  summary: 'List the Hugging Face cache and the app\'s unpacked dictionaries, or clear entries of them',
  usage: 'sfc cache list [--json] [--db FILE]\n       sfc cache clear ID... [--json] [--db FILE]   (IDs from `sfc cache list`)',
  positionals: true,
  options: { json: { type: 'boolean', default: false }, ...DB_OPTION },
  async run({ values, positionals }) {
    const [sub, ...ids] = positionals;
    let settings;
    try {
      settings = hubSettings();
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (sub === 'list' || sub === undefined) {
      if (ids.length) throw new UsageError('`sfc cache list` takes no arguments');
      const r = await withStore(values, (store) => cacheListWithUsage(store, settings));
      if (values.json) return console.log(JSON.stringify(r));
      console.log(`hub cache ${r.hubCache}\napp cache ${r.sfcCache}`);
      for (const e of r.entries) {
        const revs = e.revisions.map((v) => `${v.commit.slice(0, 10)}${v.refs.length ? ` (${v.refs.join(', ')})` : ''}`).join(', ');
        const used = e.usedBy.length ? `  used by ${e.usedBy.map((u) => `${u.kind === 'model' ? 'model' : 'SAE set'} ${u.id}`).join(', ')}` : '';
        const partial = e.incompleteBytes ? `, ${fmtBytes(e.incompleteBytes)} partly downloaded` : '';
        console.log(`  ${e.id}  ${fmtBytes(e.bytes)}${partial}${revs ? `  ${revs}` : ''}${used}`);
      }
      for (const w of r.warnings) console.error(`warning: ${w}`);
      console.log(`total ${fmtBytes(r.totalBytes)} in ${r.entries.length} entries`);
      return;
    }
    if (sub !== 'clear') throw new UsageError(`unknown subcommand '${sub}' (list or clear)`);
    if (!ids.length) throw new UsageError('which entries? give the IDs `sfc cache list` shows');
    const r = await withStore(values, (store) => clearWithWarnings(store, settings, ids));
    if (values.json) return console.log(JSON.stringify(r));
    for (const x of r.removed) console.log(`removed ${x.id} (${fmtBytes(x.bytes)})`);
    for (const w of r.warnings) console.error(`warning: ${w}`);
    console.log(`freed ${fmtBytes(r.freedBytes)}`);
  },
};
