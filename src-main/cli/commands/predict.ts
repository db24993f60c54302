import type { Command } from '../command';
import { UsageError } from '../command';
import { runCliJob } from '../jobs';

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Top next tokens with probabilities after a text',
  usage: 'sfc predict --model <dir> --text "The authors near the table" [--top K] [--json]',
  options: {
    model: { type: 'string' },
    text: { type: 'string' },
    top: { type: 'string', default: '10' },
    json: { type: 'boolean' },
  },
  async run({ values }) {
    const model = values.model as string | undefined;
    const text = values.text as string | undefined;
    if (!model) throw new UsageError('--model <dir> is required');
    if (text === undefined) throw new UsageError('--text is required');
    const top = Number(values.top);
    if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top must be a positive integer, got '${values.top}'`);
    const preds = await runCliJob('model.predict', { model, text, top });
    if (values.json) {
      console.log(JSON.stringify(preds));
      return;
    }
    for (const p of preds) console.log(`${(p.prob * 100).toFixed(2).padStart(6)}%  ${JSON.stringify(p.token).padEnd(16)} id ${p.id}`);
  },
};
