/**
 * The committed demo artifact (resources/demo) through the program's normal loaders: the model
 * folder (loadNeoxFolder), the SAE set (loadSaeSet, dictionary_learning layout) and the
 * agreement files (loadAgreementFile). A broken or stale artifact fails here.
 *
 * Targets (issue 4): agreement accuracy ≥ 98 % per structure on the held-out test files;
 * at every hook point, on held-out activations, variance explained ≥ 90 %, mean L0 ≤ 32,
 * dead features < 20 %, and replacing the activation by its reconstruction costs < 5 % of the
 * mean logit difference of every structure.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgreementExample, loadAgreementFile, parseAgreementJsonl, splitLines } from '../../src-main/data/agreement';
import { STRUCTURES, type Structure } from '../../src-main/data/generator';
import { DEMO_MODEL, DEMO_SAES, demoData } from '../../src-main/defaults';
import { DEMO_RECIPE, heldOutSentences } from '../../src-main/demo/build';
import type { DemoData } from '../../src-main/demo/data';
import { agreementItems, agreementScore, hookActivations, reconstructionHook, saeMetrics } from '../../src-main/demo/evaluate';
import { SessionCache } from '../../src-main/engine/session';
import { loadNeoxFolder } from '../../src-main/models/load';
import type { NeoxModel } from '../../src-main/models/neox-model';
import { saeQuality } from '../../src-main/saes/encode-ref';
import { loadSaeSet } from '../../src-main/saes/load';
import type { SaeSet } from '../../src-main/saes/types';

const sessions = new SessionCache({ threads: 1 });
let model: NeoxModel;
let saes: SaeSet;
const notes: string[] = [];
const data = { train: {}, test: {} } as DemoData;
const examples = new Map<Structure, AgreementExample[]>();

function dataPath(s: Structure, split: 'train' | 'test'): string {
  const p = demoData(s, split);
  if (!p) throw new Error(`resources/demo/data/${s}_${split}.jsonl is missing: run npm run demo:train`);
  return p;
}

beforeAll(async () => {
  model = await loadNeoxFolder(DEMO_MODEL, sessions);
  saes = loadSaeSet(DEMO_SAES, { submodules: model.hookPoints, d: model.cfg.hiddenSize, layers: model.cfg.numLayers, onNote: (n) => notes.push(n) });
  for (const s of STRUCTURES) {
    for (const split of ['train', 'test'] as const) {
      const p = dataPath(s, split);
      data[split][s] = parseAgreementJsonl(readFileSync(p, 'utf8'), p).map((l) => l.record);
    }
    const p = dataPath(s, 'test');
    const lines = splitLines(readFileSync(p, 'utf8')).length;
    const { examples: ex, report } = loadAgreementFile(p, model.tokenizer!, { n: lines });
    expect(report.kept, `${p}: ${JSON.stringify(report.dropped)}`).toBe(lines);
    examples.set(s, ex);
  }
});
afterAll(() => sessions.dispose());

describe('the committed demo model', () => {
  it('is a GPT-NeoX with the Pythia architecture and a tokenizer', () => {
    expect(model.cfg.parallelResidual).toBe(true);
    expect(model.cfg.rotaryPct).toBeLessThan(1);
    expect(model.tokenizer!.padId).toBe(0);
    expect(model.hookPoints.length).toBe(1 + 3 * model.cfg.numLayers);
  });

  it.each(STRUCTURES)('%s: the correct verb beats the wrong one on at least 98 in 100 held-out sentences', async (s) => {
    // Straight from the logits (not the trainer's metric code): both prefixes of every line.
    const ex = examples.get(s)!;
    const items = ex.flatMap((e) => [
      { ids: e.cleanPrefixIds, good: e.cleanAnswerId, bad: e.patchAnswerId },
      { ids: e.patchPrefixIds, good: e.patchAnswerId, bad: e.cleanAnswerId },
    ]);
    let correct = 0;
    for (let i = 0; i < items.length; i += 500) {
      const part = items.slice(i, i + 500);
      const b = model.batchFromIds(part.map((it) => it.ids));
      const { h } = await model.forward(b);
      const logits = (await model.logits(b, h)).data;
      const V = model.cfg.vocabSize;
      part.forEach((it, k) => {
        if (logits[k * V + it.good]! > logits[k * V + it.bad]!) correct++;
      });
    }
    expect(items.length).toBeGreaterThanOrEqual(s === 'simple' ? 60 : 800);
    expect(correct / items.length).toBeGreaterThanOrEqual(0.98);
  });
});

describe('the committed demo SAEs', () => {
  let acts: Map<string, Float32Array>;
  beforeAll(async () => {
    acts = await hookActivations(model, heldOutSentences(DEMO_RECIPE, data));
  });

  it('load as dictionary_learning AutoEncoders with unit-norm decoders (no rescaling needed)', () => {
    expect(notes).toEqual([]);
    for (const sae of saes.values()) {
      expect(sae.kind).toBe('relu');
      expect(sae.applyBDecToInput).toBe(true);
    }
  });

  it('meet the quality targets on held-out activations at every hook point', async () => {
    for (const hook of model.hookPoints) {
      const sae = saes.get(hook)!;
      const x = acts.get(hook)!;
      const m = await saeMetrics(sessions, sae, x);
      expect(m.rows).toBeGreaterThan(10000);
      expect(m.varianceExplained, hook).toBeGreaterThanOrEqual(0.9);
      expect(m.meanL0, hook).toBeLessThanOrEqual(32);
      expect(m.deadFraction, hook).toBeLessThan(0.2);
      // The fast path against the plain float64 reference on a slice.
      const q = saeQuality(sae, x.subarray(0, 400 * sae.d));
      const mq = await saeMetrics(sessions, sae, x.subarray(0, 400 * sae.d));
      expect(mq.varianceExplained).toBeCloseTo(q.varianceExplained, 4);
      // float32 vs float64: a feature at the edge of zero may flip on a row or two.
      expect(Math.abs(mq.meanL0 - q.meanL0)).toBeLessThan(0.02);
    }
  });

  it('splicing in any one reconstruction costs < 5 % of the logit difference of every structure', async () => {
    const base = new Map<Structure, number>();
    for (const s of STRUCTURES) base.set(s, (await agreementScore(model, agreementItems(data.test[s]))).meanLogitDiff);
    for (const hook of model.hookPoints) {
      for (const s of STRUCTURES) {
        const r = await agreementScore(model, agreementItems(data.test[s]), { hook: reconstructionHook(sessions, hook, saes.get(hook)!) });
        expect(1 - r.meanLogitDiff / base.get(s)!, `${hook} on ${s}`).toBeLessThan(0.05);
      }
    }
  });
});
