import { existsSync, readFileSync } from 'node:fs';
import type { Command } from '../command';
import { UsageError } from '../command';
import { runCliJob } from '../jobs';
import { num, outPath } from '../options';
import { PROBE_RECIPE_OPTIONS, demoDefaults, pct, readProbe, recipeOptions, shiftSaes, trainSetOption } from '../shift-options';
import { SHIFT_DEMO_SAES } from '../../defaults';
import { type CircuitFile, validateCircuitFile } from '../../circuits/circuit-file';
import { METHOD_LABELS } from '../../circuits/shift';
import { formatJudgementJsonl, parseJudgementJsonl } from '../../data/judgements';
import { writeFileAtomic } from '../../util/atomic-write';
import type { ProbeFile } from '../../circuits/probe-file';

const SUBS = ['discover', 'features', 'run'] as const;

/** --model / --data: given, else the probe's own (recorded in its file). */
function sources(values: Record<string, unknown>, probe: ProbeFile, probeFile: string): { model: string; data: string; saes: string } {
  const pick = (key: 'model' | 'data', recorded: string): string => {
    const v = values[key] as string | undefined;
    const p = v ?? recorded;
    if (!existsSync(p)) throw new UsageError(v ? `--${key} ${v}: no such ${key === 'model' ? 'folder' : 'file or folder'}` : `--${key}: not given, and the probe's ${key} (${recorded}, recorded in ${probeFile}) is not there`);
    return p;
  };
  const model = pick('model', probe.provenance.model.path);
  const saes = values.saes === undefined && demoDefaults(model) ? SHIFT_DEMO_SAES : values.saes === undefined ? '' : shiftSaes(values);
  if (!saes) throw new UsageError('--saes is required (the SAE folder of the model) unless the model is the SHIFT demo');
  return { model, data: pick('data', probe.provenance.data.path), saes };
}

function readCircuit(file: string): CircuitFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--circuit ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `invalid JSON (${(e as Error).message})`}`);
  }
  const c = validateCircuitFile(raw, file);
  if (c.parameters.metric?.kind !== 'probe') throw new UsageError(`--circuit ${file}: not a classifier circuit (write one with \`sfc shift discover\`)`);
  return c;
}

const probeParams = (p: ProbeFile) => ({ layer: p.layer, weight: p.weight, bias: p.bias });

export const shiftCommand: Command = {
  name: 'shift',
  summary: 'SHIFT: the classifier\'s features (discover), what they do (features), and removing the judged-spurious ones (run)',
  usage:
    'sfc shift discover --probe probe.json [--model DIR] [--saes DIR] [--data DIR|FILE] [--n 100] [--batch-size 4] [--steps 10] [--node-threshold T] [--train-set ambiguous|balanced] [--out shift-circuit.json] [--judgements-out FILE] [--json]\n' +
    '       sfc shift features --probe probe.json --circuit shift-circuit.json [--scan 300] [--top 5] [--tokens 8] [--json]\n' +
    '       sfc shift run --probe probe.json --judgements FILE [--circuit shift-circuit.json] [--no-baselines] [--seed 42] [--lr 0.01] [--epochs 1] [--probe-batch-size B] [--skyline-n 100] [--out shift.json] [--json]\n' +
    '  discover: zero-ablation IG with the probe metric; the circuit is the features with effect > T (signed; default 0.1, the SHIFT demo\'s own for the demo)\n' +
    '  --judgements-out: also write a judgement list to fill in (Judgement: "keep" or "ablate" per line)\n' +
    '  run: --judgements is a JSONL judgement list (Name, Judgement keep|ablate, Notes; docs/shift.md); with --circuit only its features count',
  options: {
    probe: { type: 'string' },
    model: { type: 'string' },
    saes: { type: 'string' },
    data: { type: 'string' },
    circuit: { type: 'string' },
    judgements: { type: 'string' },
    'judgements-out': { type: 'string' },
    n: { type: 'string', default: '100' },
    'batch-size': { type: 'string' },
    steps: { type: 'string', default: '10' },
    'node-threshold': { type: 'string' },
    'train-set': { type: 'string', default: 'ambiguous' },
    scan: { type: 'string', default: '300' },
    top: { type: 'string', default: '5' },
    tokens: { type: 'string', default: '8' },
    'no-baselines': { type: 'boolean', default: false },
    'skyline-n': { type: 'string', default: '100' },
    ...PROBE_RECIPE_OPTIONS,
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  positionals: true,
  async run({ values, positionals }) {
    const [sub] = positionals;
    if (!SUBS.includes(sub as (typeof SUBS)[number])) throw new UsageError(sub ? `unknown subcommand '${sub}' (${SUBS.join(', ')})` : `missing subcommand: ${SUBS.join(', ')}`);
    const { file: probeFile, probe } = readProbe(values);
    const src = sources(values, probe, probeFile);
    const quiet = values.json as boolean;
    if (sub === 'discover') return discover(values, probe, src, quiet);
    if (sub === 'features') return features(values, probe, src, quiet);
    return run(values, probe, src, quiet);
  },
};

async function discover(values: Record<string, unknown>, probe: ProbeFile, src: { model: string; data: string; saes: string }, quiet: boolean): Promise<void> {
  const threshold = values['node-threshold'] === undefined ? demoDefaults(src.model)?.threshold ?? 0.1 : num(values, 'node-threshold', { min: 0 });
  const out = outPath(values, 'out') ?? (outPath({ out: 'shift-circuit.json' }, 'out') as string);
  const template = outPath(values, 'judgements-out');
  const res = await runCliJob(
    'shift.discover',
    {
      ...src,
      probe: probeParams(probe),
      trainSet: trainSetOption(values),
      label: probe.label,
      n: num(values, 'n', { int: true, min: 1 }),
      batchSize: values['batch-size'] === undefined ? 4 : num(values, 'batch-size', { int: true, min: 1 }),
      steps: num(values, 'steps', { int: true, min: 1 }),
      threshold,
    },
    { quiet },
  );
  writeFileAtomic(out, JSON.stringify(res.circuit, null, 1));
  if (template) writeFileAtomic(template, formatJudgementJsonl(res.features.map((f) => ({ ...f, judgement: '' as never, annotation: '', note: `effect ${f.effect.toFixed(4)}` }))));
  if (quiet) return console.log(JSON.stringify({ out, judgementsOut: template ?? null, examples: res.examples, threshold, features: res.features, notes: res.notes, seconds: res.seconds }));
  for (const n of res.notes) console.error(`note: ${n}`);
  console.log(`classifier circuit of the probe on resid_${probe.layer}: ${res.features.length} features with effect > ${threshold} (${res.examples} examples)`);
  for (const f of res.features.slice(0, 20)) console.log(`  ${`${f.submodule}/${f.feature}`.padEnd(16)} ${f.effect.toFixed(4)}`);
  if (res.features.length > 20) console.log(`  … and ${res.features.length - 20} more`);
  console.log(`wrote ${out}${template ? ` and the judgement list to fill in, ${template}` : ''} in ${res.seconds.toFixed(1)} s`);
}

async function features(values: Record<string, unknown>, probe: ProbeFile, src: { model: string; data: string; saes: string }, quiet: boolean): Promise<void> {
  const file = values.circuit as string | undefined;
  if (!file) throw new UsageError('--circuit is required (from `sfc shift discover`)');
  const c = readCircuit(file);
  const list = c.nodes.filter((n) => n.feature !== 'error').map((n) => ({ submodule: n.submodule, feature: n.feature as number }));
  if (!list.length) throw new UsageError(`--circuit ${file}: the circuit has no features`);
  const res = await runCliJob(
    'shift.features',
    { ...src, probe: probeParams(probe), features: list, scan: num(values, 'scan', { int: true, min: 1 }), top: num(values, 'top', { int: true, min: 1 }), tokens: num(values, 'tokens', { int: true, min: 0 }) },
    { quiet },
  );
  if (quiet) return console.log(JSON.stringify(res));
  const effect = new Map(c.nodes.map((n) => [`${n.submodule}/${n.feature}`, n.effect]));
  for (const f of res.features) {
    const name = `${f.submodule}/${f.feature}`;
    console.log(`${name}  effect ${effect.get(name)?.toFixed(4)}  active in ${f.active}/${res.scanned} biographies`);
    console.log(`  promotes: ${f.topTokens.map((t) => JSON.stringify(t.token.replace(/^Ġ/, ' '))).join(' ')}`);
    for (const x of f.contexts) {
      const from = Math.max(0, x.position - 8);
      const text = x.tokens.slice(from, x.position + 3).map((t, i) => (from + i === x.position ? `[[${t.replace(/^Ġ/, ' ')}]]` : t.replace(/^Ġ/, ' '))).join('');
      console.log(`  ${x.activation.toFixed(3).padStart(7)}  …${text}…`);
    }
  }
}

async function run(values: Record<string, unknown>, probe: ProbeFile, src: { model: string; data: string; saes: string }, quiet: boolean): Promise<void> {
  const jfile = values.judgements as string | undefined;
  if (!jfile) throw new UsageError('--judgements is required (a JSONL judgement list: Name, Judgement keep|ablate)');
  let text: string;
  try {
    text = readFileSync(jfile, 'utf8');
  } catch (e) {
    throw new UsageError(`--judgements ${jfile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let rows;
  try {
    rows = parseJudgementJsonl(text, jfile).rows;
  } catch (e) {
    throw new UsageError(`--judgements ${(e as Error).message}`);
  }
  let ablate = rows.filter((r) => r.judgement === 'ablate').map((r) => ({ submodule: r.submodule, feature: r.feature }));
  if (values.circuit !== undefined) {
    const c = readCircuit(values.circuit as string);
    const keys = new Set(c.nodes.map((n) => `${n.submodule}/${n.feature}`));
    ablate = ablate.filter((f) => keys.has(`${f.submodule}/${f.feature}`));
  }
  if (!ablate.length) throw new UsageError(`--judgements ${jfile}: no feature is judged "ablate"${values.circuit ? ' among the circuit\'s features' : ''}`);
  const out = outPath(values, 'out');
  const recipe = recipeOptions(values, src.model);
  const res = await runCliJob(
    'shift.run',
    { ...src, ...recipe, probe: probeParams(probe), ablate, baselines: !values['no-baselines'], forwardBatch: 64, skyline: { n: num(values, 'skyline-n', { int: true, min: 1 }), batchSize: 4, steps: 10 } },
    { quiet },
  );
  if (out) writeFileAtomic(out, JSON.stringify(res, null, 1));
  if (quiet) return console.log(JSON.stringify({ out: out ?? null, rows: res.rows, ablated: res.ablated.length, sizes: res.sizes, notes: res.notes, seconds: res.seconds }));
  for (const n of res.notes) console.error(`note: ${n}`);
  const z = res.sizes;
  console.log(`SHIFT with ${res.ablated.length} features ablated; test: balanced ${z.balancedTest}, ambiguous ${z.ambiguousTest} biographies; accuracies in %`);
  console.log('method             profession  gender  worst group  ambiguous');
  for (const r of res.rows) console.log(`${METHOD_LABELS[r.method].padEnd(17)}  ${pct(r.profession).padStart(10)}  ${pct(r.gender).padStart(6)}  ${pct(r.worstGroup).padStart(11)}  ${pct(r.ambiguous).padStart(9)}`);
  if (out) console.log(`wrote ${out}`);
}
