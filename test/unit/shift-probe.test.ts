/**
 * SHIFT's small pieces against independent computations: probe training against a plain
 * logistic regression solved by Newton's method (IRLS) in float64 here, one AdamW step by hand,
 * mean pooling with padding, the Bias in Bios loader on a small generated copy laid out like the
 * real dataset, judgement lists (including the original annotation file's SHIFT lines), and the
 * demo's judging rule.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '../../src-main/engine/tensor';
import { PROBE_RECIPE, accuracy, meanPool, predict, trainProbe } from '../../src-main/circuits/probe';
import { GROUPS, NURSE, PROFESSOR, loadBiasInBios, parseBiasInBios, formatBiosJsonl } from '../../src-main/data/bias-in-bios';
import { PyRandom } from '../../src-main/data/py-random';
import { PYTHIA_BIB_ABLATED, PYTHIA_BIB_KEPT, formatJudgementJsonl, parseJudgementJsonl } from '../../src-main/data/judgements';
import { mulberry32, randn } from '../helpers/random';
import { judgeByGenderWords, judgedContexts } from '../../src-main/demo/build-shift';

const dir = mkdtempSync(join(tmpdir(), 'sfc-shift-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Logistic regression by Newton's method (IRLS) in float64: the unregularised maximum-likelihood weights (bias last). */
function irls(x: Float32Array, y: number[], D: number): Float64Array {
  const N = y.length;
  const P = D + 1;
  const w = new Float64Array(P);
  const row = (n: number, j: number) => (j < D ? x[n * D + j] : 1);
  for (let it = 0; it < 50; it++) {
    const g = new Float64Array(P);
    const H = new Float64Array(P * P);
    for (let n = 0; n < N; n++) {
      let z = 0;
      for (let j = 0; j < P; j++) z += w[j] * row(n, j);
      const p = 1 / (1 + Math.exp(-z));
      for (let j = 0; j < P; j++) {
        g[j] += (p - y[n]) * row(n, j);
        for (let k = 0; k < P; k++) H[j * P + k] += p * (1 - p) * row(n, j) * row(n, k);
      }
    }
    // Solve H·step = g (Gaussian elimination with partial pivoting).
    const A = Array.from({ length: P }, (_, j) => [...H.subarray(j * P, (j + 1) * P), g[j]]);
    for (let c = 0; c < P; c++) {
      let piv = c;
      for (let r = c + 1; r < P; r++) if (Math.abs(A[r][c]) > Math.abs(A[piv][c])) piv = r;
      [A[c], A[piv]] = [A[piv], A[c]];
      for (let r = 0; r < P; r++) {
        if (r === c) continue;
        const f = A[r][c] / A[c][c];
        for (let k = c; k <= P; k++) A[r][k] -= f * A[c][k];
      }
    }
    let change = 0;
    for (let j = 0; j < P; j++) {
      const s = A[j][P] / A[j][j];
      w[j] -= s;
      change = Math.max(change, Math.abs(s));
    }
    if (change < 1e-12) break;
  }
  return w;
}

/** Overlapping classes (so the maximum-likelihood solution is finite). */
function synthetic(N: number, D: number, seed: number): { x: Float32Array; y: number[] } {
  const r = mulberry32(seed);
  const dir = Array.from({ length: D }, () => randn(r));
  const x = new Float32Array(N * D);
  const y: number[] = [];
  for (let n = 0; n < N; n++) {
    const label = r() < 0.4 ? 1 : 0;
    y.push(label);
    for (let d = 0; d < D; d++) x[n * D + d] = randn(r) + (label ? 0.6 : -0.2) * dir[d] / Math.sqrt(D) + 0.3;
  }
  return { x, y };
}

describe('probe training', () => {
  it('reaches the plain logistic-regression solution (Newton/IRLS in float64) when run to convergence', () => {
    const D = 5;
    const { x, y } = synthetic(400, D, 3);
    const ref = irls(x, y, D);
    const p = trainProbe(x, y, D, { weightDecay: 0, epochs: 3000, batchSize: 400, lr: 3e-3 });
    const got = [...p.weight, p.bias];
    const scale = Math.max(...ref.map(Math.abs));
    for (let j = 0; j <= D; j++) expect(Math.abs(got[j] - ref[j])).toBeLessThan(0.02 * scale);
    // Same decisions on every training row.
    const refPred = Array.from({ length: y.length }, (_, n) => {
      let z = ref[D];
      for (let d = 0; d < D; d++) z += ref[d] * x[n * D + d];
      return z > 0 ? 1 : 0;
    });
    expect(accuracy(predict(p, x), refPred)).toBeGreaterThan(0.99);
  });

  it('takes exactly one AdamW step of the recipe (decoupled weight decay, bias corrected) on one batch', () => {
    const D = 3;
    const x = Float32Array.from([1, 2, -1, 0.5, -0.5, 2]);
    const y = [1, 0];
    const p = trainProbe(x, y, D, { batchSize: 2 });
    // The initial weights: random.Random(42), uniform ±1/√D, weights then bias.
    const rng = new PyRandom(PROBE_RECIPE.seed);
    const w0 = Array.from({ length: D + 1 }, () => (2 * rng.random() - 1) / Math.sqrt(D));
    const g = new Array(D + 1).fill(0);
    for (let n = 0; n < 2; n++) {
      let z = w0[D];
      for (let d = 0; d < D; d++) z += w0[d] * x[n * D + d];
      const e = (1 / (1 + Math.exp(-z)) - y[n]) / 2;
      for (let d = 0; d < D; d++) g[d] += e * x[n * D + d];
      g[D] += e;
    }
    const { lr, weightDecay, beta1, beta2, eps } = PROBE_RECIPE;
    const want = w0.map((w, j) => {
      const m = (1 - beta1) * g[j] / (1 - beta1);
      const v = (1 - beta2) * g[j] ** 2 / (1 - beta2);
      return w * (1 - lr * weightDecay) - (lr * m) / (Math.sqrt(v) + eps);
    });
    const got = [...p.weight, p.bias];
    for (let j = 0; j <= D; j++) expect(got[j]).toBeCloseTo(want[j], 6);
  });

  it('refuses bad labels and empty data, naming the problem', () => {
    expect(() => trainProbe(new Float32Array(2), [2], 2)).toThrow(/label 1 is 2, not 0 or 1/);
    expect(() => trainProbe(new Float32Array(0), [], 2)).toThrow(/no training examples/);
    expect(() => trainProbe(new Float32Array(3), [0], 2)).toThrow(/3 activation values for 1 labels of width 2/);
  });
});

describe('mean pooling', () => {
  it('averages over real tokens only, with left padding', () => {
    const [B, S, D] = [3, 5, 4];
    const r = mulberry32(9);
    const h = new Tensor(Float32Array.from({ length: B * S * D }, () => randn(r) * 10), [B, S, D]);
    const lens = [5, 2, 3];
    const mask = Int32Array.from({ length: B * S }, (_, i) => (i % S >= S - lens[Math.floor(i / S)] ? 1 : 0));
    const pooled = meanPool(h, mask);
    for (let b = 0; b < B; b++) {
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let p = S - lens[b]; p < S; p++) s += h.data[(b * S + p) * D + d];
        expect(pooled[b * D + d]).toBeCloseTo(s / lens[b], 5);
      }
    }
    // Padding values never enter: change them and nothing moves.
    const h2 = new Tensor(Float32Array.from(h.data), [B, S, D]);
    for (let i = 0; i < B * S; i++) if (!mask[i]) h2.data.fill(1e6, i * D, (i + 1) * D);
    expect(Array.from(meanPool(h2, mask))).toEqual(Array.from(pooled));
  });

  it('refuses a row with no real tokens', () => {
    expect(() => meanPool(new Tensor(new Float32Array(4), [1, 2, 2]), [0, 0])).toThrow(/example 1 of the batch has no real tokens/);
  });
});

describe('Bias in Bios loader', () => {
  /** A small copy laid out like the dataset's export: train.jsonl / test.jsonl with other professions mixed in. */
  function writeCopy(root: string, sizes: Record<'train' | 'test', [number, number, number, number]>): void {
    mkdirSync(root, { recursive: true });
    for (const split of ['train', 'test'] as const) {
      const lines: string[] = [];
      const [mp, fp, mn, fn] = sizes[split];
      const add = (n: number, profession: number, gender: number) => {
        for (let i = 0; i < n; i++) lines.push(JSON.stringify({ hard_text: `${split} bio ${lines.length} p${profession} g${gender}`, profession, gender }));
      };
      add(mp, PROFESSOR, 0);
      add(3, 2, 1); // other professions are left out
      add(fp, PROFESSOR, 1);
      add(mn, NURSE, 0);
      add(2, 7, 0);
      add(fn, NURSE, 1);
      writeFileSync(join(root, `${split}.jsonl`), lines.join('\n') + '\n');
    }
    writeFileSync(join(root, 'dev.jsonl'), 'not read\n');
  }

  it('keeps professors and nurses and builds the ambiguous, balanced and subgroup sets with random.Random(42)', () => {
    const root = join(dir, 'bib');
    writeCopy(root, { train: [40, 15, 9, 50], test: [20, 8, 6, 30] });
    const d = loadBiasInBios(root);
    expect(d.counts).toEqual({ train: { read: 119, kept: 114 }, test: { read: 69, kept: 64 } });
    for (const [split, [mp, fp, mn, fn]] of [['train', [40, 15, 9, 50]], ['test', [20, 8, 6, 30]]] as const) {
      const s = d[split];
      expect(GROUPS.map((g) => s.groups[g].length)).toEqual([mp, mn, fp, fn]);
      const nAmb = Math.min(mp, fn);
      const nBal = Math.min(mp, fp, mn, fn);
      expect(s.ambiguous.length).toBe(2 * nAmb);
      expect(s.balanced.length).toBe(4 * nBal);
      // The ambiguous set: the first n male professors and female nurses, in a seeded order.
      const want = [...s.groups.male_professor.slice(0, nAmb), ...s.groups.female_nurse.slice(0, nAmb)];
      const order = new PyRandom(42).shuffle(want.map((_, i) => i));
      expect(s.ambiguous).toEqual(order.map((i) => want[i]));
      expect(new Set(s.ambiguous.map((i) => `${s.rows[i].profession}${s.rows[i].gender}`))).toEqual(new Set(['00', '11']));
      const bal = s.balanced.map((i) => s.rows[i]);
      for (const g of [0, 1]) for (const p of [0, 1]) expect(bal.filter((r) => r.gender === g && r.profession === p).length).toBe(nBal);
    }
    // The store's single-file form reads back to the same sets.
    const again = parseBiasInBios(formatBiosJsonl(d), 'stored');
    expect(again.train.ambiguous).toEqual(d.train.ambiguous);
    expect(again.test.balanced).toEqual(d.test.balanced);
  });

  it('names the file, line and problem of broken input', () => {
    const root = join(dir, 'broken');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'train.jsonl'), '{"hard_text": "a", "profession": 21, "gender": 0}\n{"hard_text": "b", "gender": 1}\n');
    writeFileSync(join(root, 'test.jsonl'), '');
    expect(() => loadBiasInBios(root)).toThrow(/train\.jsonl:2: missing key "profession"/);
    writeFileSync(join(root, 'train.jsonl'), '{"hard_text": "a", "profession": 21, "gender": 2}\n');
    expect(() => loadBiasInBios(root)).toThrow(/train\.jsonl:1: "gender" must be 0 \(male\) or 1 \(female\), got 2/);
    rmSync(join(root, 'test.jsonl'));
    writeFileSync(join(root, 'train.jsonl'), '{"hard_text": "a", "profession": 21, "gender": 0}\n');
    expect(() => loadBiasInBios(root)).toThrow(/no test\.jsonl in this folder/);
    writeFileSync(join(root, 'test.jsonl'), '{"hard_text": "a", "profession": 21, "gender": 0}\n');
    expect(() => loadBiasInBios(root)).toThrow(/the train split has no male nurses, female professors, female nurses/);
    expect(() => parseBiasInBios('{"hard_text": "a", "profession": 21, "gender": 0}\n', 'one.jsonl')).toThrow(/one\.jsonl:1: "split" must be "train" or "test"/);
    expect(() => loadBiasInBios(join(dir, 'nowhere'))).toThrow(/nowhere: no such file or folder/);
  });
});

describe('judgement lists', () => {
  it('reads explicit judgements and the original annotation file\'s SHIFT lines as the paper\'s decisions', () => {
    const text = [
      '{"Name": "resid_1/17", "Annotation": "\'she\'", "Judgement": "ablate", "Notes": "pronoun"}',
      '{"Name": "embed/3", "Judgement": "Keep"}',
      '{"Component": "resid", "Layer": "2", "Feature": "5", "Name": "resid_2/5", "Annotation": "plural nouns", "Notes": ""}',
      '{"Name": "embed/946", "Annotation": "\'his\'"}',
      '{"Name": "embed/5719", "Annotation": "\'research\'"}',
      '{"Name": "Name", "Annotation": "Annotation"}',
    ].join('\n');
    const { rows, skipped } = parseJudgementJsonl(text, 'j.jsonl');
    expect(rows.map((r) => [`${r.submodule}/${r.feature}`, r.judgement, r.note])).toEqual([
      ['resid_1/17', 'ablate', 'pronoun'],
      ['embed/3', 'keep', null],
      ['embed/946', 'ablate', null],
      ['embed/5719', 'keep', null],
    ]);
    expect(skipped.map((s) => s.line)).toEqual([3, 6]);
    expect(PYTHIA_BIB_ABLATED.size).toBe(55);
    expect(PYTHIA_BIB_KEPT.size).toBe(12);
  });

  it('round-trips through its writer and refuses what it cannot judge, naming the line', () => {
    const rows = [{ submodule: 'attn_0', feature: 4, judgement: 'keep' as const, annotation: 'x', note: 'n' }];
    expect(parseJudgementJsonl(formatJudgementJsonl(rows), 'w').rows).toMatchObject(rows);
    expect(() => parseJudgementJsonl('{"Name": "embed/1", "Judgement": "maybe"}', 'a.jsonl')).toThrow(/a\.jsonl:1: Judgement of embed\/1 must be "keep" or "ablate", got "maybe"/);
    expect(() => parseJudgementJsonl('{"Name": "embed/error", "Judgement": "ablate"}', 'b.jsonl')).toThrow(/b\.jsonl:1: embed\/error: an error node cannot be judged/);
    expect(() => parseJudgementJsonl('{"Name": "embed/1", "Judgement": "keep"}\n{"Name": "embed/1", "Judgement": "ablate"}', 'c.jsonl')).toThrow(/c\.jsonl:2: embed\/1 is judged again \(first on line 1\)/);
    expect(() => parseJudgementJsonl('{"Judgement": "keep"}', 'd.jsonl')).toThrow(/d\.jsonl:1: missing Name/);
  });
});

describe("the demo's judging rule (a stated stand-in for a person)", () => {
  const tokens = ['Mary', ' lives', ' in', ' Boston', ' .', ' She', ' cares', ' for', ' patients', ' .', ' He', ' teaches', ' .'];
  const str = (id: number) => tokens[id];
  const seq = tokens.map((_, i) => i);
  it('reads whom the text before each peak is about', () => {
    expect(judgedContexts(str, [seq], [{ sequence: 0, position: 4 }, { sequence: 0, position: 12 }, { sequence: 0, position: 8 }])).toEqual([
      { peak: ' .', about: 1 },
      { peak: ' .', about: 0 },
      { peak: ' patients', about: 1 },
    ]);
    expect(judgedContexts(str, [[1, 2]], [{ sequence: 0, position: 1 }])).toEqual([{ peak: ' in', about: null }]);
  });
  it('ablates on gendered peaks, gendered outputs, or punctuation and function words in text about one gender only', () => {
    const ctx = (peak: string, about: 0 | 1 | null, n: number) => Array.from({ length: n }, () => ({ peak, about }));
    const none = ['x', 'y'];
    expect(judgeByGenderWords({ contexts: ctx(' She', 1, 20), promoted: none }).ablate).toBe(true);
    expect(judgeByGenderWords({ contexts: ctx(' cares', 1, 20), promoted: [' she', ' her', 'x'] }).ablate).toBe(true);
    // every top context a sentence end in women's text: tracks who the text is about
    expect(judgeByGenderWords({ contexts: ctx(' .', 1, 20), promoted: none }).ablate).toBe(true);
    // one context about a man, a work word at the peak, or too few contexts: kept
    expect(judgeByGenderWords({ contexts: [...ctx(' .', 1, 19), ...ctx(' .', 0, 1)], promoted: none }).ablate).toBe(false);
    expect(judgeByGenderWords({ contexts: ctx(' patients', 1, 20), promoted: none }).ablate).toBe(false);
    expect(judgeByGenderWords({ contexts: ctx(' .', 1, 9), promoted: none }).ablate).toBe(false);
    expect(judgeByGenderWords({ contexts: ctx(' .', 1, 20), promoted: none }).note).toMatch(/20\/20 top contexts peak on punctuation or a function word in text about one gender/);
  });
});
