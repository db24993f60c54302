import type { Command } from '../command';
import { UsageError } from '../command';
import { runCliJob } from '../jobs';
import { dataPath, exampleLength, num, oneOf, outPath } from '../options';
import type { ErrorVariant } from '../../circuits/evaluate';
import { writeFileAtomic } from '../../util/atomic-write';
import { PAPER_THRESHOLDS } from '../../circuits/evaluate';


/** --node-threshold T (one circuit, like the original's evaluate_circuit.sh), --thresholds a,b,c, or the default sweep. */
function thresholdsOf(values: Record<string, unknown>): number[] {
  if (values['node-threshold'] !== undefined && values.thresholds !== undefined) throw new UsageError('give --node-threshold or --thresholds, not both');
  if (values['node-threshold'] !== undefined) return [num(values, 'node-threshold', { min: 0 })];
  if (values.thresholds === undefined) return PAPER_THRESHOLDS;
  return (values.thresholds as string).split(',').map((t) => {
    const v = Number(t);
    if (t.trim() === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`--thresholds: '${t}' is not a non-negative number`);
    return v;
  });
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'Faithfulness and completeness of a circuit: one node threshold or a sweep (mean, zero or resample ablation)',
  usage:
    'sfc evaluate --circuit circuit.json --data FILE|simple|nounpp|rc|within_rc [--n 40] [--example-length L] [--ablation mean|zero|resample] ' +
    '[--errors all|none|resid-only | --force-errors ablated|kept] [--node-threshold T | --thresholds a,b,c] [--start-layer L] ' +
    '[--model DIR] [--saes DIR] [--seed S] [--out eval.json] [--json]\n' +
    '  --errors: error nodes kept in the circuit (the paper: all = features, none = features_wo_errs, resid-only = features_wo_some_errs)\n' +
    "  --force-errors: ablation.py's --handle_errors remove/keep: every error ablated/kept in every run, m(∅) included\n" +
    '  default thresholds: logspace(-4, 0, 15); --seed seeds the example shuffle and the resample draw',
  options: {
    circuit: { type: 'string' },
    data: { type: 'string' },
    n: { type: 'string', default: '40' },
    'example-length': { type: 'string' },
    ablation: { type: 'string', default: 'mean' },
    errors: { type: 'string', default: 'all' },
    'force-errors': { type: 'string' },
    'handle-errors': { type: 'string' },
    'node-threshold': { type: 'string' },
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
    if (values['handle-errors'] !== undefined) {
      throw new UsageError('--handle-errors is gone: use --errors all|none|resid-only (the paper\'s variants) or --force-errors ablated|kept (ablation.py\'s remove/keep)');
    }
    const thresholds = thresholdsOf(values);
    const forceErrors = values['force-errors'] === undefined ? null : oneOf(values, 'force-errors', ['ablated', 'kept'] as const);
    const errors = oneOf(values, 'errors', ['all', 'none', 'resid-only'] as const satisfies readonly ErrorVariant[]);
    if (forceErrors && errors !== 'all') throw new UsageError(`--force-errors ${forceErrors} overrides every error mask, so --errors ${errors} would have no effect; give one of them`);
    const out = outPath(values, 'out'); // checked before the job, written atomically after it
    const res = await runCliJob(
      'circuit.evaluate',
      {
        circuit,
        model: (values.model as string | undefined) ?? null,
        saes: (values.saes as string | undefined) ?? null,
        data: dataPath(values.data as string | undefined, 'test'),
        n: num(values, 'n', { int: true, min: 1 }),
        seed: num(values, 'seed', { int: true }),
        ablation: oneOf(values, 'ablation', ['mean', 'zero', 'resample'] as const),
        errors,
        forceErrors,
        thresholds,
        startLayer: values['start-layer'] === undefined ? null : num(values, 'start-layer', { int: true, min: 0 }),
        exampleLength: exampleLength(values),
      },
      { quiet: values.json as boolean },
    );
    if (out) writeFileAtomic(out, JSON.stringify(res, null, 1));
    if (values.json) {
      console.log(JSON.stringify(res));
      return;
    }
    for (const w of res.warnings) console.error(`warning: ${w}`);
    console.log(`${res.examples} examples, submodules ${res.submodules[0]} … ${res.submodules[res.submodules.length - 1]} (layers ≥ ${res.startLayer})`);
    console.log(`${res.ablation} ablation, ${res.forceErrors ? `errors forced ${res.forceErrors}` : `errors in the circuit: ${res.errors}`}`);
    console.log(`m(M) = ${res.mFull.toFixed(4)}   m(∅) = ${res.mEmpty.toFixed(4)}`);
    console.log('threshold     nodes  (errors)  faithfulness  completeness');
    for (const r of res.rows) {
      console.log(`${r.threshold.toExponential(2).padStart(9)}  ${String(r.nodes).padStart(8)}  ${String(r.errors).padStart(8)}  ${r.faithfulness.toFixed(3).padStart(12)}  ${r.completeness.toFixed(3).padStart(12)}`);
    }
    if (values.out) console.log(`wrote ${values.out}`);
  },
};
