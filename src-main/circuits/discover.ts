/**
 * The discovery driver (docs/method-notes.md, Aggregation; Driver and example loading): batches → node effects → thresholded selection → edge
 * blocks → aggregation, with the example-weighted mean across batches.
 */
import { releaseFreeMemory } from '../engine/native-kernels';
import { Tensor } from '../engine/tensor';
import { describeNonFinite, firstNonFinite } from '../engine/finite';
import type { JobContext } from '../util/job-context';
import { type Profiler, timed } from '../engine/profile';
import { type Aggregation, type EdgeSums, attributeEdges, yEdges } from './edges';
import { type NodeEffect, type NodeMethod, attributeNodes } from './nodes';
import { type CircuitContext, type MetricInputs, type RunState, saeOf } from './state';
import type { Batch } from '../models/neox-model';

/** One example, tokenized: prefixes and answer ids. patch is null for no-pair data. */
export interface PreparedExample {
  clean: number[];
  patch: number[] | null;
  cleanAnswer: number;
  patchAnswer: number | null;
  /** Class label (0 or 1) of a classification example, read by probeMetric. */
  label?: number;
}

/** How a batch of examples becomes the metric's inputs: discoveryMetric (default) or probeMetric. */
export type DiscoveryMetric = (examples: PreparedExample[]) => MetricInputs;

export interface DiscoverOptions {
  method: NodeMethod;
  steps: number;
  aggregation: Aggregation;
  nodeThreshold: number;
  batchSize: number;
  nodesOnly: boolean;
  /** Default discoveryMetric; probeMetric with a probe view of the model (NeoxModel.withProbe). */
  metric?: DiscoveryMetric;
  profiler?: Profiler;
  /** Filled in: downstream nodes selected for edges (summed over batches), and each batch's seconds. */
  stats?: { selected: number; batchSeconds?: number[] };
  /**
   * Called with each batch's clean and patch states (activations, features, errors) before its
   * edges, so callers can take statistics from passes discovery runs anyway (SAE quality).
   */
  onBatch?: (batch: ObservedBatch) => void;
}

export interface ObservedBatch {
  /** Index of the batch's first example. */
  first: number;
  clean: Batch;
  patch: Batch | null;
  cleanRun: RunState;
  patchRun: RunState | null;
}

export interface NodeTotals {
  /** Σ over examples of the aggregated effect: sum → [F+1]; none → [S·(F+1)] (error at F). */
  effects: Map<string, Float64Array>;
  edges: EdgeSums | null;
  /** Σ over examples of m(patch) − m(clean), or null without patches. */
  totalEffect: number | null;
  examples: number;
  /** Sequence length (for `none`). */
  positions: number;
}

/** The discovery metric: paired m = logit(patch) − logit(clean); no pair m = −logit(clean). */
export function discoveryMetric(examples: PreparedExample[]): MetricInputs {
  const B = examples.length;
  const paired = examples[0].patch !== null;
  const J = paired ? 2 : 1;
  const ids = new Int32Array(B * J);
  const coef = new Float32Array(B * J);
  examples.forEach((e, b) => {
    if (paired) {
      ids[b * 2] = e.patchAnswer!;
      coef[b * 2] = 1;
      ids[b * 2 + 1] = e.cleanAnswer;
      coef[b * 2 + 1] = -1;
    } else {
      ids[b] = e.cleanAnswer;
      coef[b] = -1;
    }
  });
  return { ids: new Tensor(ids, [B, J]), coef: new Tensor(coef, [B, J]) };
}

/**
 * The SHIFT metric (docs/shift.md): the probe's logit for label 0 and its negation for label 1,
 * i.e. pressure towards the wrong class. It needs a probe view of the model, whose metric head
 * multiplies the probe logit by coef and reads no answer ids.
 */
export function probeMetric(examples: PreparedExample[]): MetricInputs {
  const B = examples.length;
  const coef = new Float32Array(B);
  examples.forEach((e, b) => {
    if (e.label !== 0 && e.label !== 1) throw new Error(`the probe metric needs a label 0 or 1 on every example; example ${b + 1} has ${String(e.label)}`);
    coef[b] = e.label === 0 ? 1 : -1;
  });
  return { ids: new Tensor(new Int32Array(B), [B, 1]), coef: new Tensor(coef, [B, 1]) };
}

export async function discover(
  ctx: CircuitContext,
  examples: PreparedExample[],
  opts: DiscoverOptions,
  job?: JobContext,
): Promise<NodeTotals> {
  if (!examples.length) throw new Error('no examples to attribute');
  const paired = examples[0].patch !== null;
  if (examples.some((e) => (e.patch !== null) !== paired)) throw new Error('examples mix paired and no-pair data');
  const positions = Math.max(...examples.map((e) => e.clean.length));
  if (opts.aggregation === 'none' && examples.some((e) => e.clean.length !== positions || (e.patch && e.patch.length !== positions))) {
    throw new Error("aggregation 'none' needs every example to have the same number of tokens");
  }
  const effects = new Map<string, Float64Array>();
  for (const name of ctx.submodules) {
    const F1 = saeOf(ctx, name).f + 1;
    effects.set(name, new Float64Array(opts.aggregation === 'sum' ? F1 : positions * F1));
  }
  const edges: EdgeSums | null = opts.nodesOnly ? null : new Map();
  let total = 0;
  const nBatches = Math.ceil(examples.length / opts.batchSize);
  for (let bi = 0; bi < nBatches; bi++) {
    const batchStart = performance.now();
    const part = examples.slice(bi * opts.batchSize, (bi + 1) * opts.batchSize);
    const sub: JobContext | undefined = job && {
      checkCancelled: () => job.checkCancelled(),
      progress: (f, msg) => job.progress((bi + (f ?? 0)) / nBatches, `batch ${bi + 1}/${nBatches}: ${msg}`),
    };
    const clean = ctx.model.batchFromIds(part.map((e) => e.clean));
    const patch = paired ? ctx.model.batchFromIds(part.map((e) => e.patch!)) : null;
    if (patch && patch.tokens.shape[1] !== clean.tokens.shape[1]) {
      throw new Error(`batch ${bi + 1}: clean and patch prefixes have different token lengths`);
    }
    const S = clean.tokens.shape[1];
    const metric = (opts.metric ?? discoveryMetric)(part);
    const nodes = await attributeNodes(ctx, clean, patch, metric, { method: opts.method, steps: opts.steps, job: sub && phase(sub, 0, opts.nodesOnly ? 1 : 0.5), profiler: opts.profiler });
    opts.onBatch?.({ first: bi * opts.batchSize, clean, patch, cleanRun: nodes.clean, patchRun: nodes.patch });
    releaseFreeMemory(); // the IG buffers onnxruntime freed: give them back before the edges
    for (const run of [nodes.clean, nodes.patch]) {
      const b = run ? firstNonFinite(run.metric) : -1;
      if (run && b >= 0) {
        throw new Error(`discovery: the metric is ${run.metric[b]} on the ${run === nodes.clean ? 'clean' : 'patch'} prefix of example ${bi * opts.batchSize + b + 1} (the model overflows float32 on it); no circuit was written`);
      }
    }
    if (nodes.totalEffect) total += nodes.totalEffect.reduce((a, b) => a + b, 0);
    await timed(opts.profiler, 'aggregation', async () => accumulateNodes(ctx, nodes.effects, effects, opts.aggregation, S));
    if (edges) {
      if (opts.method === 'exact') throw new Error("edges need gradients: use method 'ig' or 'attrib' (or --nodes-only)");
      await timed(opts.profiler, 'edges', () =>
        attributeEdges(ctx, clean, nodes, { nodeThreshold: opts.nodeThreshold, aggregation: opts.aggregation, job: sub && phase(sub, 0.5, 1), stats: opts.stats }, edges),
      );
      const last = ctx.submodules[ctx.submodules.length - 1];
      const key = `${last}->y`;
      if (!edges.has(key)) edges.set(key, new Map());
      yEdges(ctx, nodes, last, S, opts.aggregation, edges.get(key)!);
    }
    releaseFreeMemory();
    opts.stats?.batchSeconds?.push((performance.now() - batchStart) / 1000);
  }
  const totals = { effects, edges, totalEffect: paired ? total : null, examples: examples.length, positions };
  assertFiniteTotals(totals);
  return totals;
}

/**
 * Refuses a result holding NaN or ±Infinity (activations or gradients that overflowed float32):
 * thresholds would silently drop every NaN node and leave an empty circuit with a NaN total
 * effect that looks like a finding. Names the quantity and submodule.
 */
export function assertFiniteTotals(t: NodeTotals): void {
  const problems: string[] = [];
  if (t.totalEffect !== null && !Number.isFinite(t.totalEffect)) problems.push(`total effect m(patch) − m(clean) is ${t.totalEffect}`);
  for (const [name, sums] of t.effects) {
    const bad = describeNonFinite(sums);
    if (bad) problems.push(`node effects of ${name}: ${bad}`);
  }
  for (const [key, m] of t.edges ?? []) {
    let n = 0;
    for (const v of m.values()) if (!Number.isFinite(v)) n++;
    if (n) problems.push(`edge weights ${key}: ${n} non-finite`);
  }
  if (problems.length) {
    const shown = problems.slice(0, 4).join('; ') + (problems.length > 4 ? `; and ${problems.length - 4} more` : '');
    throw new Error(`discovery produced non-finite results (${shown}): the model or SAEs overflow float32 on these examples; no circuit was written`);
  }
}

/** Adds one batch's per-token effects into the running sums ([F+1] or [S·(F+1)] per submodule). */
function accumulateNodes(ctx: CircuitContext, batch: Map<string, NodeEffect>, sums: Map<string, Float64Array>, aggregation: Aggregation, S: number): void {
  for (const name of ctx.submodules) {
    const e = batch.get(name)!;
    const acc = sums.get(name)!;
    const F = saeOf(ctx, name).f;
    for (let n = 0; n < e.resc.length; n++) {
      const base = aggregation === 'sum' ? 0 : (n % S) * (F + 1);
      for (let q = e.act.ptr[n]; q < e.act.ptr[n + 1]; q++) acc[base + e.act.idx[q]] += e.act.val[q];
      acc[base + F] += e.resc[n];
    }
  }
}

function phase(job: JobContext, from: number, to: number): JobContext {
  return { checkCancelled: job.checkCancelled, progress: (f, m) => job.progress(from + (f ?? 0) * (to - from), m) };
}
