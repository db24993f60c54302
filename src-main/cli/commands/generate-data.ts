import type { Command } from '../command';
import { UsageError } from '../command';
import { runCliJob } from '../jobs';
import { modelPath, num, oneOf, outPath } from '../options';
import { STRUCTURES } from '../../data/generator';

export const generateDataCommand: Command = {
  name: 'generate-data',
  summary: 'Generate paired agreement stimuli whose words are single tokens for a model',
  usage: 'sfc generate-data [--model DIR] --structure simple|nounpp|rc|within_rc --out FILE [--test-out FILE] [--seed S]',
  options: {
    model: { type: 'string' },
    structure: { type: 'string' },
    out: { type: 'string' },
    'test-out': { type: 'string' },
    seed: { type: 'string', default: '0' },
  },
  async run({ values }) {
    if (!values.out) throw new UsageError('--out is required');
    const r = await runCliJob('data.generate', {
      model: modelPath(values),
      structure: oneOf(values, 'structure', STRUCTURES),
      out: outPath(values, 'out')!,
      testOut: outPath(values, 'test-out') ?? null,
      seed: num(values, 'seed', { int: true }),
    });
    console.log(`wrote ${r.train} lines to ${values.out}${values['test-out'] ? ` and ${r.test} to ${values['test-out']}` : ''}`);
    if (r.droppedWords.length) console.error(`note: dropped words that are not single tokens: ${r.droppedWords.join(', ')}`);
  },
};
