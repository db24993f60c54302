/**
 * SHIFT on the committed demo (resources/demo/shift), through the program's loaders: the original
 * probe leans on gender (poor worst group); ablating the features its judgement list marks as
 * spurious raises the worst group well above that (SHIFT + retrain near the Oracle); ablating as
 * many random features does not. The judged features are checked to be about gender with the
 * balanced labels the method never used, and the table equals the one the build wrote.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src-main/engine/session';
import { loadNeoxFolder } from '../../src-main/models/load';
import { loadSaeSet } from '../../src-main/saes/load';
import { SaeOps } from '../../src-main/circuits/sae-ops';
import { type CircuitContext, decompose } from '../../src-main/circuits/state';
import { type LinearProbe, PROBE_RECIPE, plainRun, pooledResiduals, predict, residualView, trainProbe } from '../../src-main/circuits/probe';
import { type ShiftResult, type TokenizedBios, probeContext, runShift, scoreRow, tokenizeBios } from '../../src-main/circuits/shift';
import { loadBiasInBios } from '../../src-main/data/bias-in-bios';
import { parseJudgementJsonl } from '../../src-main/data/judgements';
import { SHIFT_DEMO_DIR } from '../../src-main/defaults';

const dir = SHIFT_DEMO_DIR;
const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { recipe: { probe: typeof PROBE_RECIPE & { layer: number }; run: { seed: number; batchSize: number; skyline: { n: number; batchSize: number; steps: number } } }; shift: ShiftResult['rows'] };
const R = metrics.recipe;
const sessions = new SessionCache({ threads: 1 });
let base: CircuitContext;
let data: TokenizedBios;
let original: LinearProbe;
let result: ShiftResult;
const judged = parseJudgementJsonl(readFileSync(join(dir, 'judgements.jsonl'), 'utf8'), 'judgements.jsonl').rows;
const ablate = judged.filter((j) => j.judgement === 'ablate').map((j) => ({ submodule: j.submodule, feature: j.feature }));

beforeAll(async () => {
  const model = await loadNeoxFolder(join(dir, 'model'), sessions);
  const saes = loadSaeSet(join(dir, 'saes'), { submodules: model.hookPoints, d: model.cfg.hiddenSize, layers: model.cfg.numLayers });
  base = { model, saes, ops: new SaeOps(sessions), submodules: model.hookPoints };
  data = tokenizeBios(model, loadBiasInBios(join(dir, 'data', 'bios.jsonl'), 42));
  const view = residualView(model, R.probe.layer);
  const tr = data.train;
  const x = await pooledResiduals(view, tr.ambiguous.map((i) => data.ids.train[i]), plainRun(view));
  original = trainProbe(x, tr.ambiguous.map((i) => tr.rows[i].profession), model.cfg.hiddenSize, R.probe);
  result = await runShift(base, data, original, R.probe.layer, { ablate, baselines: true, seed: R.run.seed, recipe: R.probe, batchSize: R.run.batchSize, skyline: R.run.skyline });
}, 300_000);
afterAll(() => sessions.dispose());

const row = (m: string) => result.rows.find((r) => r.method === m)!;

describe('SHIFT on the demo task', () => {
  it('the data has the spurious correlation: the ambiguous split is male professors and female nurses only', () => {
    for (const s of ['train', 'test'] as const) {
      const kinds = new Set(data[s].ambiguous.map((i) => `${data[s].rows[i].gender}${data[s].rows[i].profession}`));
      expect(kinds).toEqual(new Set(['00', '11']));
    }
  });

  it('the original probe is accurate on ambiguous data but leans on gender: its worst group is poor', () => {
    const o = row('original');
    expect(o.ambiguous).toBeGreaterThan(0.95);
    expect(o.gender).toBeGreaterThan(0.85);
    expect(o.worstGroup).toBeLessThan(0.3);
  });

  it('ablating the judged-spurious features raises the worst group well above it; SHIFT + retrain comes near the Oracle', () => {
    const o = row('original');
    const shift = row('shift');
    const retrain = row('shift_retrain');
    const oracle = row('oracle');
    expect(ablate.length).toBeGreaterThan(10);
    expect(shift.worstGroup).toBeGreaterThan(o.worstGroup + 0.3);
    expect(shift.gender).toBeLessThan(o.gender - 0.15);
    expect(retrain.worstGroup).toBeGreaterThan(o.worstGroup + 0.45);
    expect(retrain.worstGroup).toBeGreaterThan(oracle.worstGroup - 0.1);
    expect(retrain.profession).toBeGreaterThan(oracle.profession - 0.03);
    expect(retrain.gender).toBeLessThan(0.6);
    expect(oracle.profession).toBeGreaterThan(0.9);
  });

  it('ablating as many random features does not', () => {
    const o = row('original');
    const random = row('random');
    expect(result.random.length).toBe(ablate.length);
    expect(result.neuronSkyline.length).toBe(ablate.length);
    expect(result.skyline.length).toBe(ablate.length);
    expect(random.worstGroup).toBeLessThan(o.worstGroup + 0.1);
    expect(Math.abs(random.profession - o.profession)).toBeLessThan(0.05);
  });

  it('the judged-spurious features are about gender: their activity splits the balanced set by gender more than by profession', async () => {
    const ctx = probeContext(base, original, R.probe.layer);
    const tr = data.train;
    const rows = tr.balanced.slice(0, 200);
    const batch = ctx.model.batchFromIds(rows.map((i) => data.ids.train[i]));
    const [B, S] = batch.tokens.shape;
    const { acts } = await ctx.model.forward(batch);
    let aboutGender = 0;
    const bySub = new Map<string, Awaited<ReturnType<typeof decompose>>>();
    for (const f of ablate) {
      if (!bySub.has(f.submodule)) bySub.set(f.submodule, await decompose(ctx, f.submodule, acts.get(f.submodule)!.data, B * S));
      const st = bySub.get(f.submodule)!;
      const mean = new Float64Array(4); // [gender·2 + profession]
      const count = new Float64Array(4);
      rows.forEach((i, b) => {
        let a = 0;
        for (let s = 0; s < S; s++) {
          const n = b * S + s;
          for (let q = st.f.ptr[n]; q < st.f.ptr[n + 1]; q++) if (st.f.idx[q] === f.feature) a += st.f.val[q];
        }
        const g = tr.rows[i].gender * 2 + tr.rows[i].profession;
        mean[g] += a / data.ids.train[i].length;
        count[g]++;
      });
      for (let g = 0; g < 4; g++) mean[g] /= count[g];
      const byGender = Math.abs(mean[2] + mean[3] - mean[0] - mean[1]);
      const byProfession = Math.abs(mean[1] + mean[3] - mean[0] - mean[2]);
      if (byGender > byProfession) aboutGender++;
    }
    expect(aboutGender / ablate.length).toBeGreaterThan(0.8);
  });

  it('the table equals the one the demo build wrote (the artifact is current)', () => {
    expect(result.rows.map((r) => r.method)).toEqual(['original', 'cbp', 'random', 'shift', 'shift_retrain', 'neuron_skyline', 'feature_skyline', 'oracle']);
    result.rows.forEach((r, k) => {
      const m = metrics.shift[k];
      expect(r.method).toBe(m.method);
      for (const key of ['profession', 'gender', 'worstGroup', 'ambiguous'] as const) expect(r[key]).toBeCloseTo(m[key], 9);
    });
    // And the original probe scored directly agrees with the table's first row.
    const view = residualView(base.model, R.probe.layer);
    return pooledResiduals(view, data.ids.test, plainRun(view)).then((x) => {
      const o = scoreRow('original', predict(original, x), data, null);
      expect(o.worstGroup).toBeCloseTo(row('original').worstGroup, 9);
    });
  });
});
