import type { Command } from '../command';
import { UsageError } from '../command';
import { DB_OPTION, withStore } from '../store';
import { runCliJob } from '../jobs';
import { oneOf } from '../options';
import { registerFetched } from '../../api/hub-handlers';
import { fmtBytes } from '../../hub/fetch';
import { SETUPS } from '../../hub/registry';
import { hubSettings } from '../../hub/settings';

export const fetchCommand: Command = {
  name: 'fetch',
  summary: 'Download a known model and its released dictionaries into the Hugging Face cache and add them to the library',
  usage:
    'sfc fetch pythia-70m-deduped [--saes dictionary_learning|saelens] [--revision REV] [--refresh] [--verify] [--offline] ' +
    '[--annotations | --annotations-from FILE|URL] [--json] [--db FILE]\n' +
    '  The cache is HF_HUB_CACHE (else $HF_HOME/hub, else ~/.cache/huggingface/hub); files already there are used without a request.\n' +
    '  HF_ENDPOINT picks a mirror, HF_TOKEN opens gated repositories, HF_HUB_OFFLINE=1 (or --offline) never makes a request.\n' +
    '  --refresh: ask the Hub whether the revision moved; --verify: re-hash cached files against the Hub\'s hashes.\n' +
    '  --annotations: also fetch the original feature labels and import them onto the SAE set.',
  positionals: true,
  options: {
    saes: { type: 'string' },
    revision: { type: 'string' },
    refresh: { type: 'boolean', default: false },
    verify: { type: 'boolean', default: false },
    offline: { type: 'boolean', default: false },
    annotations: { type: 'boolean', default: false },
    'annotations-from': { type: 'string' },
    json: { type: 'boolean', default: false },
    ...DB_OPTION,
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError(`which setup? known: ${Object.keys(SETUPS).join(', ')}`);
    const setup = positionals[0]!;
    if (!Object.hasOwn(SETUPS, setup)) throw new UsageError(`unknown setup '${setup}' (known: ${Object.keys(SETUPS).join(', ')}); other models and SAEs work from folders: sfc discover --model DIR --saes DIR`);
    const saes = values.saes === undefined ? undefined : oneOf(values, 'saes', Object.keys(SETUPS[setup]!.saeSources) as ('dictionary_learning' | 'saelens')[]);
    if (values.annotations && values['annotations-from']) throw new UsageError('give --annotations or --annotations-from, not both');
    try {
      hubSettings();
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const r = await runCliJob(
      'hub.fetch',
      {
        setup,
        saes,
        revision: (values.revision as string | undefined) ?? null,
        refresh: values.refresh as boolean,
        verify: values.verify as boolean,
        offline: values.offline as boolean,
        annotations: (values['annotations-from'] as string | undefined) ?? (values.annotations as boolean),
      },
      { quiet: values.json as boolean },
    );
    const { out, imported, notes } = await withStore(values, (store) => registerFetched(store, setup, r));
    const summary = {
      setup,
      saeSource: r.saeSource,
      layout: r.layout,
      modelDir: r.modelDir,
      saesDir: r.saesDir,
      model: { id: out.model.id, name: out.model.name },
      saeSet: { id: out.saeSet.id, name: out.saeSet.name, submodules: out.saeSet.submodules },
      repos: r.repos,
      downloadedBytes: r.downloadedBytes,
      requests: r.requests,
      modelBytes: r.modelBytes,
      saeBytes: r.saeBytes,
      annotations: imported,
      annotationsFile: r.annotationsFile,
      seconds: r.seconds,
      notes,
    };
    if (values.json) {
      console.log(JSON.stringify(summary));
      return;
    }
    for (const n of notes) console.error(`note: ${n}`);
    for (const repo of r.repos) {
      const got = repo.downloaded ? `downloaded ${repo.downloaded} file(s), ${fmtBytes(repo.downloadedBytes)}` : 'from the cache';
      console.log(`${repo.repo}@${repo.commit.slice(0, 10)}: ${got}`);
    }
    const shapes = out.saeSet.submodules ?? [];
    const sizes = [...new Set(shapes.map((s) => s.features))].join('/');
    console.log(`model   ${r.modelDir}`);
    console.log(`SAEs    ${r.saesDir} (${r.layout}: ${shapes.length} submodules × ${sizes} features)`);
    console.log(`library model ${out.model.id} '${out.model.name}', SAE set ${out.saeSet.id} '${out.saeSet.name}'`);
    console.log(`memory  the model takes ${fmtBytes(r.modelBytes)} and the dictionaries ${fmtBytes(r.saeBytes)} once loaded`);
    if (imported) console.log(`labels  ${imported.imported} annotations imported (${imported.unchanged} unchanged, ${imported.skipped} lines skipped) from ${r.annotationsFile}`);
    console.log(r.requests === 0 ? 'no request was made: everything came from the cache' : `${r.requests} request(s), ${r.seconds.toFixed(1)} s`);
    const saesName = r.saeSource === SETUPS[setup]!.defaultSaeSource ? setup : `${setup}:${r.saeSource}`;
    console.log(`next    sfc discover --model ${setup} --saes ${saesName} --data FILE   (the names stand for the folders above)`);
  },
};
