/**
 * SHIFT (docs/shift.md): the classifier's features by zero-ablation IG with the probe metric,
 * zero ablation of the features a person judged spurious in one forward pass, and the table of
 * the method against its baselines and skylines (Original, CBP, Random, SHIFT, SHIFT + retrain,
 * neuron skyline, feature skyline, Oracle).
 *
 * Discovery is the ordinary discovery driver (circuits/discover.ts) run on a probe view of the
 * model (NeoxModel.withProbe) with probeMetric; ablation is the ordinary ablated pass
 * (circuits/ablation.ts) with zero values and masks that keep everything but the chosen features.
 */
import type { BiosData, Group, Split } from '../data/bias-in-bios';
import { GROUPS } from '../data/bias-in-bios';
import { PyRandom } from '../data/py-random';
import type { NeoxModel } from '../models/neox-model';
import type { JobContext } from '../util/job-context';
import { type AblationValues, type CircuitMask, ablatedForward } from './ablation';
import { type NodeTotals, type PreparedExample, discover, probeMetric } from './discover';
import { type LinearProbe, type ProbeRecipe, type ResidualRun, accuracy, plainRun, pooledResiduals, predict, probeHead, takeRows, trainProbe } from './probe';
import { emptyRows, sparsify } from './sparse';
import { type CircuitContext, saeOf } from './state';
import { identitySaeSet } from '../saes/identity';

/** One SAE feature (error nodes are never judged or ablated). */
export interface FeatureRef {
  submodule: string;
  feature: number;
}

export interface ScoredFeature extends FeatureRef {
  /** Mean over examples of the effect summed over positions. */
  effect: number;
}

export type LabelKind = 'profession' | 'gender';

/** Tokenized Bias in Bios sets: ids of every kept row, per split. */
export interface TokenizedBios extends BiosData {
  ids: Record<Split, number[][]>;
  /** Rows whose text was cut to the model's context length. */
  truncated: number;
}

/** Token ids of every row, cut to `maxTokens` (the model's context); a row with no tokens is an error naming it. */
export function tokenizeBios(model: NeoxModel, data: BiosData, maxTokens = model.cfg.maxPositions): TokenizedBios {
  const tok = model.tokenizer;
  if (!tok) throw new Error(`${model.path}: the model has no tokenizer.json, which text data needs`);
  let truncated = 0;
  const ids = {} as Record<Split, number[][]>;
  for (const s of ['train', 'test'] as const) {
    ids[s] = data[s].rows.map((r, i) => {
      let t: number[];
      try {
        t = tok.encode(r.text);
      } catch (e) {
        throw new Error(`${data.source}: ${s} biography ${i + 1}: ${(e as Error).message}`);
      }
      if (!t.length) throw new Error(`${data.source}: ${s} biography ${i + 1} has no tokens`);
      if (t.length > maxTokens) {
        truncated++;
        t = t.slice(0, maxTokens);
      }
      return t;
    });
  }
  return { ...data, ids, truncated };
}

export function labelsOf(data: BiosData, split: Split, kind: LabelKind): Uint8Array {
  return Uint8Array.from(data[split].rows, (r) => r[kind]);
}

/** A circuit context whose model is cut at the probe layer with the probe as its metric. */
export function probeContext(base: CircuitContext, probe: LinearProbe, layer: number): CircuitContext {
  const model = base.model.withProbe(probeHead(probe, layer));
  return { ...base, model, submodules: model.hookPoints };
}

export interface ClassifierDiscoveryOptions {
  /** IG steps (10). */
  steps: number;
  batchSize: number;
  /** Features with mean effect > threshold (signed) are selected. */
  threshold: number;
  job?: JobContext;
}

/**
 * Node effects of zero-ablation IG under the probe metric (patch = none, sum over positions,
 * example-weighted mean), and the features whose effect exceeds the threshold, strongest first.
 * `ctx` is a probe context (probeContext).
 */
export async function discoverClassifierFeatures(
  ctx: CircuitContext,
  examples: { ids: number[]; label: number }[],
  o: ClassifierDiscoveryOptions,
): Promise<{ totals: NodeTotals; ranked: ScoredFeature[]; selected: ScoredFeature[] }> {
  if (!ctx.model.probe) throw new Error('classifier discovery needs a probe view of the model (NeoxModel.withProbe)');
  const prepared: PreparedExample[] = examples.map((e) => ({ clean: e.ids, patch: null, cleanAnswer: -1, patchAnswer: null, label: e.label }));
  const totals = await discover(ctx, prepared, { method: 'ig', steps: o.steps, aggregation: 'sum', nodeThreshold: o.threshold, batchSize: o.batchSize, nodesOnly: true, metric: probeMetric }, o.job);
  const ranked = rankFeatures(ctx, totals);
  return { totals, ranked, selected: ranked.filter((f) => f.effect > o.threshold) };
}

/** Every feature with a nonzero mean effect, by effect (signed), largest first; ties in model order. */
export function rankFeatures(ctx: CircuitContext, totals: NodeTotals): ScoredFeature[] {
  const out: ScoredFeature[] = [];
  for (const name of ctx.submodules) {
    const sums = totals.effects.get(name)!;
    const F = saeOf(ctx, name).f;
    for (let i = 0; i < F; i++) if (sums[i] !== 0) out.push({ submodule: name, feature: i, effect: sums[i] / totals.examples });
  }
  return out.sort((a, b) => b.effect - a.effect);
}

/** Checks features against the context's submodules and widths; the message names the feature. */
export function checkFeatures(ctx: CircuitContext, features: readonly FeatureRef[], what: string): void {
  const seen = new Set<string>();
  for (const f of features) {
    const name = `${f.submodule}/${f.feature}`;
    if (!ctx.submodules.includes(f.submodule)) throw new Error(`${what}: ${name}: submodule '${f.submodule}' is not one of the probe's submodules (${ctx.submodules.join(', ')})`);
    const F = saeOf(ctx, f.submodule).f;
    if (!Number.isInteger(f.feature) || f.feature < 0 || f.feature >= F) throw new Error(`${what}: ${name}: feature out of range (${f.submodule} has ${F} features)`);
    if (seen.has(name)) throw new Error(`${what}: ${name} is listed twice`);
    seen.add(name);
  }
}

/**
 * The SHIFT ablation as a residual run: at every submodule with a listed feature, every
 * position, f = encode(x), the listed f_i set to 0, and decode(f) + ε written back (the error
 * is kept); later submodules see the edited stream. Submodules without listed features are not
 * touched. With no features it is the plain forward pass.
 */
export function zeroAblationRun(ctx: CircuitContext, features: readonly FeatureRef[]): ResidualRun {
  checkFeatures(ctx, features, 'ablation');
  if (!features.length) return plainRun(ctx.model);
  const masks: CircuitMask = new Map();
  const values = new Map<string, AblationValues>();
  for (const f of features) {
    const sae = saeOf(ctx, f.submodule);
    if (!masks.has(f.submodule)) {
      masks.set(f.submodule, { keep: [new Uint8Array(sae.f + 1).fill(1)] });
      values.set(f.submodule, { f: emptyRows(1), err: new Float32Array(sae.d), rowOf: () => 0, examples: null, positions: null });
    }
    masks.get(f.submodule)!.keep[0][f.feature] = 0;
  }
  return (batch) => ablatedForward(ctx, batch, values, masks, { complement: false, forceErrors: null });
}

/**
 * Mean ablation of neurons (the neuron skyline): in a context with identity dictionaries, each
 * listed neuron is set at every position to its mean over the batch's positions (padding
 * included); later submodules see the edited stream. The means are taken from the batch's clean
 * forward pass (the original's hook takes them from the stream as already edited upstream).
 */
export function meanAblationRun(nctx: CircuitContext, neurons: readonly FeatureRef[]): ResidualRun {
  checkFeatures(nctx, neurons, 'neuron ablation');
  if (neurons.some((f) => saeOf(nctx, f.submodule).kind !== 'identity')) throw new Error('mean ablation of neurons needs identity dictionaries');
  if (!neurons.length) return plainRun(nctx.model);
  const bySub = new Map<string, number[]>();
  for (const f of neurons) bySub.set(f.submodule, [...(bySub.get(f.submodule) ?? []), f.feature]);
  return async (batch) => {
    const [B, S] = batch.tokens.shape;
    const { acts } = await nctx.model.forward(batch);
    const masks: CircuitMask = new Map();
    const values = new Map<string, AblationValues>();
    for (const [sub, idx] of bySub) {
      const D = saeOf(nctx, sub).d;
      const x = acts.get(sub)!.data;
      const mean = new Float32Array(D);
      for (const i of idx) {
        let m = 0;
        for (let n = 0; n < B * S; n++) m += x[n * D + i];
        mean[i] = m / (B * S);
      }
      const keep = new Uint8Array(D + 1).fill(1);
      for (const i of idx) keep[i] = 0;
      masks.set(sub, { keep: [keep] });
      values.set(sub, { f: sparsify(mean, 1, D), err: new Float32Array(D), rowOf: () => 0, examples: null, positions: null });
    }
    return ablatedForward(nctx, batch, values, masks, { complement: false, forceErrors: null });
  };
}

/** `count` distinct features drawn uniformly from every feature of the context's submodules (Python's random.Random(seed)). */
export function randomFeatures(ctx: CircuitContext, count: number, seed: number): FeatureRef[] {
  const widths = ctx.submodules.map((s) => saeOf(ctx, s).f);
  const total = widths.reduce((a, b) => a + b, 0);
  if (count > total) throw new Error(`cannot draw ${count} random features from ${total}`);
  const rng = new PyRandom(seed);
  const seen = new Set<number>();
  const out: FeatureRef[] = [];
  while (out.length < count) {
    const k = rng.randbelow(total);
    if (seen.has(k)) continue;
    seen.add(k);
    let j = 0;
    let r = k;
    while (r >= widths[j]) r -= widths[j++];
    out.push({ submodule: ctx.submodules[j], feature: r });
  }
  return out;
}

/** The 20 keywords of concept bottleneck probing (each fed alone, with a leading space). */
export const CBP_KEYWORDS = [
  'nurse', 'healthcare', 'hospital', 'patient', 'medical', 'clinic', 'triage', 'medication', 'emergency', 'surgery',
  'professor', 'academia', 'research', 'university', 'tenure', 'faculty', 'dissertation', 'sabbatical', 'publication', 'grant',
];

export type ShiftMethod = 'original' | 'cbp' | 'random' | 'shift' | 'shift_retrain' | 'neuron_skyline' | 'feature_skyline' | 'oracle';
export const METHOD_LABELS: Record<ShiftMethod, string> = {
  original: 'Original',
  cbp: 'CBP',
  random: 'Random',
  shift: 'SHIFT',
  shift_retrain: 'SHIFT + retrain',
  neuron_skyline: 'Neuron skyline',
  feature_skyline: 'Feature skyline',
  oracle: 'Oracle',
};

/** One row of the table: accuracies in [0, 1] on the test split. */
export interface ShiftRow {
  method: ShiftMethod;
  /** Balanced test set: predictions against profession labels (↑) and against gender labels (↓, 0.5 = no gender signal). */
  profession: number;
  gender: number;
  /** Lowest profession accuracy over the four test subgroups (↑). */
  worstGroup: number;
  groups: Record<Group, number>;
  /** Ambiguous test set (profession = gender labels). */
  ambiguous: number;
  /** Features ablated (null: none). */
  ablated: number | null;
}

export interface ShiftRunOptions {
  /** The features judged spurious. */
  ablate: FeatureRef[];
  /** Also run CBP, Random, the neuron and feature skylines and the Oracle. */
  baselines: boolean;
  /** Seeds the random features and every probe trained here. */
  seed: number;
  recipe: Partial<ProbeRecipe>;
  /** Forward batch size. */
  batchSize: number;
  /** Skyline discovery (features and neurons): examples from the balanced train set, batch size, IG steps. */
  skyline: { n: number; batchSize: number; steps: number };
  keywords?: string[];
  job?: JobContext;
}

export interface ShiftResult {
  rows: ShiftRow[];
  ablated: FeatureRef[];
  random: FeatureRef[];
  skyline: ScoredFeature[];
  /** The neuron skyline's neurons (feature = neuron index), mean-ablated. */
  neuronSkyline: ScoredFeature[];
  /** The probe retrained on the ablated model (SHIFT + retrain) and the Oracle. */
  probes: { shiftRetrain: LinearProbe; oracle: LinearProbe | null };
  sizes: { ambiguousTrain: number; balancedTrain: number; balancedTest: number; ambiguousTest: number; groups: Record<Group, number> };
  notes: string[];
}

/** Table row from predictions over every test row. */
export function scoreRow(method: ShiftMethod, pred: Uint8Array, data: BiosData, ablated: number | null): ShiftRow {
  const t = data.test;
  const prof = Uint8Array.from(t.rows, (r) => r.profession);
  const gender = Uint8Array.from(t.rows, (r) => r.gender);
  const groups = Object.fromEntries(GROUPS.map((g) => [g, accuracy(pred, prof, t.groups[g])])) as Record<Group, number>;
  return {
    method,
    profession: accuracy(pred, prof, t.balanced),
    gender: accuracy(pred, gender, t.balanced),
    worstGroup: Math.min(...GROUPS.map((g) => groups[g])),
    groups,
    ambiguous: accuracy(pred, prof, t.ambiguous),
    ablated,
  };
}

/**
 * The SHIFT table for an original probe (trained on the ambiguous train set at `layer`):
 * SHIFT and SHIFT + retrain with the judged features zero-ablated and, with `baselines`, the
 * Original, CBP, Random (as many random features), neuron skyline (as many neurons, ranked the
 * same way, mean-ablated), feature skyline (as many features, ranked by
 * IG on the balanced train set with gender labels) and Oracle rows.
 */
export async function runShift(base: CircuitContext, data: TokenizedBios, original: LinearProbe, layer: number, o: ShiftRunOptions): Promise<ShiftResult> {
  const ctx = probeContext(base, original, layer);
  const model = ctx.model;
  const D = model.cfg.hiddenSize;
  const job = o.job;
  const notes: string[] = [];
  checkFeatures(ctx, o.ablate, 'judgements');
  const recipe = { ...o.recipe, seed: o.seed };
  const tr = data.train;
  const testIds = data.ids.test;
  const profTrain = labelsOf(data, 'train', 'profession');
  const genderTrain = labelsOf(data, 'train', 'gender');
  const steps = o.baselines ? 9 : 3;
  let step = 0;
  const phase = (what: string): JobContext | undefined => {
    const k = step++;
    return job && { checkCancelled: job.checkCancelled, progress: (f, m) => job.progress((k + (f ?? 0)) / steps, `${what}: ${m}`) };
  };
  const pooled = (run: ResidualRun, seqs: number[][], what: string) => pooledResiduals(model, seqs, run, { batchSize: o.batchSize, job: phase(what), what });
  const rows: ShiftRow[] = [];
  const ablatedCount = o.ablate.length;

  // SHIFT: the original probe on ablated activations; SHIFT + retrain: a new head on them.
  const shiftRun = zeroAblationRun(ctx, o.ablate);
  const testShift = await pooled(shiftRun, testIds, 'SHIFT test activations');
  const ambTrainShift = await pooled(shiftRun, tr.ambiguous.map((i) => data.ids.train[i]), 'SHIFT train activations');
  const shiftRetrain = trainProbe(ambTrainShift, tr.ambiguous.map((i) => profTrain[i]), D, recipe);
  const shiftRows = [scoreRow('shift', predict(original, testShift), data, ablatedCount), scoreRow('shift_retrain', predict(shiftRetrain, testShift), data, ablatedCount)];
  let oracle: LinearProbe | null = null;
  let random: FeatureRef[] = [];
  let skyline: ScoredFeature[] = [];
  let neuronSky: ScoredFeature[] = [];
  if (!o.baselines) rows.push(...shiftRows);
  else {
    const cleanRun = plainRun(model);
    const testClean = await pooled(cleanRun, testIds, 'test activations');
    rows.push(scoreRow('original', predict(original, testClean), data, null));

    const trainRows = [...new Set([...tr.ambiguous, ...tr.balanced])].sort((a, b) => a - b);
    const at = new Map(trainRows.map((r, k) => [r, k]));
    const trainClean = await pooled(cleanRun, trainRows.map((i) => data.ids.train[i]), 'train activations');
    const rowsOf = (set: number[]) => takeRows(trainClean, D, set.map((i) => at.get(i)!));

    const cbp = await conceptBottleneck(model, o.keywords ?? CBP_KEYWORDS, notes);
    if (cbp) {
      const zTrain = cbp.project(rowsOf(tr.ambiguous));
      const head = trainProbe(zTrain, tr.ambiguous.map((i) => profTrain[i]), cbp.size, recipe);
      rows.push(scoreRow('cbp', predict(head, cbp.project(testClean)), data, null));
    }

    random = randomFeatures(ctx, ablatedCount, o.seed);
    const testRandom = await pooled(zeroAblationRun(ctx, random), testIds, 'random-ablation test activations');
    rows.push(scoreRow('random', predict(original, testRandom), data, ablatedCount));
    rows.push(...shiftRows);

    const sky = tr.balanced.slice(0, o.skyline.n);
    // The skylines: the same discovery on the gender labels, over neurons (identity dictionaries,
    // top neurons mean-ablated) and over features (top features zero-ablated).
    const skylineTop = async (c: CircuitContext, what: string): Promise<ScoredFeature[]> => {
      const found = await discoverClassifierFeatures(c, sky.map((i) => ({ ids: data.ids.train[i], label: genderTrain[i] })), {
        steps: o.skyline.steps,
        batchSize: o.skyline.batchSize,
        threshold: 0,
        job: phase(`${what} skyline discovery`),
      });
      return found.ranked.slice(0, ablatedCount);
    };
    const nctx: CircuitContext = { ...ctx, saes: identitySaeSet(ctx.submodules, D) };
    neuronSky = await skylineTop(nctx, 'neuron');
    const testNeuron = await pooled(meanAblationRun(nctx, neuronSky), testIds, 'neuron-ablation test activations');
    rows.push(scoreRow('neuron_skyline', predict(original, testNeuron), data, neuronSky.length));
    skyline = await skylineTop(ctx, 'feature');
    const testSky = await pooled(zeroAblationRun(ctx, skyline), testIds, 'skyline-ablation test activations');
    rows.push(scoreRow('feature_skyline', predict(original, testSky), data, skyline.length));

    oracle = trainProbe(rowsOf(tr.balanced), tr.balanced.map((i) => profTrain[i]), D, recipe);
    rows.push(scoreRow('oracle', predict(oracle, testClean), data, null));
  }
  job?.progress(1, 'SHIFT done');
  const t = data.test;
  return {
    rows,
    ablated: o.ablate,
    random,
    skyline,
    neuronSkyline: neuronSky,
    probes: { shiftRetrain, oracle },
    sizes: {
      ambiguousTrain: tr.ambiguous.length,
      balancedTrain: tr.balanced.length,
      balancedTest: t.balanced.length,
      ambiguousTest: t.ambiguous.length,
      groups: Object.fromEntries(GROUPS.map((g) => [g, t.groups[g].length])) as Record<Group, number>,
    },
    notes,
  };
}

/**
 * Concept bottleneck probing: concept vectors c_j = the probe layer's residual at the last
 * token of each keyword fed alone (with a leading space), minus their mean; an input becomes
 * its cosine similarities with the c_j. Keywords the tokenizer cannot encode are left out (and
 * said in `notes`); null when fewer than two remain.
 */
export async function conceptBottleneck(model: NeoxModel, keywords: readonly string[], notes: string[]): Promise<{ size: number; project: (x: Float32Array) => Float32Array } | null> {
  const tok = model.tokenizer!;
  const D = model.cfg.hiddenSize;
  const ids: number[][] = [];
  const missing: string[] = [];
  for (const k of keywords) {
    try {
      const t = tok.encode(` ${k}`);
      if (t.length) ids.push(t);
      else missing.push(k);
    } catch {
      missing.push(k);
    }
  }
  if (missing.length) notes.push(`CBP: ${missing.length} keyword(s) not in the tokenizer's vocabulary, left out: ${missing.join(', ')}`);
  if (ids.length < 2) {
    notes.push('CBP: fewer than two keywords remain; the CBP row is skipped');
    return null;
  }
  const K = ids.length;
  const batch = model.batchFromIds(ids);
  const { h } = await model.forward(batch);
  const S = batch.tokens.shape[1];
  // Left padding: the last position is every keyword's last token.
  const c = new Float64Array(K * D);
  for (let k = 0; k < K; k++) for (let d = 0; d < D; d++) c[k * D + d] = h.data[(k * S + S - 1) * D + d];
  for (let d = 0; d < D; d++) {
    let m = 0;
    for (let k = 0; k < K; k++) m += c[k * D + d] / K;
    for (let k = 0; k < K; k++) c[k * D + d] -= m;
  }
  const cn = Float64Array.from({ length: K }, (_, k) => Math.hypot(...c.subarray(k * D, (k + 1) * D)));
  return {
    size: K,
    project(x) {
      const N = x.length / D;
      const z = new Float32Array(N * K);
      for (let n = 0; n < N; n++) {
        let xn = 0;
        for (let d = 0; d < D; d++) xn += x[n * D + d] ** 2;
        xn = Math.sqrt(xn);
        for (let k = 0; k < K; k++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += x[n * D + d] * c[k * D + d];
          z[n * K + k] = xn > 0 && cn[k] > 0 ? dot / (xn * cn[k]) : 0;
        }
      }
      return z;
    },
  };
}
