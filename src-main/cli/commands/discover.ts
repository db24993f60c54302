import type { Command } from '../command';
import { DB_OPTION, withStore } from '../store';
import { refsFromPaths } from '../../store/inputs';
import { saveDiscovery } from '../../store/save';
import { UsageError } from '../command';
import { runCliJob } from '../jobs';
import { dataPath, exampleLength, modelPath, num, oneOf, outPath, saesPath } from '../options';
import { writeFileAtomic } from '../../util/atomic-write';
import { formatReport } from '../../data/common';
import { nativeKernelStatus } from '../../engine/native-kernels';

export const discoverCommand: Command = {
  name: 'discover',
  summary: 'Discover the feature circuit behind a behaviour (IG node effects, edges, aggregation)',
  usage:
    'sfc discover [--model DIR] [--saes DIR] --data FILE|simple|nounpp|rc|within_rc [--nopair] [--method ig|attrib|exact] [--steps N] ' +
    '[--aggregation sum|none] [--node-threshold T] [--edge-threshold T] [--n N] [--example-length L] [--batch-size B] [--seed S] [--neurons] [--nodes-only] [--keep-all] [--out circuit.json] [--json] [--save [--name NAME]] [--db FILE]\n' +
    '  --save: also keep the circuit in the store (the app\'s library; --db FILE or SFC_DB picks another file)\n' +
    '  --example-length L: only examples whose clean prefix has exactly L tokens (default: the shortest length found, the min-length rule)',
  options: {
    model: { type: 'string' },
    saes: { type: 'string' },
    data: { type: 'string' },
    nopair: { type: 'boolean', default: false },
    method: { type: 'string', default: 'ig' },
    steps: { type: 'string', default: '10' },
    aggregation: { type: 'string', default: 'sum' },
    'node-threshold': { type: 'string', default: '0.1' },
    'edge-threshold': { type: 'string', default: '0.01' },
    n: { type: 'string', default: '100' },
    'example-length': { type: 'string' },
    'batch-size': { type: 'string', default: '10' },
    seed: { type: 'string', default: '12' },
    neurons: { type: 'boolean', default: false },
    'nodes-only': { type: 'boolean', default: false },
    'keep-all': { type: 'boolean', default: false },
    out: { type: 'string', default: 'circuit.json' },
    json: { type: 'boolean', default: false },
    save: { type: 'boolean', default: false },
    name: { type: 'string' },
    ...DB_OPTION,
  },
  async run({ values }) {
    const neurons = values.neurons as boolean;
    const method = oneOf(values, 'method', ['ig', 'attrib', 'exact'] as const);
    const nodesOnly = values['nodes-only'] as boolean;
    if (method === 'exact' && !nodesOnly) throw new UsageError("--method exact computes no gradients, so it needs --nodes-only");
    const params = {
      model: modelPath(values),
      saes: neurons ? null : saesPath(values, true),
      data: dataPath(values.data as string | undefined, 'train'),
      nopair: values.nopair as boolean,
      method,
      steps: num(values, 'steps', { int: true, min: 1 }),
      aggregation: oneOf(values, 'aggregation', ['sum', 'none'] as const),
      nodeThreshold: num(values, 'node-threshold', { min: 0 }),
      edgeThreshold: num(values, 'edge-threshold', { min: 0 }),
      n: num(values, 'n', { int: true, min: 1 }),
      batchSize: num(values, 'batch-size', { int: true, min: 1 }),
      seed: num(values, 'seed', { int: true }),
      neurons,
      nodesOnly,
      keepAll: values['keep-all'] as boolean,
      exampleLength: exampleLength(values),
    };
    // Checked before the job: an unwritable --out should not cost the whole computation.
    const out = outPath(values, 'out')!;
    if (values.save && values.name !== undefined) {
      // A taken name is refused before the computation, not after it.
      const name = values.name as string;
      await withStore(values, (store) => {
        if (store.circuits.freeName(name) !== name) throw new UsageError(`--name: a circuit named '${name}' already exists in the store; choose another name`);
      });
    }
    const res = await runCliJob('circuit.discover', params, { quiet: values.json as boolean });
    writeFileAtomic(out, JSON.stringify(res.circuit, null, 1));
    const c = res.circuit;
    const saved = values.save
      ? await withStore(values, (store) => {
          const refs = store.action(() => refsFromPaths(store, params));
          const name = values.name as string | undefined;
          const dataset = store.library.dataset(refs.datasetId);
          return saveDiscovery(store, c, { ...refs, name: name ?? `${dataset.name} ${c.parameters.method}`, explicitName: name !== undefined });
        })
      : null;
    const summary = {
      out,
      saved: saved && { id: saved.id, name: saved.name },
      examples: c.parameters.examples,
      nodes: c.nodes.length,
      edges: c.edges?.length ?? null,
      totalEffect: c.totalEffect,
      seconds: res.seconds,
      /** Loading and each batch, in seconds (the first batch also compiles the graphs). */
      timings: res.timings,
      data: res.dataReport,
      saeQuality: res.saeQuality,
      notes: res.notes,
      /** Which SAE kernels ran: the native addon, or the TypeScript fallback and why. */
      kernels: nativeKernelStatus,
    };
    if (values.json) {
      console.log(JSON.stringify(summary));
      return;
    }
    for (const n of res.notes) console.error(`note: ${n}`);
    console.log(formatReport(res.dataReport));
    if (res.saeQuality.length) {
      console.log(`SAE reconstruction on ${res.saeQuality[0].tokens} tokens (variance explained, mean L0):`);
      console.log(res.saeQuality.map((q) => `  ${q.submodule.padEnd(8)} ${(q.varianceExplained * 100).toFixed(1).padStart(6)}%  L0 ${q.meanL0.toFixed(1)}`).join('\n'));
    }
    const kept = params.keepAll
      ? 'every nonzero effect and weight (--keep-all)'
      : `|effect| > ${params.nodeThreshold}${c.edges ? `, |weight| > ${params.edgeThreshold}` : ''}`;
    console.log(`circuit: ${c.nodes.length} nodes${c.edges ? `, ${c.edges.length} edges` : ''} (${kept})`);
    if (c.totalEffect !== null) console.log(`total effect m(patch) − m(clean): ${c.totalEffect.toFixed(4)}`);
    console.log(`wrote ${out} in ${res.seconds.toFixed(1)} s`);
    if (saved) console.log(`saved as circuit ${saved.id} '${saved.name}' in ${values.db ?? 'the store'}`);
  },
};
