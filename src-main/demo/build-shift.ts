/**
 * Builds the SHIFT demo (resources/demo/shift; docs/shift.md, The demo task): synthetic
 * biographies in the Bias in Bios layout, a small GPT-NeoX trained on such text, SAEs for every
 * hook point, and then the whole SHIFT loop on them (original probe, classifier circuit,
 * judgements by a stated rule, the table), whose numbers go to README.md and metrics.json.
 * Deterministic: every random choice comes from the recipe's seeds and onnxruntime runs on one
 * thread.
 *
 *   <out>/data/bios.jsonl                 hard_text, profession (21 professor, 13 nurse), gender, split
 *   <out>/model/…, <out>/saes/…           as resources/demo
 *   <out>/judgements.jsonl                the demo's judgement list (Name, Annotation, Judgement)
 *   <out>/metrics.json, <out>/README.md
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionCache } from '../engine/session';
import { hookPoints } from '../models/gptneox';
import { loadNeoxFolder } from '../models/load';
import { loadTokenizer } from '../models/tokenizer';
import { loadSaeSet } from '../saes/load';
import { SaeOps } from '../circuits/sae-ops';
import type { CircuitContext } from '../circuits/state';
import { PROBE_RECIPE, accuracy, plainRun, pooledResiduals, predict, residualView, trainProbe } from '../circuits/probe';
import { type ScoredFeature, type ShiftResult, METHOD_LABELS, discoverClassifierFeatures, probeContext, runShift, tokenizeBios } from '../circuits/shift';
import { featureDashboards } from '../circuits/dashboard';
import { NURSE, PROFESSOR, loadBiasInBios } from '../data/bias-in-bios';
import { formatJudgementJsonl } from '../data/judgements';
import { BIO_OPTIONS, FUNCTION_WORDS, GENDER_WORDS, type Gender, bioSplit, bioStream, bioWords, genderOfWord } from './bios';
import { hookActivations } from './evaluate';
import { Rng } from './rng';
import { listFiles, mean } from './build';
import { WordEncoder, wordsToText, writeDemoTokenizer } from './tokenizer';
import { demoNeoxConfig, trainLm, writeModelFolder } from './train-lm';
import { trainSae, writeAe } from './train-sae';

export const SHIFT_DEMO_RECIPE = {
  model: { layers: 3, hidden: 64, heads: 4, intermediate: 256, maxPositions: 64 },
  /** Group sizes like the real data's: professors mostly men, nurses mostly women. */
  data: {
    seed: 3,
    bios: BIO_OPTIONS,
    train: { male_professor: 700, female_professor: 250, male_nurse: 200, female_nurse: 850 },
    test: { male_professor: 350, female_professor: 150, male_nurse: 150, female_nurse: 450 },
  },
  lm: { seed: 2, corpusSeed: 13, steps: 800, tokensPerStep: 1024, rowLength: 64, peakLr: 3e-3, warmup: 80, finalLr: 0.1, clip: 1, weightDecay: 0.01 },
  sae: {
    run: 'shift',
    seed: 9,
    corpusSeed: 23,
    bios: 2500,
    expansion: 8,
    /** λ per kind of hook point, on activations normalised to mean ‖x‖² = D (weaker than the agreement demo's: gender must land in few, clean features). */
    l1: { embed: 0.5, attn: 0.5, mlp: 0.25, resid: 0.5 } as Record<'embed' | 'attn' | 'mlp' | 'resid', number>,
    lr: 2e-3,
    steps: 2000,
    batch: 1024,
    warmup: 100,
    sparsityWarmup: 100,
    decayStart: 1600,
    resampleEvery: 400,
    deadWindow: 200,
  },
  /** The classifier: probe layer and the recipe (docs/shift.md). */
  probe: { layer: 0, ...PROBE_RECIPE, batchSize: 8 },
  /** Classifier discovery: 100 ambiguous-train examples in batches of 4, effect > threshold. */
  discovery: { n: 100, batchSize: 4, steps: 10, threshold: 0.02 },
  /** The stand-in for a person: top contexts and promoted tokens of each circuit feature. */
  judge: { contexts: 20, tokens: 10, scan: 600 },
  run: { seed: 42, batchSize: 64, skyline: { n: 100, batchSize: 4, steps: 10 } },
};
export type ShiftDemoRecipe = typeof SHIFT_DEMO_RECIPE;

export interface ShiftDemoReport {
  recipe: ShiftDemoRecipe;
  vocab: number;
  parameters: number;
  lm: { seconds: number; tokens: number; firstLoss: number; finalLoss: number };
  saes: Record<string, { varianceExplained: number; l0: number; dead: number; resampled: number }>;
  probe: { trainAccuracy: number; ambiguousTest: number };
  circuit: { features: number; ablated: number; kept: number; threshold: number };
  shift: ShiftResult['rows'];
  sizes: ShiftResult['sizes'];
  seconds: { data: number; lm: number; saes: number; shift: number; total: number };
  files: { path: string; bytes: number; sha256: string }[];
  totalBytes: number;
}

const now = () => performance.now() / 1000;

/** One top context as the judging view shows it: the token at the peak, and the gender of the nearest name or pronoun at or before the peak (null: none). */
export interface JudgedContext {
  peak: string;
  about: Gender | null;
}

/**
 * The judging rule standing in for a person (docs/shift.md, The demo task): a feature is judged
 * spurious when
 *  (a) most of its top contexts peak on a gendered word (a name or pronoun), or
 *  (b) most of the tokens it promotes most are gendered words, or
 *  (c) every one of its top contexts (at least 10) peaks on punctuation or a function word in
 *      text about one and the same gender (the nearest name or pronoun before the peak): it
 *      tracks who the sentence is about (the next sentence's "She" / "He"), not the work.
 * The rule reads only what the judging view shows.
 */
export function judgeByGenderWords(view: { contexts: JudgedContext[]; promoted: string[] }): { ablate: boolean; note: string } {
  const strip = (t: string) => t.replace(/^[\sĠ]+/, '');
  const n = view.contexts.length;
  const ctxHits = view.contexts.filter((c) => GENDER_WORDS.has(strip(c.peak))).length;
  const outHits = view.promoted.filter((t) => GENDER_WORDS.has(strip(t))).length;
  const oneGender = Math.max(...([0, 1] as const).map((g) => view.contexts.filter((c) => c.about === g && FUNCTION_WORDS.has(strip(c.peak))).length), 0);
  const byPeak = n > 0 && ctxHits * 2 > n;
  const byOutput = view.promoted.length > 0 && outHits * 2 > view.promoted.length;
  const byWhom = n >= 10 && oneGender === n;
  const note = `peaks on a gendered word in ${ctxHits}/${n} top contexts; ${outHits}/${view.promoted.length} top promoted tokens gendered; ${oneGender}/${n} top contexts peak on punctuation or a function word in text about one gender`;
  return { ablate: byPeak || byOutput || byWhom, note };
}

/** The judging view's contexts in the rule's terms: peak token and whom the text before it is about. */
export function judgedContexts(tokenString: (id: number) => string, seqs: number[][], contexts: { sequence: number; position: number }[]): JudgedContext[] {
  const strip = (t: string) => t.replace(/^[\sĠ]+/, '');
  return contexts.map((c) => {
    const ids = seqs[c.sequence];
    let about: Gender | null = null;
    for (let p = c.position; p >= 0 && about === null; p--) about = genderOfWord(strip(tokenString(ids[p])));
    return { peak: tokenString(ids[c.position]), about };
  });
}

export async function buildShiftDemo(out: string, o: { recipe?: ShiftDemoRecipe; log?: (line: string) => void } = {}): Promise<ShiftDemoReport> {
  const R = o.recipe ?? SHIFT_DEMO_RECIPE;
  const log = o.log ?? (() => {});
  const t0 = now();
  const sessions = new SessionCache({ threads: 1 });
  try {
    // 1. vocabulary, tokenizer, the biographies in the Bias in Bios layout
    const words = bioWords(R.data.bios);
    const enc = new WordEncoder(words);
    const modelDir = join(out, 'model');
    writeDemoTokenizer(modelDir, words);
    await loadTokenizer(modelDir); // fails here, not later, if the vocabulary is broken
    const rng = new Rng(R.data.seed);
    const lines: string[] = [];
    for (const split of ['train', 'test'] as const) {
      for (const b of bioSplit(rng, R.data[split], R.data.bios)) {
        lines.push(JSON.stringify({ hard_text: wordsToText(b.words), profession: b.profession ? NURSE : PROFESSOR, gender: b.gender, split }));
      }
    }
    mkdirSync(join(out, 'data'), { recursive: true });
    const dataFile = join(out, 'data', 'bios.jsonl');
    writeFileSync(dataFile, lines.join('\n') + '\n');
    log(`data: ${lines.length} biographies`);
    const tData = now();

    // 2. the language model, on biographies of all four groups alike
    const config = demoNeoxConfig({ ...R.model, vocab: enc.size });
    const next = bioStream(R.lm.corpusSeed, R.data.bios);
    let window = 0;
    let count = 0;
    const lm = await trainLm({
      ...R.lm,
      config,
      sessions,
      next: () => enc.encode(next().words),
      onStep: ({ step, loss }) => {
        window += loss;
        count++;
        if ((step + 1) % 100 === 0 || step === R.lm.steps - 1) {
          log(`lm step ${step + 1}/${R.lm.steps}: loss ${(window / count).toFixed(4)} (${(now() - tData).toFixed(0)} s)`);
          window = count = 0;
        }
      },
    });
    writeModelFolder(modelDir, config, lm.weights, words, { source: 'sfc-workbench SHIFT demo (npm run demo:train:shift)' });
    const tLm = now();

    // 3. SAEs for every hook point
    const model = await loadNeoxFolder(modelDir, sessions);
    const saeStream = bioStream(R.sae.corpusSeed, R.data.bios);
    const seqs = Array.from({ length: R.sae.bios }, () => enc.encode(saeStream().words));
    const acts = await hookActivations(model, seqs);
    const saeDir = join(out, 'saes');
    const F = R.sae.expansion * config.hiddenSize;
    const saeInfo: ShiftDemoReport['saes'] = {};
    for (const [i, hook] of hookPoints(config).entries()) {
      const l1 = R.sae.l1[hook.split('_')[0] as keyof ShiftDemoRecipe['sae']['l1']];
      const r = await trainSae(acts.get(hook)!, config.hiddenSize, { ...R.sae, l1, f: F, seed: R.sae.seed + i, sessions });
      writeAe(saeDir, hook, R.sae.run, r.state, {
        trainer: { dict_class: 'AutoEncoder', trainer_class: 'StandardTrainer (sfc-workbench src-main/demo/train-sae.ts)', activation_dim: config.hiddenSize, dict_size: F, lr: R.sae.lr, l1_penalty: l1, steps: R.sae.steps, seed: R.sae.seed + i, layer: hook === 'embed' ? null : Number(hook.split('_')[1]), lm_name: 'sfc-workbench SHIFT demo (resources/demo/shift/model)', submodule_name: hook, activation_scale: r.scale },
        buffer: { d_submodule: config.hiddenSize, io: 'out', n_ctxs: R.sae.bios, out_batch_size: R.sae.batch, device: 'cpu' },
      });
      saeInfo[hook] = { varianceExplained: NaN, l0: r.final.l0, dead: NaN, resampled: r.resampled.reduce((a, b) => a + b, 0) };
      log(`sae ${hook}: recon ${r.final.recon.toFixed(4)} (normalised), L0 ${r.final.l0.toFixed(1)}, resampled ${r.resampled.join('+') || 0}`);
      acts.delete(hook);
    }
    const tSae = now();

    // 4. SHIFT on the demo, through the program's own loaders
    const saes = loadSaeSet(saeDir, { submodules: model.hookPoints, d: config.hiddenSize, layers: config.numLayers });
    const base: CircuitContext = { model, saes, ops: new SaeOps(sessions), submodules: model.hookPoints };
    const data = tokenizeBios(model, loadBiasInBios(dataFile, 42));
    const D = config.hiddenSize;
    const view = residualView(model, R.probe.layer);
    const tr = data.train;
    const trainX = await pooledResiduals(view, tr.ambiguous.map((i) => data.ids.train[i]), plainRun(view));
    const labels = tr.ambiguous.map((i) => tr.rows[i].profession);
    const original = trainProbe(trainX, labels, D, R.probe);
    const te = data.test;
    const testX = await pooledResiduals(view, te.ambiguous.map((i) => data.ids.test[i]), plainRun(view));
    const probe = {
      trainAccuracy: accuracy(predict(original, trainX), labels),
      ambiguousTest: accuracy(predict(original, testX), te.ambiguous.map((i) => te.rows[i].profession)),
    };
    log(`original probe: train ${(probe.trainAccuracy * 100).toFixed(1)}%, ambiguous test ${(probe.ambiguousTest * 100).toFixed(1)}%`);

    const ctx = probeContext(base, original, R.probe.layer);
    const disc = tr.ambiguous.slice(0, R.discovery.n).map((i) => ({ ids: data.ids.train[i], label: tr.rows[i].profession }));
    const { selected } = await discoverClassifierFeatures(ctx, disc, R.discovery);
    log(`classifier circuit: ${selected.length} features with effect > ${R.discovery.threshold}`);

    const scan = tr.rows.slice(0, R.judge.scan).map((_, i) => data.ids.train[i]);
    const boards = await featureDashboards(ctx, model, scan, selected, { top: R.judge.contexts, tokens: R.judge.tokens });
    const tok = model.tokenizer!;
    const judged = boards.map((b, k) => {
      const j = judgeByGenderWords({ contexts: judgedContexts((id) => tok.tokenString(id), scan, b.contexts), promoted: b.topTokens.map((t) => tok.tokenString(t.id)) });
      return { feature: selected[k] as ScoredFeature, ...j, label: describe(b.contexts.map((c) => tok.tokenString(scan[c.sequence][c.position]))) };
    });
    const ablate = judged.filter((j) => j.ablate).map((j) => ({ submodule: j.feature.submodule, feature: j.feature.feature }));
    writeFileSync(
      join(out, 'judgements.jsonl'),
      formatJudgementJsonl(judged.map((j) => ({ submodule: j.feature.submodule, feature: j.feature.feature, annotation: j.label, judgement: j.ablate ? 'ablate' : 'keep', note: j.note }))),
    );
    log(`judged: ${ablate.length} ablate, ${judged.length - ablate.length} keep`);

    const result = await runShift(base, data, original, R.probe.layer, { ablate, baselines: true, seed: R.run.seed, recipe: R.probe, batchSize: R.run.batchSize, skyline: R.run.skyline });
    for (const r of result.rows) log(`${METHOD_LABELS[r.method].padEnd(16)} profession ${pct(r.profession)} gender ${pct(r.gender)} worst ${pct(r.worstGroup)} ambiguous ${pct(r.ambiguous)}`);
    const tShift = now();

    const report: ShiftDemoReport = {
      recipe: R,
      vocab: enc.size,
      parameters: model.parameterCount,
      lm: { seconds: tLm - tData, tokens: lm.tokens, firstLoss: mean(lm.losses.slice(0, 10)), finalLoss: mean(lm.losses.slice(-100)) },
      saes: saeInfo,
      probe,
      circuit: { features: selected.length, ablated: ablate.length, kept: selected.length - ablate.length, threshold: R.discovery.threshold },
      shift: result.rows,
      sizes: result.sizes,
      seconds: { data: tData - t0, lm: tLm - tData, saes: tSae - tLm, shift: tShift - tSae, total: now() - t0 },
      files: [],
      totalBytes: 0,
    };
    report.files = listFiles(out);
    report.totalBytes = report.files.reduce((a, f) => a + f.bytes, 0);
    writeFileSync(join(out, 'README.md'), shiftReadme(report, lines.slice(0, 3).map((l) => (JSON.parse(l) as { hard_text: string }).hard_text)));
    writeFileSync(join(out, 'metrics.json'), JSON.stringify(report, null, 2) + '\n');
    return report;
  } finally {
    await sessions.dispose();
  }
}

/** A short label from a feature's top tokens ("'she', 'her'"). */
function describe(tokens: string[]): string {
  const counts = new Map<string, number>();
  for (const t of tokens) counts.set(t.replace(/^Ġ/, ''), (counts.get(t.replace(/^Ġ/, '')) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
  return top.length ? `top tokens ${top.map(([t]) => `'${t}'`).join(', ')}` : 'never active in the scanned text';
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);

export function shiftReadme(r: ShiftDemoReport, examples: string[]): string {
  const R = r.recipe;
  const m = R.model;
  const p1 = (x: number) => (x * 100).toFixed(1);
  return [
    '# The SHIFT demo: synthetic biographies, a small model and its SAEs',
    '',
    'Made by `npm run demo:train:shift` (`scripts/demo-train-shift.ts`, code in `src-main/demo/build-shift.ts` and `bios.ts`),',
    'deterministically from fixed seeds. Do not edit these files by hand: regenerate them. How it works: `docs/shift.md`.',
    '',
    `- \`data/bios.jsonl\`: ${Object.values(R.data.train).reduce((a, b) => a + b, 0)} train and ${Object.values(R.data.test).reduce((a, b) => a + b, 0)} test biographies in the Bias in Bios layout`,
    '  (`hard_text`, `profession` 21 professor / 13 nurse, `gender` 0 male / 1 female, `split`).',
    `- \`model/\`: GPT-NeoX (Pythia architecture), ${m.layers} layers, width ${m.hidden}, ${m.heads} heads, MLP ${m.intermediate}, vocabulary ${r.vocab}, ${r.parameters.toLocaleString('en-US')} parameters, trained on biographies of all four groups.`,
    `- \`saes/\`: ${Object.keys(r.saes).length} ReLU SAEs of ${R.sae.expansion * m.hidden} features (dictionary_learning layout).`,
    '- `judgements.jsonl`: the demo\'s judgement list for its classifier circuit (made by the rule in docs/shift.md).',
    '',
    'Example biographies:',
    '',
    ...examples.map((e) => `    ${e}`),
    '',
    `## SHIFT on the demo (probe on resid_${R.probe.layer}; accuracies in % on the test split)`,
    '',
    `Original probe: ${p1(r.probe.trainAccuracy)} % on its (ambiguous) train set, ${p1(r.probe.ambiguousTest)} % on the ambiguous test set.`,
    `Classifier circuit: ${r.circuit.features} features with effect > ${r.circuit.threshold}; ${r.circuit.ablated} judged spurious and ablated, ${r.circuit.kept} kept.`,
    `Sets: ambiguous train ${r.sizes.ambiguousTrain}, balanced train ${r.sizes.balancedTrain}, balanced test ${r.sizes.balancedTest}, ambiguous test ${r.sizes.ambiguousTest}.`,
    '',
    '| method | ↑ profession | ↓ gender | ↑ worst group | ambiguous test | features ablated |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.shift.map((x) => `| ${METHOD_LABELS[x.method]} | ${p1(x.profession)} | ${p1(x.gender)} | ${p1(x.worstGroup)} | ${p1(x.ambiguous)} | ${x.ablated ?? '–'} |`),
    '',
    `Time: data ${r.seconds.data.toFixed(0)} s, LM ${r.seconds.lm.toFixed(0)} s, SAEs ${r.seconds.saes.toFixed(0)} s, SHIFT ${r.seconds.shift.toFixed(0)} s; total ${r.seconds.total.toFixed(0)} s.`,
    `Size: ${(r.totalBytes / 1e6).toFixed(2)} MB (this README and metrics.json aside).`,
    '',
  ].join('\n');
}
