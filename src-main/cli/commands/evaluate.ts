import { writeFileSync } from 'node:fs';
import type { Command } from '../command';
import { UsageError } from '../command';
import { runCliJob } from '../jobs';
import { dataPath, num, oneOf } from '../options';

/** logspace(−4, 0, 15), the original notebook's sweep. */
export const DEFAULT_THRESHOLDS = Array.from({ length: 15 }, (_, i) => Number((10 ** (-4 + (4 * i) / 14)).toPrecision(6)));

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'Faithfulness and completeness of a circuit over a node-threshold sweep (mean or zero ablation)',
  usage:
    'sfc evaluate --circuit circuit.json --data FILE|simple|nounpp|rc|within_rc [--n 40] [--ablation mean|zero] [--handle-errors default|remove|keep] ' +
    '[--thresholds a,b,c] [--start-layer L] [--model DIR] [--saes DIR] [--seed S] [--out eval.json] [--json]',
  options: {
    circuit: { type: 'string' },
    data: { type: 'string' },
    n: { type: 'string', default: '40' },
    ablation: { type: 'string', default: 'mean' },
    'handle-errors': { type: 'string', default: 'default' },
    thresholds: { type: 'string' },
    'start-layer': { type: 'string' },
    model: { type: 'string' },
    saes: { type: 'string' },
    seed: { type: 'string', default: '12' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  async run({ values }) {
    const circuit = values.circuit as string | undefined;
    if (!circuit) throw new UsageError('--circuit is required');
    const thresholds = values.thresholds
      ? (values.thresholds as string).split(',').map((t) => {
          const v = Number(t);
          if (t.trim() === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`--thresholds: '${t}' is not a non-negative number`);
          return v;
        })
      : DEFAULT_THRESHOLDS;
    const res = await runCliJob(
      'circuit.evaluate',
      {
        circuit,
        model: (values.model as string | undefined) ?? null,
        saes: (values.saes as string | undefined) ?? null,
        data: dataPath(values.data as string | undefined, 'test'),
        n: num(values, 'n', { int: true, min: 1 }),
        seed: num(values, 'seed', { int: true }),
        ablation: oneOf(values, 'ablation', ['mean', 'zero'] as const),
        handleErrors: oneOf(values, 'handle-errors', ['default', 'remove', 'keep'] as const),
        thresholds,
        startLayer: values['start-layer'] === undefined ? null : num(values, 'start-layer', { int: true, min: 0 }),
      },
      { quiet: values.json as boolean },
    );
    if (values.out) writeFileSync(values.out as string, JSON.stringify(res, null, 1));
    if (values.json) {
      console.log(JSON.stringify(res));
      return;
    }
    for (const w of res.warnings) console.error(`warning: ${w}`);
    console.log(`${res.examples} examples, submodules ${res.submodules[0]} … ${res.submodules[res.submodules.length - 1]} (layers ≥ ${res.startLayer})`);
    console.log(`m(M) = ${res.mFull.toFixed(4)}   m(∅) = ${res.mEmpty.toFixed(4)}`);
    console.log('threshold     nodes  faithfulness  completeness');
    for (const r of res.rows) {
      console.log(`${r.threshold.toExponential(2).padStart(9)}  ${String(r.nodes).padStart(8)}  ${r.faithfulness.toFixed(3).padStart(12)}  ${r.completeness.toFixed(3).padStart(12)}`);
    }
    if (values.out) console.log(`wrote ${values.out}`);
  },
};
