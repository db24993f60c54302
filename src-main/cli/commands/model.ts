import type { Command } from '../command';
import { UsageError } from '../command';
import { runCliJob } from '../jobs';

export const modelCommand: Command = {
  name: 'model',
  summary: 'Inspect a model folder: `sfc model info DIR` prints architecture, parameters and hook points',
  usage: 'sfc model info <dir> [--json]',
  options: { json: { type: 'boolean' } },
  positionals: true,
  async run({ values, positionals }) {
    const [sub, dir] = positionals;
    if (sub !== 'info' || !dir || positionals.length > 2) throw new UsageError('expected `sfc model info <dir>`');
    const info = await runCliJob('model.info', { model: dir });
    if (values.json) {
      console.log(JSON.stringify(info, null, 2));
      return;
    }
    const lines = [
      `model        ${info.path}`,
      `architecture ${info.architecture}`,
      `parameters   ${info.parameters.toLocaleString('en-US')}`,
      ...Object.entries(info.config).map(([k, v]) => `  ${k.padEnd(24)} ${v}`),
      `hook points  (${info.hookPoints.length}) ${info.hookPoints.join(' ')}`,
    ];
    console.log(lines.join('\n'));
  },
};
