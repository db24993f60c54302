/**
 * Ablated forward passes, faithfulness / completeness sweeps and the ablate/clamp experiment on
 * a small random GPT-NeoX with random SAEs, each checked against the independent dense float64
 * oracle (test/reference/ablation-dense.ts), plus hand-checkable cases.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src-main/engine/session';
import { loadNeoxFolder } from '../../src-main/models/load';
import type { NeoxModel } from '../../src-main/models/neox-model';
import { SaeOps } from '../../src-main/circuits/sae-ops';
import type { CircuitContext } from '../../src-main/circuits/state';
import type { PreparedExample } from '../../src-main/circuits/discover';
import { type AblationKind, type CircuitMask, type ForcedErrors, ablatedForward, ablationValues, answerMetric, metricsWithAblations, resampleDraw, runWithAblations } from '../../src-main/circuits/ablation';
import { type ErrorVariant, type Faithfulness, circuitMasks, evaluateCircuit, evaluatedSubmodules } from '../../src-main/circuits/evaluate';
import { type AblateMode, type NodeRef, ablateNodes } from '../../src-main/circuits/experiment';
import { CIRCUIT_FORMAT, CIRCUIT_VERSION, type CircuitFile, type CircuitNode, nodeId } from '../../src-main/circuits/circuit-file';
import { identitySaeSet } from '../../src-main/saes/identity';
import type { SaeSet } from '../../src-main/saes/types';
import { type NeoxFolder, writeRandomNeoxFolder } from '../helpers/neox-folder';
import { randomSae, rms } from '../helpers/random-sae';
import { mulberry32 } from '../helpers/random';
import { writeCircuitFixture } from '../helpers/circuit-fixture';
import { ablateJob } from '../../src-main/jobs/circuit-jobs';
import { noopContext } from '../../src-main/util/job-context';
import { readSafetensors } from '../../src-main/models/safetensors';
import { loadSaeSet } from '../../src-main/saes/load';
import { loadAgreementFile } from '../../src-main/data/agreement';
import { straightforwardAblatedForward } from '../reference/ablation-straightforward';
import { ablatedRunsLimits } from '../../src-main/circuits/ablated-runs';
import { type DenseModel, type DenseSource, denseAblatedLogits, denseCircuitSets, denseRunMetric, denseSweep } from '../reference/ablation-dense';

let dir: string;
let folder: NeoxFolder;
let model: NeoxModel;
let ctx: CircuitContext;
let neuronCtx: CircuitContext;
let dense: DenseModel;
let denseNeurons: DenseModel;
const sessions = new SessionCache({ threads: 1 });

const S = 4;
const F = 48;
const examples: PreparedExample[] = [
  { clean: [3, 9, 14, 22], patch: [3, 10, 14, 22], cleanAnswer: 5, patchAnswer: 6 },
  { clean: [7, 30, 2, 8], patch: [7, 31, 2, 8], cleanAnswer: 11, patchAnswer: 12 },
  { clean: [15, 4, 40, 9], patch: [15, 4, 41, 9], cleanAnswer: 17, patchAnswer: 18 },
  { clean: [21, 33, 6, 45], patch: [21, 34, 6, 45], cleanAnswer: 24, patchAnswer: 25 },
  { clean: [1, 19, 27, 36], patch: [1, 20, 27, 36], cleanAnswer: 42, patchAnswer: 43 },
  { clean: [12, 5, 38, 47], patch: [12, 5, 39, 47], cleanAnswer: 29, patchAnswer: 30 },
];
const B = examples.length;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-ablation-'));
  folder = writeRandomNeoxFolder(join(dir, 'm'), { seed: 21, layers: 2, hidden: 32, heads: 4, intermediate: 64, rotaryPct: 0.25 });
  model = await loadNeoxFolder(folder.dir, sessions);
  // SAEs scaled to the activations they see, so a fair share of features is active.
  const { acts } = await model.forward(model.batchFromIds(examples.map((e) => e.clean)));
  const saes: SaeSet = new Map();
  model.hookPoints.forEach((name, i) => saes.set(name, randomSae(32, F, 300 + i, { scale: (rms(acts.get(name)!.data) * Math.sqrt(32)) / 4 })));
  const ops = new SaeOps(sessions);
  ctx = { model, saes, ops, submodules: model.hookPoints };
  neuronCtx = { model, saes: identitySaeSet(model.hookPoints, 32), ops, submodules: model.hookPoints };
  dense = { cfg: folder.config, weights: folder.weights, saes: ctx.saes };
  denseNeurons = { cfg: folder.config, weights: folder.weights, saes: neuronCtx.saes };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Largest deviation seen from the oracle, per quantity (printed at the end for the record). */
const worst = { metric: 0, faithfulness: 0, completeness: 0 };

function denseSource(kind: AblationKind, seed: number): DenseSource {
  return kind === 'resample' ? { resample: resampleDraw(B, seed) } : kind;
}

/** A random [rows][F+1] set per submodule, as the library's masks and as the oracle's booleans. */
function randomSets(subs: string[], rows: number, seed: number, features = F, density = 0.5): { mask: CircuitMask; sets: Map<string, boolean[][]> } {
  const rnd = mulberry32(seed);
  const mask: CircuitMask = new Map();
  const sets = new Map<string, boolean[][]>();
  for (const sub of subs) {
    const keep = Array.from({ length: rows }, () => Uint8Array.from({ length: features + 1 }, (_, i) => (rnd() < (i === features ? 0.5 : density) ? 1 : 0)));
    mask.set(sub, { keep });
    sets.set(sub, keep.map((r) => Array.from(r, (v) => v === 1)));
  }
  return { mask, sets };
}

/**
 * A synthetic circuit over every submodule: about half of all (position, feature) nodes and
 * most (position, error) nodes, with log-uniform |effects| in [1e-4, 1) and random signs.
 */
function syntheticCircuit(c: CircuitContext, opts: { resolved: boolean; seed: number }): CircuitFile {
  const rnd = mulberry32(opts.seed);
  const nodes: CircuitNode[] = [];
  for (const sub of c.submodules) {
    const Fs = c.saes.get(sub)!.f;
    for (let p = 0; p < (opts.resolved ? S : 1); p++) {
      for (let i = 0; i <= Fs; i++) {
        if (rnd() > (i === Fs ? 0.8 : 0.5)) continue;
        const feature = i === Fs ? 'error' : i;
        const position = opts.resolved ? p : undefined;
        // Every 10th node sits exactly on a swept threshold, which keeps only |effect| > τ.
        const effect = (rnd() < 0.5 ? -1 : 1) * (nodes.length % 10 === 0 ? 0.01 : 10 ** (-4 + 4 * rnd()));
        nodes.push({ id: nodeId(sub, feature, position), submodule: sub, feature, ...(position === undefined ? {} : { position }), effect });
      }
    }
  }
  return {
    format: CIRCUIT_FORMAT,
    version: CIRCUIT_VERSION,
    createdAt: '2025-01-01T00:00:00.000Z',
    app: { name: 'test', version: '0' },
    parameters: {
      method: 'ig', steps: 10, aggregation: opts.resolved ? 'none' : 'sum', nodeThreshold: 0, edgeThreshold: 0, keepAll: true, nodesOnly: true,
      examples: B, batchSize: B, seed: 0, nopair: false, neurons: false,
    },
    provenance: { model: { path: 'm', sha256: '0' }, saes: { path: 's', sha256: '0' }, data: { path: 'd', sha256: '0' } },
    submodules: c.submodules.map((name) => ({ name, features: c.saes.get(name)!.f, kind: c.saes.get(name)!.kind })),
    positions: opts.resolved ? ['a', 'b', 'c', 'd'] : null,
    examples: [],
    totalEffect: null,
    nodes,
    edges: null,
  };
}

const THRESHOLDS = [1e-3, 1e-2, 0.1, 0.5];

interface SweepCase {
  ablation: AblationKind;
  errors: ErrorVariant;
  forceErrors: ForcedErrors | null;
  startLayer: number;
  resolved: boolean;
  neurons?: boolean;
}

async function compareSweep(k: SweepCase): Promise<{ got: Faithfulness; want: ReturnType<typeof denseSweep> }> {
  const c = k.neurons ? neuronCtx : ctx;
  const circuit = syntheticCircuit(c, { resolved: k.resolved, seed: 7 });
  const seed = 5;
  const got = await evaluateCircuit(c, circuit, examples, {
    startLayer: k.startLayer, thresholds: THRESHOLDS, ablation: k.ablation, errors: k.errors, forceErrors: k.forceErrors, seed, circuitName: 'synthetic.json', dataName: 'examples',
  });
  const subs = ['attn_0', 'mlp_0', 'resid_0', 'attn_1', 'mlp_1', 'resid_1'].filter((s) => Number(s.split('_')[1]) >= k.startLayer);
  expect(got.submodules).toEqual(subs);
  const want = denseSweep(k.neurons ? denseNeurons : dense, examples, circuit.nodes, {
    submodules: subs, rows: k.resolved ? S : 1, thresholds: THRESHOLDS, variant: k.errors, force: k.forceErrors, source: denseSource(k.ablation, seed),
  });
  const scale = Math.abs(want.mFull) + Math.abs(want.mEmpty);
  const dm = Math.max(
    Math.abs(got.mFull - want.mFull), Math.abs(got.mEmpty - want.mEmpty),
    ...got.rows.flatMap((r, i) => [Math.abs(r.mC - want.rows[i].mC), Math.abs(r.mComplement - want.rows[i].mComplement)]),
  );
  worst.metric = Math.max(worst.metric, dm);
  expect(dm).toBeLessThan(2e-5 * scale);
  // The ratios are only informative when the full model and the empty circuit differ.
  expect(Math.abs(want.mFull - want.mEmpty)).toBeGreaterThan(0.05 * scale);
  got.rows.forEach((r, i) => {
    const w = want.rows[i];
    expect(r.threshold).toBe(w.threshold);
    expect(r.nodes, `nodes at ${w.threshold}`).toBe(w.nodes);
    expect(r.features + r.errors).toBe(r.nodes);
    worst.faithfulness = Math.max(worst.faithfulness, Math.abs(r.faithfulness - w.faithfulness));
    worst.completeness = Math.max(worst.completeness, Math.abs(r.completeness - w.completeness));
    expect(Math.abs(r.faithfulness - w.faithfulness), `faithfulness at ${w.threshold}`).toBeLessThan(5e-4);
    expect(Math.abs(r.completeness - w.completeness), `completeness at ${w.threshold}`).toBeLessThan(5e-4);
  });
  return { got, want };
}

describe('runWithAblations against the dense oracle', () => {
  const subs = ['attn_0', 'mlp_0', 'resid_0', 'attn_1', 'mlp_1', 'resid_1'];
  for (const ablation of ['mean', 'zero', 'resample'] as const) {
    it(`${ablation} ablation: random [F] and [S,F] masks, complement, forced errors`, async () => {
      const clean = model.batchFromIds(examples.map((e) => e.clean));
      const patch = model.batchFromIds(examples.map((e) => e.patch!));
      const metric = answerMetric(examples);
      const values = await ablationValues(ctx, patch, subs, ablation, 3);
      const full = denseRunMetric(dense, examples, null);
      for (const rows of [1, S]) {
        const { mask, sets } = randomSets(subs, rows, 40 + rows);
        for (const complement of [false, true]) {
          for (const force of [null, 'ablated', 'kept'] as const) {
            const got = await runWithAblations(ctx, clean, metric, values, mask, { complement, forceErrors: force });
            const want = denseRunMetric(dense, examples, { submodules: subs, keep: sets, complement, force, source: denseSource(ablation, 3) });
            const d = maxAbsDiff(got, want);
            worst.metric = Math.max(worst.metric, d);
            expect(d, `rows ${rows} complement ${complement} force ${force}`).toBeLessThan(2e-5);
            // The ablation moved the metric far beyond that tolerance: the comparison can fail.
            expect(maxAbsDiff(want, full)).toBeGreaterThan(0.05);
          }
        }
      }
    });
  }

  it('many runs at once (metricsWithAblations): sparse, dense and shared masks, each equal to its own pass and to the oracle', async () => {
    const clean = model.batchFromIds(examples.map((e) => e.clean));
    const patch = model.batchFromIds(examples.map((e) => e.patch!));
    const metric = answerMetric(examples);
    for (const ablation of ['mean', 'resample'] as const) {
      const values = await ablationValues(ctx, patch, subs, ablation, 3);
      // Few kept features (the needed ones are encoded alone), most kept, half, and one mask
      // that agrees with another on the first layer only (runs share that layer's state).
      const cases = [
        randomSets(subs, 1, 60, F, 0.04),
        randomSets(subs, S, 61, F, 0.96),
        randomSets(subs, S, 62, F, 0.5),
      ];
      const mixed = randomSets(subs, 1, 63, F, 0.04);
      for (const sub of subs.slice(0, 3)) mixed.mask.set(sub, cases[0].mask.get(sub)!), mixed.sets.set(sub, cases[0].sets.get(sub)!);
      cases.push(mixed);
      const runs = cases.flatMap((c) => [false, true].flatMap((complement) => [null, 'kept'].map((force) => ({ c, opts: { complement, forceErrors: force as ForcedErrors | null } }))));
      const together = await metricsWithAblations(ctx, clean, metric, values, runs.map((r) => ({ masks: r.c.mask, opts: r.opts })));
      for (const [i, r] of runs.entries()) {
        const alone = await runWithAblations(ctx, clean, metric, values, r.c.mask, r.opts);
        expect(maxAbsDiff(together[i], alone), `run ${i} alone`).toBeLessThan(1e-5);
        const want = denseRunMetric(dense, examples, { submodules: subs, keep: r.c.sets, complement: r.opts.complement, force: r.opts.forceErrors, source: denseSource(ablation, 3) });
        const d = maxAbsDiff(together[i], want);
        worst.metric = Math.max(worst.metric, d);
        expect(d, `${ablation} run ${i}`).toBeLessThan(2e-5);
      }
    }
  });

  it('values of a few features (the ablate experiment) serve only runs that ablate those, with the error kept', async () => {
    const clean = model.batchFromIds(examples.map((e) => e.clean));
    const patch = model.batchFromIds(examples.map((e) => e.patch!));
    const metric = answerMetric(examples);
    const listed = Int32Array.from([2, 7, 30]);
    const few = await ablationValues(ctx, patch, ['mlp_0'], 'mean', 0, new Map([['mlp_0', listed]]));
    const all = await ablationValues(ctx, patch, ['mlp_0'], 'mean', 0);
    const keep = new Uint8Array(F + 1);
    for (const i of listed) keep[i] = 1;
    const mask: CircuitMask = new Map([['mlp_0', { keep: [keep] }]]);
    const want = await runWithAblations(ctx, clean, metric, all, mask, { complement: true, forceErrors: null });
    expect(maxAbsDiff(await runWithAblations(ctx, clean, metric, few, mask, { complement: true, forceErrors: null }), want)).toBeLessThan(1e-6);
    await expect(runWithAblations(ctx, clean, metric, few, mask, { complement: false, forceErrors: null })).rejects.toThrow(/mlp_0: these ablation values hold only some features/);
    await expect(runWithAblations(ctx, clean, metric, few, mask, { complement: true, forceErrors: 'ablated' })).rejects.toThrow(/hold only some features/);
  });

  it('chunked: examples in slices, segments and encoder calls in small pieces give the same metrics', async () => {
    const clean = model.batchFromIds(examples.map((e) => e.clean));
    const patch = model.batchFromIds(examples.map((e) => e.patch!));
    const metric = answerMetric(examples);
    const values = await ablationValues(ctx, patch, subs, 'resample', 3);
    const runs = [randomSets(subs, S, 65, F, 0.3), randomSets(subs, 1, 66, F, 0.7)].flatMap((c) => [false, true].map((complement) => ({ masks: c.mask, opts: { complement, forceErrors: null } })));
    const whole = await metricsWithAblations(ctx, clean, metric, values, runs);
    const saved = { ...ablatedRunsLimits };
    Object.assign(ablatedRunsLimits, { passTokens: 2 * S * runs.length, segmentTokens: 3 * S * B, encodeRows: 5 });
    try {
      const chunked = await metricsWithAblations(ctx, clean, metric, values, runs);
      runs.forEach((_, i) => expect(maxAbsDiff(chunked[i], whole[i]), `run ${i}`).toBeLessThan(1e-5));
    } finally {
      Object.assign(ablatedRunsLimits, saved);
    }
  });

  it('the full ablated stream (ablatedForward) equals the straightforward pass at every position; lastOnly at the last', async () => {
    const clean = model.batchFromIds(examples.map((e) => e.clean));
    const patch = model.batchFromIds(examples.map((e) => e.patch!));
    const values = await ablationValues(ctx, patch, subs, 'mean', 3);
    const { mask } = randomSets(subs, S, 64, F, 0.04);
    const all = await ablatedForward(ctx, clean, values, mask, { complement: false, forceErrors: null });
    const last = await ablatedForward(ctx, clean, values, mask, { complement: false, forceErrors: null }, { lastOnly: true });
    const want = await straightforwardAblatedForward(ctx, clean, values, mask, { complement: false, forceErrors: null });
    expect(maxAbsDiff(all.data, want.data)).toBeLessThan(2e-5 * Math.max(1, ...Array.from(want.data, Math.abs)));
    const D = all.shape[2];
    for (let b = 0; b < B; b++) {
      const o = (b * S + S - 1) * D;
      expect(maxAbsDiff(last.data.subarray(o, o + D), all.data.subarray(o, o + D))).toBeLessThan(1e-5);
    }
  });

  it('position-resolved masks act per position: the same flags broadcast to every position give a different metric', async () => {
    const { sets } = randomSets(subs, S, 41);
    const firstRow = new Map([...sets].map(([k, v]) => [k, [v[0]]]));
    const a = denseRunMetric(dense, examples, { submodules: subs, keep: sets, complement: false, force: null, source: 'mean' });
    const b = denseRunMetric(dense, examples, { submodules: subs, keep: firstRow, complement: false, force: null, source: 'mean' });
    expect(maxAbsDiff(a, b)).toBeGreaterThan(0.01);
  });

  it('resample draws are Python random.Random(seed).randrange(n) with replacement, and differ from the mean', () => {
    // python3 -c "import random; r = random.Random(3); print([r.randrange(6) for _ in range(6)])"
    expect(resampleDraw(6, 3)).toEqual([1, 4, 4, 1, 2, 4]);
    expect(resampleDraw(40, 0).slice(0, 10)).toEqual([24, 26, 2, 16, 32, 31, 25, 19, 30, 22]);
    const subs1 = ['mlp_0', 'resid_1'];
    const mean = denseRunMetric(dense, examples, { submodules: subs1, keep: new Map(), complement: false, force: null, source: 'mean' });
    const res = denseRunMetric(dense, examples, { submodules: subs1, keep: new Map(), complement: false, force: null, source: { resample: resampleDraw(B, 3) } });
    expect(maxAbsDiff(mean, res)).toBeGreaterThan(0.05);
  });

  it('rejects ablation values of another shape and masks of another length, naming the submodule', async () => {
    const clean = model.batchFromIds(examples.map((e) => e.clean));
    const short = model.batchFromIds(examples.map((e) => e.patch!.slice(1)));
    const metric = answerMetric(examples);
    const values = await ablationValues(ctx, short, ['mlp_0'], 'mean');
    await expect(runWithAblations(ctx, clean, metric, values, new Map(), { complement: false, forceErrors: null })).rejects.toThrow(/mlp_0: the ablation values have 3 positions but the inputs have 4/);
    const ok = await ablationValues(ctx, clean, ['mlp_0'], 'mean');
    const mask: CircuitMask = new Map([['mlp_0', { keep: [new Uint8Array(F + 1), new Uint8Array(F + 1)] }]]);
    await expect(runWithAblations(ctx, clean, metric, ok, mask, { complement: false, forceErrors: null })).rejects.toThrow(/mlp_0: the mask has 2 positions but the inputs have 4/);
  });
});

describe('faithfulness and completeness sweeps against the dense oracle', () => {
  for (const ablation of ['mean', 'zero', 'resample'] as const) {
    for (const errors of ['all', 'none', 'resid-only'] as const) {
      it(`${ablation} ablation, errors ${errors}, position-resolved`, async () => {
        await compareSweep({ ablation, errors, forceErrors: null, startLayer: 0, resolved: true });
      });
    }
  }

  it('ablation.py forced errors (ablated, kept), an aggregated [F] circuit, start layer 1', async () => {
    for (const force of ['ablated', 'kept'] as const) await compareSweep({ ablation: 'mean', errors: 'all', forceErrors: force, startLayer: 1, resolved: false });
  });

  it('neurons (identity dictionaries), mean ablation', async () => {
    await compareSweep({ ablation: 'mean', errors: 'all', forceErrors: null, startLayer: 0, resolved: true, neurons: true });
  });

  it('the error variants keep the features and differ only in the error nodes they count', async () => {
    const circuit = syntheticCircuit(ctx, { resolved: true, seed: 7 });
    const subs = evaluatedSubmodules(ctx.submodules, 0);
    const features = new Map(subs.map((s) => [s, F]));
    // Counted by hand from the node list.
    const inSubs = circuit.nodes.filter((n) => subs.includes(n.submodule) && Math.abs(n.effect) > 0.01);
    const feats = inSubs.filter((n) => n.feature !== 'error').length;
    const errs = inSubs.filter((n) => n.feature === 'error');
    const all = circuitMasks(circuit, 'c.json', subs, features, 0.01, 'all');
    const none = circuitMasks(circuit, 'c.json', subs, features, 0.01, 'none');
    const resid = circuitMasks(circuit, 'c.json', subs, features, 0.01, 'resid-only');
    expect([all.features, none.features, resid.features]).toEqual([feats, feats, feats]);
    expect(all.errors).toBe(errs.length);
    expect(none.errors).toBe(0);
    expect(resid.errors).toBe(errs.filter((n) => n.submodule.startsWith('resid_')).length);
    expect(resid.errors).toBeGreaterThan(0);
    expect(resid.errors).toBeLessThan(all.errors);
    // The oracle's own sets count the same.
    const o = { submodules: subs, rows: S, thresholds: [], force: null, source: 'mean' as const };
    expect(denseCircuitSets(dense, circuit.nodes, { ...o, variant: 'resid-only' }, 0.01).count).toBe(resid.nodes);
  });

  it('hand-checkable: the empty circuit has faithfulness 0 and completeness 1 for every variant; the full circuit 1 and 0', async () => {
    const circuit = syntheticCircuit(ctx, { resolved: true, seed: 7 });
    // Every effect is below 1, so τ = 1 keeps nothing. A second circuit holds every node.
    const full = structuredClone(circuit);
    full.nodes = ctx.submodules.flatMap((sub) => Array.from({ length: S }, (_, p) => Array.from({ length: F + 1 }, (_, i) => {
      const feature = i === F ? ('error' as const) : i;
      return { id: nodeId(sub, feature, p), submodule: sub, feature, position: p, effect: 1 };
    })).flat());
    for (const ablation of ['mean', 'zero', 'resample'] as const) {
      for (const errors of ['all', 'none', 'resid-only'] as const) {
        const opts = { startLayer: 0, thresholds: [1], ablation, errors, forceErrors: null, seed: 1, circuitName: 'c.json', dataName: 'examples' };
        const empty = await evaluateCircuit(ctx, circuit, examples, opts);
        expect(empty.rows[0].nodes).toBe(0);
        expect(Math.abs(empty.rows[0].faithfulness)).toBe(0);
        expect(empty.rows[0].completeness).toBeCloseTo(1, 5);
        const whole = await evaluateCircuit(ctx, full, examples, { ...opts, thresholds: [0.5] });
        const errorNodes = { all: 6 * S, none: 0, 'resid-only': 2 * S }[errors];
        expect(whole.rows[0].nodes).toBe(6 * S * F + errorNodes);
        if (errors === 'all') {
          expect(whole.rows[0].faithfulness).toBeCloseTo(1, 5);
          expect(Math.abs(whole.rows[0].completeness)).toBe(0);
        } else {
          // Ablated errors matter in this model: without them the full feature set is not faithful.
          expect(Math.abs(whole.rows[0].faithfulness - 1)).toBeGreaterThan(0.01);
        }
      }
    }
  });

  it('ablation.py forced errors are not the notebook variants: forced-ablated errors leave the empty circuit incomplete', async () => {
    const circuit = syntheticCircuit(ctx, { resolved: true, seed: 7 });
    const opts = { startLayer: 0, thresholds: [1], ablation: 'mean' as const, errors: 'all' as const, forceErrors: 'ablated' as const, seed: 1, circuitName: 'c.json', dataName: 'examples' };
    const r = await evaluateCircuit(ctx, circuit, examples, opts);
    expect(Math.abs(r.rows[0].completeness - 1)).toBeGreaterThan(0.01);
  });

  it('mask construction rejects nodes it could not hold, naming the circuit and the node', async () => {
    const subs = evaluatedSubmodules(ctx.submodules, 0);
    const features = new Map(subs.map((s) => [s, F]));
    const base = syntheticCircuit(ctx, { resolved: true, seed: 7 });
    const withNode = (n: CircuitNode): CircuitFile => ({ ...base, nodes: [...base.nodes, n] });
    expect(() => circuitMasks(withNode({ id: 'mlp_1/48@0', submodule: 'mlp_1', feature: 48, position: 0, effect: 1 }), 'c.json', subs, features, 0.1, 'all'))
      .toThrow(/c\.json: node mlp_1\/48@0: feature 48 is out of range for mlp_1 \(0\.\.47\)/);
    expect(() => circuitMasks(withNode({ id: 'mlp_9/3@0', submodule: 'mlp_9', feature: 3, position: 0, effect: 1 }), 'c.json', subs, features, 0.1, 'all'))
      .toThrow(/c\.json: node mlp_9\/3@0: submodule 'mlp_9' is not among the circuit's submodules/);
    expect(() => circuitMasks(withNode({ id: 'mlp_1/3@4', submodule: 'mlp_1', feature: 3, position: 4, effect: 1 }), 'c.json', subs, features, 0.1, 'all'))
      .toThrow(/c\.json: node mlp_1\/3@4: position 4 is out of range \(the circuit has 4 positions\)/);
    const opts = { startLayer: 0, thresholds: [0.1], ablation: 'mean' as const, errors: 'none' as const, forceErrors: 'kept' as const, seed: 1, circuitName: 'c.json', dataName: 'examples' };
    await expect(evaluateCircuit(ctx, base, examples, opts)).rejects.toThrow(/forced errors \(kept\) override every error mask/);
    await expect(evaluateCircuit(ctx, base, examples.map((e) => ({ ...e, clean: e.clean.slice(1), patch: e.patch!.slice(1) })), { ...opts, forceErrors: null }))
      .rejects.toThrow(/examples: the position-resolved circuit c\.json has 4 positions but an example has 3 clean \/ 3 patch tokens/);
  });
});

describe('ablateNodes against the dense oracle', () => {
  /** The oracle's sets for a node list: listed = true, with [S] rows where a node has a position. */
  function listedSets(nodes: NodeRef[]): Map<string, boolean[][]> {
    const sets = new Map<string, boolean[][]>();
    for (const n of nodes) {
      if (!sets.has(n.submodule)) sets.set(n.submodule, Array.from({ length: S }, () => new Array<boolean>(F + 1).fill(false)));
      for (let p = 0; p < S; p++) if (n.position === undefined || n.position === p) sets.get(n.submodule)![p][n.feature === 'error' ? F : n.feature] = true;
    }
    return sets;
  }

  function softmax(l: Float64Array): Float64Array {
    const mx = Math.max(...l);
    const e = l.map((v) => Math.exp(v - mx));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  }

  /** Active features of a submodule at a position in the first example (so ablating them matters). */
  async function activeFeatures(sub: string, p: number, k: number): Promise<number[]> {
    const { acts } = await model.forward(model.batchFromIds([examples[0].clean]));
    const f = await ctx.ops.encode(ctx.saes.get(sub)!, acts.get(sub)!.data, S);
    const idx = Array.from(f.idx.subarray(f.ptr[p], f.ptr[p + 1]));
    const val = Array.from(f.val.subarray(f.ptr[p], f.ptr[p + 1]));
    return idx.map((i, j) => [i, val[j]]).sort((a, b) => b[1] - a[1]).slice(0, k).map((x) => x[0]);
  }

  async function check(nodes: NodeRef[], mode: AblateMode, exs: PreparedExample[] = examples): Promise<void> {
    const got = await ablateNodes(ctx, exs, { nodes, mode, seed: 2 });
    const subs = ctx.submodules.filter((s) => nodes.some((n) => n.submodule === s));
    const source: DenseSource = typeof mode === 'object' ? mode : mode === 'resample' ? { resample: resampleDraw(exs.length, 2) } : mode;
    const run = { submodules: subs, keep: listedSets(nodes), complement: true, force: null, source };
    const patch = exs[0].patch ? exs.map((e) => e.patch!) : null;
    const logits0 = denseAblatedLogits(dense, exs.map((e) => e.clean), patch, null);
    const logits1 = denseAblatedLogits(dense, exs.map((e) => e.clean), patch, run);
    const before = exs.map((e, b) => logits0[b][e.cleanAnswer] - (e.patchAnswer === null ? 0 : logits0[b][e.patchAnswer]));
    const after = exs.map((e, b) => logits1[b][e.cleanAnswer] - (e.patchAnswer === null ? 0 : logits1[b][e.patchAnswer]));
    expect(maxAbsDiff(got.before, before)).toBeLessThan(2e-5);
    const d = maxAbsDiff(got.after, after);
    worst.metric = Math.max(worst.metric, d);
    expect(d).toBeLessThan(2e-5);
    expect(maxAbsDiff(before, after), 'the ablation changes the metric').toBeGreaterThan(0.01);
    expect(got.meanAfter).toBeCloseTo(after.reduce((a, b) => a + b, 0) / exs.length, 4);
    // Next-token changes: the reported tokens are the oracle's largest mean-probability changes.
    const V = folder.config.vocab_size;
    const p0 = logits0.map(softmax);
    const p1 = logits1.map(softmax);
    const meanP = (p: Float64Array[], v: number): number => p.reduce((s, r) => s + r[v], 0) / p.length;
    const change = Array.from({ length: V }, (_, v) => Math.abs(meanP(p1, v) - meanP(p0, v)));
    expect(got.topChanges).toHaveLength(10);
    for (const t of got.topChanges) {
      expect(Math.abs(t.before - meanP(p0, t.id))).toBeLessThan(1e-5);
      expect(Math.abs(t.after - meanP(p1, t.id))).toBeLessThan(1e-5);
    }
    const reported = new Set(got.topChanges.map((t) => t.id));
    const smallestReported = Math.min(...got.topChanges.map((t) => change[t.id]));
    const largestOther = Math.max(...change.filter((_, v) => !reported.has(v)));
    expect(smallestReported).toBeGreaterThanOrEqual(largestOther - 1e-6);
    for (const t of got.topChanges) expect(t.token).toBe(model.tokenizer!.tokenString(t.id));
  }

  it('mean ablation of features at every position and of an error node', async () => {
    const feats = await activeFeatures('resid_0', 3, 3);
    await check([...feats.map((feature) => ({ submodule: 'resid_0', feature })), { submodule: 'mlp_1', feature: 'error' }], 'mean');
  });

  it('zero ablation at one position', async () => {
    const feats = await activeFeatures('attn_1', 3, 4);
    await check(feats.map((feature) => ({ submodule: 'attn_1', feature, position: 3 })), 'zero');
  });

  it('clamping at one position, and resample', async () => {
    const feats = await activeFeatures('mlp_0', 2, 2);
    await check([{ submodule: 'mlp_0', feature: feats[0], position: 2 }, { submodule: 'resid_1', feature: 5, position: 3 }], { clamp: 3 });
    await check(feats.map((feature) => ({ submodule: 'mlp_0', feature })), 'resample');
  });

  it('without patch inputs the ablation values come from the clean inputs', async () => {
    const nopair = examples.map((e) => ({ ...e, patch: null, patchAnswer: null }));
    const feats = await activeFeatures('resid_0', 3, 4);
    await check(feats.map((feature) => ({ submodule: 'resid_0', feature })), 'mean', nopair);
  });

  it('user errors name the node and the problem', async () => {
    await expect(ablateNodes(ctx, examples, { nodes: [{ submodule: 'resid_1', feature: 'error' }], mode: { clamp: 1 } })).rejects.toThrow(/node resid_1\/error: an error node cannot be clamped/);
    await expect(ablateNodes(ctx, examples, { nodes: [{ submodule: 'resid_1', feature: 48 }], mode: 'mean' })).rejects.toThrow(/node resid_1\/48: feature 48 is out of range for resid_1 \(0\.\.47\)/);
    await expect(ablateNodes(ctx, examples, { nodes: [{ submodule: 'resid_7', feature: 1 }], mode: 'mean' })).rejects.toThrow(/node resid_7\/1: unknown submodule 'resid_7'/);
    await expect(ablateNodes(ctx, examples, { nodes: [{ submodule: 'resid_1', feature: 1, position: 4 }], mode: 'zero' })).rejects.toThrow(/node resid_1\/1@4: position 4 is out of range \(the examples have 4 tokens\)/);
    const ragged = [examples[0], { ...examples[1], clean: examples[1].clean.slice(1), patch: examples[1].patch!.slice(1) }];
    await expect(ablateNodes(ctx, ragged, { nodes: [{ submodule: 'resid_1', feature: 1, position: 0 }], mode: 'zero' })).rejects.toThrow(/node resid_1\/1@0: a position needs examples of one length/);
    await expect(ablateNodes(ctx, examples, { nodes: [], mode: 'zero' })).rejects.toThrow(/no nodes to ablate/);
  });
});

describe('the circuit.ablate job', () => {
  it('loads model, SAEs and data like discovery and matches the dense oracle', async () => {
    const fx = writeCircuitFixture(join(dir, 'fx'));
    const nodes: NodeRef[] = [{ submodule: 'resid_0', feature: 'error', position: 1 }, { submodule: 'mlp_1', feature: 3 }];
    const r = await ablateJob({ model: fx.model, saes: fx.saes, neurons: false, data: fx.data, nopair: false, n: 8, seed: 12, nodes, mode: 'mean' }, noopContext);
    expect(r.examples).toBe(8);
    expect(r.dataReport.kept).toBe(8);
    // The same files read independently: float32 weights, the SAEs, the examples in job order.
    const st = readSafetensors(fx.model);
    const weights = Object.fromEntries(st.names().map((n) => [n, st.getTensor(n).data as Float32Array]));
    const cfg = JSON.parse(readFileSync(join(fx.model, 'config.json'), 'utf8'));
    const saes = loadSaeSet(fx.saes, { submodules: fx.submodules, d: 32 });
    const tok = (await loadNeoxFolder(fx.model, sessions)).tokenizer!;
    const exs = loadAgreementFile(fx.data, tok, { n: 8, seed: 12 }).examples.map((e) => ({ clean: e.cleanPrefixIds, patch: e.patchPrefixIds, cleanAnswer: e.cleanAnswerId, patchAnswer: e.patchAnswerId }));
    const Fx = saes.get('mlp_1')!.f;
    const keep = new Map([
      ['resid_0', [0, 1].map((p) => Array.from({ length: Fx + 1 }, (_, i) => i === Fx && p === 1))],
      ['mlp_1', [Array.from({ length: Fx + 1 }, (_, i) => i === 3)]],
    ]);
    const m = { cfg, weights, saes };
    const before = denseRunMetric(m, exs, null);
    const after = denseRunMetric(m, exs, { submodules: ['resid_0', 'mlp_1'], keep, complement: true, force: null, source: 'mean' });
    expect(maxAbsDiff(r.before, before)).toBeLessThan(2e-5);
    expect(maxAbsDiff(r.after, after)).toBeLessThan(2e-5);
    expect(maxAbsDiff(before, after)).toBeGreaterThan(1e-3);
    expect(r.metric).toBe('logit[clean] − logit[patch]');
  });
});

afterAll(() => {
  console.log(`largest deviation from the dense oracle: metric ${worst.metric.toExponential(2)}, faithfulness ${worst.faithfulness.toExponential(2)}, completeness ${worst.completeness.toExponential(2)}`);
});
