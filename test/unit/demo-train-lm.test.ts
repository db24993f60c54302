/**
 * The demo LM trainer: its loss and weight gradients against an independent computation (the
 * float64 GPT-NeoX reference of test/reference, one sentence at a time, with central finite
 * differences), packing equivalence, Adam and the schedule by hand, and a short training run
 * that lowers the loss. Also: the written folder loads through loadNeoxFolder and reproduces
 * the reference logits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Corpus, corpusWords } from '../../src-main/demo/corpus';
import { Rng } from '../../src-main/demo/rng';
import { WordEncoder } from '../../src-main/demo/tokenizer';
import {
  Adam,
  type Weights,
  demoNeoxConfig,
  hfConfigJson,
  initWeights,
  lmLossAndGrad,
  lrSchedule,
  packRows,
  trainLm,
  writeModelFolder,
} from '../../src-main/demo/train-lm';
import { SessionCache } from '../../src-main/engine/session';
import { loadNeoxFolder } from '../../src-main/models/load';
import { type NeoxRefConfig, gptNeoxForward64 } from '../reference/gptneox64';

const sessions = new SessionCache({ threads: 1 });
const dirs: string[] = [];
afterAll(async () => {
  await sessions.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Tiny: width 16, 2 heads of 8 (2 rotary dims), MLP 32, vocabulary 24, 2 layers.
const tiny = demoNeoxConfig({ layers: 2, hidden: 16, heads: 2, intermediate: 32, vocab: 24, maxPositions: 64 });

/** Weights with non-trivial LayerNorms and biases, so every parameter's gradient is exercised. */
function randomWeights(seed: number): Weights {
  const w = initWeights(tiny, seed);
  const r = new Rng(seed + 100);
  for (const [name, v] of w) {
    if (/layernorm|layer_norm/.test(name)) for (let i = 0; i < v.length; i++) v[i] = (name.endsWith('weight') ? 1 : 0) + 0.2 * r.normal();
    else if (name.endsWith('bias')) for (let i = 0; i < v.length; i++) v[i] = 0.1 * r.normal();
    else for (let i = 0; i < v.length; i++) v[i] = v[i]! * 3;
  }
  return w;
}

/** Mean next-token cross-entropy over all sentences, each run alone through the float64 reference. */
function referenceLoss(w: Record<string, Float64Array | Float32Array>, sents: number[][]): number {
  const cfg = hfConfigJson(tiny) as unknown as NeoxRefConfig;
  const V = tiny.vocabSize;
  let total = 0;
  let count = 0;
  for (const s of sents) {
    const { logits } = gptNeoxForward64(cfg, w, [s]);
    for (let i = 0; i + 1 < s.length; i++) {
      const row = logits.subarray(i * V, (i + 1) * V);
      let mx = -Infinity;
      for (const v of row) mx = Math.max(mx, v);
      let z = 0;
      for (const v of row) z += Math.exp(v - mx);
      total -= row[s[i + 1]!]! - mx - Math.log(z);
      count++;
    }
  }
  return total / count;
}

const sentences = [
  [1, 5, 9, 3, 7, 2],
  [4, 4, 11, 23, 0],
  [6, 2, 19],
  [8, 13, 21, 1, 5, 17, 12],
  [3, 10],
];

describe('demo LM loss and gradients', () => {
  it('loss equals the float64 reference run sentence by sentence (packed rows, block-diagonal mask)', async () => {
    const w = randomWeights(1);
    const rows = packRows(sentences, 12); // several sentences share a row
    expect(rows.length).toBeLessThan(sentences.length);
    const { loss } = await lmLossAndGrad(sessions, tiny, w, rows);
    expect(loss).toBeCloseTo(referenceLoss(Object.fromEntries(w), sentences), 5);
  });

  it('packing changes nothing: packed rows and one sentence per row give the same loss and gradients', async () => {
    const w = randomWeights(2);
    const a = await lmLossAndGrad(sessions, tiny, w, packRows(sentences, 20));
    const b = await lmLossAndGrad(sessions, tiny, w, sentences.map((s) => [s]));
    expect(a.loss).toBeCloseTo(b.loss, 5);
    for (const [name, g] of a.grads) {
      const h = b.grads.get(name)!;
      let scale = 0;
      for (const v of h) scale = Math.max(scale, Math.abs(v));
      for (let i = 0; i < g.length; i++) expect(Math.abs(g[i]! - h[i]!)).toBeLessThanOrEqual(1e-4 * scale + 1e-7);
    }
  });

  it('every weight gradient matches central finite differences of the float64 reference', async () => {
    const w = randomWeights(3);
    const { grads } = await lmLossAndGrad(sessions, tiny, w, packRows(sentences, 16));
    const w64 = Object.fromEntries([...w].map(([k, v]) => [k, Float64Array.from(v)]));
    const r = new Rng(9);
    const eps = 1e-4;
    let checked = 0;
    for (const [name, g] of grads) {
      // The coordinate with the largest gradient, and one at random.
      let big = 0;
      for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[big]!)) big = i;
      expect(Math.abs(g[big]!)).toBeGreaterThan(1e-4); // every parameter is reached
      for (const i of [big, r.int(g.length)]) {
        const p = w64[name]!;
        const keep = p[i]!;
        p[i] = keep + eps;
        const up = referenceLoss(w64, sentences);
        p[i] = keep - eps;
        const down = referenceLoss(w64, sentences);
        p[i] = keep;
        const fd = (up - down) / (2 * eps);
        expect(Math.abs(g[i]! - fd), `${name}[${i}]: engine ${g[i]}, finite difference ${fd}`).toBeLessThanOrEqual(2e-3 * Math.abs(g[big]!) + 2e-5);
        checked++;
      }
    }
    expect(checked).toBe(2 * grads.size);
  });
});

describe('demo LM optimiser', () => {
  it('Adam: one step by hand, bias correction, decoupled weight decay', () => {
    const p = new Map([['w', Float32Array.of(1, -2)]]);
    const adam = new Adam({ weightDecay: 0.5 });
    adam.step(p, new Map([['w', Float32Array.of(0.5, -4)]]), 0.1);
    // m̂ = g, v̂ = g², so the step is lr·sign(g); decay subtracts lr·wd·p first.
    expect(p.get('w')![0]).toBeCloseTo(1 - 0.05 - 0.1, 6);
    expect(p.get('w')![1]).toBeCloseTo(-2 + 0.1 + 0.1, 6);
    adam.step(p, new Map([['w', Float32Array.of(0.5, -4)]]), 0.1);
    expect(adam.steps).toBe(2);
  });

  it('learning rate: linear warmup, cosine decay to the final fraction', () => {
    const o = { peak: 1, warmup: 10, total: 110, final: 0.1 };
    expect(lrSchedule(0, o)).toBeCloseTo(0.1);
    expect(lrSchedule(9, o)).toBeCloseTo(1);
    expect(lrSchedule(60, o)).toBeCloseTo(0.55);
    expect(lrSchedule(110, o)).toBeCloseTo(0.1);
  });
});

describe('demo LM training', () => {
  it('a short run on the corpus lowers the loss, deterministically, and the folder loads and matches the reference', async () => {
    const words = corpusWords();
    const enc = new WordEncoder(words);
    const cfg = demoNeoxConfig({ layers: 1, hidden: 32, heads: 2, intermediate: 64, vocab: enc.size, maxPositions: 64 });
    const run = async () => {
      const corpus = new Corpus({ seed: 4 });
      return trainLm({
        config: cfg, seed: 1, steps: 40, tokensPerStep: 256, rowLength: 64, peakLr: 3e-3, warmup: 5,
        next: () => enc.encode(corpus.next().words), sessions,
      });
    };
    const a = await run();
    const first = a.losses.slice(0, 3).reduce((x, y) => x + y) / 3;
    const last = a.losses.slice(-3).reduce((x, y) => x + y) / 3;
    expect(first).toBeGreaterThan(Math.log(enc.size) - 0.5);
    expect(last).toBeLessThan(first - 1.5);
    const b = await run();
    expect(b.losses).toEqual(a.losses); // bit-for-bit: seeded data, one intra-op thread

    const dir = mkdtempSync(join(tmpdir(), 'sfc-demo-lm-'));
    dirs.push(dir);
    writeModelFolder(dir, cfg, a.weights, words);
    const model = await loadNeoxFolder(dir, sessions);
    const ids = enc.encode(['The', 'authors', 'near', 'the', 'guards']);
    const { h } = await model.forward(model.batchFromIds([ids]));
    const logits = (await model.logits(model.batchFromIds([ids]), h)).data;
    const ref = gptNeoxForward64(hfConfigJson(cfg) as unknown as NeoxRefConfig, Object.fromEntries(a.weights), [ids]).logits;
    const V = enc.size;
    for (let v = 0; v < V; v++) expect(logits[v]).toBeCloseTo(ref[(ids.length - 1) * V + v]!, 3);
  });
});
