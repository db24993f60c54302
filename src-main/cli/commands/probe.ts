import { resolve } from 'node:path';
import type { Command } from '../command';
import { UsageError } from '../command';
import { runCliJob } from '../jobs';
import { num, outPath } from '../options';
import { PROBE_RECIPE_OPTIONS, demoDefaults, labelOption, pct, recipeOptions, shiftData, shiftModel, trainSetOption } from '../shift-options';
import { PROBE_FORMAT, type ProbeFile } from '../../circuits/probe-file';
import { writeFileAtomic } from '../../util/atomic-write';
import { contentHash } from '../../util/hash';

export const probeCommand: Command = {
  name: 'probe',
  summary: 'Train a linear probe on a layer\'s mean-pooled residual stream (SHIFT classifier; default: the SHIFT demo)',
  usage:
    'sfc probe train [--model DIR] [--data DIR|FILE] [--layer L] [--train-set ambiguous|balanced] [--label profession|gender] ' +
    '[--seed 42] [--lr 0.01] [--epochs 1] [--probe-batch-size B] [--weight-decay 0.01] [--batch-size 64] [--out probe.json] [--json]\n' +
    '  --data: Bias in Bios as a folder with train.jsonl and test.jsonl, or one JSONL with a "split" field (default: the SHIFT demo\'s biographies)\n' +
    '  --layer: the residual stream the probe reads (resid_L); the SHIFT demo\'s own layer by default, else required\n' +
    '  --probe-batch-size: examples per optimiser step (default 32; the SHIFT demo\'s recipe for the demo model); --batch-size: biographies per forward pass',
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    layer: { type: 'string' },
    'train-set': { type: 'string', default: 'ambiguous' },
    label: { type: 'string', default: 'profession' },
    ...PROBE_RECIPE_OPTIONS,
    'batch-size': { type: 'string', default: '64' },
    out: { type: 'string', default: 'probe.json' },
    json: { type: 'boolean', default: false },
  },
  positionals: true,
  async run({ values, positionals }) {
    const [sub] = positionals;
    if (sub !== 'train') throw new UsageError(sub ? `unknown subcommand '${sub}' (only 'train')` : "missing subcommand: 'train'");
    const model = shiftModel(values);
    const data = shiftData(values);
    const demo = demoDefaults(model);
    if (values.layer === undefined && !demo) throw new UsageError('--layer is required (the probe reads resid_<layer>) unless the model is the SHIFT demo');
    const layer = values.layer === undefined ? demo!.layer : num(values, 'layer', { int: true, min: 0 });
    const recipe = recipeOptions(values, model);
    const trainSet = trainSetOption(values);
    const label = labelOption(values);
    const out = outPath(values, 'out')!;
    const res = await runCliJob(
      'probe.train',
      { model, data, layer, trainSet, label, saes: null, ablate: [], forwardBatch: num(values, 'batch-size', { int: true, min: 1 }), ...recipe },
      { quiet: values.json as boolean },
    );
    const file: ProbeFile = {
      format: PROBE_FORMAT,
      version: 1,
      createdAt: new Date().toISOString(),
      layer,
      weight: res.probe.weight,
      bias: res.probe.bias,
      trainSet,
      label,
      ablated: [],
      recipe,
      accuracy: { train: res.trainAccuracy, ...res.scores },
      provenance: { model: { path: resolve(model), sha256: contentHash(resolve(model)) }, data: { path: resolve(data), sha256: contentHash(resolve(data)) } },
    };
    writeFileAtomic(out, JSON.stringify(file, null, 1));
    if (values.json) return console.log(JSON.stringify({ out, layer, trainSet, label, examples: res.examples, trainAccuracy: res.trainAccuracy, scores: res.scores, data: res.dataReport, notes: res.notes, seconds: res.seconds }));
    for (const n of res.notes) console.error(`note: ${n}`);
    const s = res.scores;
    console.log(`probe on resid_${layer}, trained on the ${trainSet} train set (${res.examples} biographies, ${label} labels): train accuracy ${pct(res.trainAccuracy)} %`);
    console.log(`test: profession ${pct(s.profession)} %, gender ${pct(s.gender)} %, worst group ${pct(s.worstGroup)} %, ambiguous ${pct(s.ambiguous)} %`);
    console.log(`wrote ${out} in ${res.seconds.toFixed(1)} s`);
  },
};
