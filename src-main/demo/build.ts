/**
 * Builds the whole demo artifact (resources/demo): agreement data, the LM, its SAEs, and the
 * measurements, from one recipe. Deterministic: every random choice comes from the recipe's
 * seeds, and onnxruntime runs single-threaded (intra-op 1), whose kernels do not depend on
 * thread scheduling.
 *
 *   <out>/data/{simple,nounpp,rc,within_rc}_{train,test}.jsonl
 *   <out>/model/{config.json, model.safetensors, tokenizer.json, tokenizer_config.json}
 *   <out>/saes/{embed, attn_out_layer{l}, mlp_out_layer{l}, resid_out_layer{l}}/demo_<F>/{ae.pt, config.json}
 *   <out>/metrics.json, <out>/README.md
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { STRUCTURES, type Structure } from '../data/generator';
import { SessionCache } from '../engine/session';
import { hookPoints } from '../models/gptneox';
import { loadNeoxFolder } from '../models/load';
import type { NeoxModel } from '../models/neox-model';
import { loadTokenizer } from '../models/tokenizer';
import { loadSaeSet } from '../saes/load';
import type { SaeSet } from '../saes/types';
import { Corpus, corpusWords, sampleText } from './corpus';
import { type DemoData, heldOutPrefixes, makeDemoData, writeDemoData } from './data';
import { agreementItems, agreementScore, hookActivations, reconstructionHook, saeMetrics, type SaeMetrics } from './evaluate';
import { WordEncoder, writeDemoTokenizer } from './tokenizer';
import { demoNeoxConfig, trainLm, writeModelFolder } from './train-lm';
import { trainSae, writeAe } from './train-sae';

export const DEMO_RECIPE = {
  model: { layers: 3, hidden: 128, heads: 4, intermediate: 512, maxPositions: 64 },
  data: { seed: 1, maxTrain: 2000, maxTest: 500 },
  lm: { seed: 1, corpusSeed: 11, steps: 1500, tokensPerStep: 1024, rowLength: 64, peakLr: 2e-3, warmup: 100, finalLr: 0.1, clip: 1, weightDecay: 0.01 },
  sae: {
    run: 'demo',
    seed: 5,
    corpusSeed: 21,
    sentences: 6000,
    expansion: 4,
    /**
     * λ per kind of hook point (activations normalised to mean ‖x‖² = D). The MLP outputs need
     * a weaker penalty: at λ ≥ 0.75 a third of their features die and stay dead through
     * resampling; at 0.5 the attention outputs exceed L0 32.
     */
    l1: { embed: 1, attn: 1, mlp: 0.5, resid: 1 } as Record<'embed' | 'attn' | 'mlp' | 'resid', number>,
    lr: 2e-3,
    steps: 1000,
    batch: 2048,
    warmup: 100,
    sparsityWarmup: 100,
    decayStart: 800,
    resampleEvery: 200,
    deadWindow: 100,
  },
  /** Held-out corpus sentences for the SAE metrics (a seed no trainer uses). */
  heldOut: { corpusSeed: 31, sentences: 2000 },
};
export type DemoRecipe = typeof DEMO_RECIPE;

/** The held-out SAE evaluation sentences (token ids) of a recipe; the artifact test uses these too. */
export function heldOutSentences(recipe: DemoRecipe, data: DemoData, n = recipe.heldOut.sentences): number[][] {
  const enc = new WordEncoder(corpusWords());
  return new Corpus({ seed: recipe.heldOut.corpusSeed, exclude: heldOutPrefixes(data) }).take(n).map((s) => enc.encode(s.words));
}

export interface HookReport extends SaeMetrics {
  /** Variance explained etc. on the agreement test prefixes' activations. */
  agreement: SaeMetrics;
  /** Per structure: 1 − (mean logit diff with this activation reconstructed) / (mean logit diff). */
  cost: Record<Structure, number>;
  maxCost: number;
  /** Training-time summary. */
  train: { scale: number; resampled: number[]; seconds: number };
}

export interface DemoReport {
  recipe: DemoRecipe;
  vocab: number;
  parameters: number;
  lm: { seconds: number; tokens: number; firstLoss: number; finalLoss: number; msPerStep: number };
  accuracy: Record<Structure, { test: number; testItems: number; train: number; trainItems: number; meanLogitDiff: number }>;
  saes: Record<string, HookReport>;
  seconds: { data: number; lm: number; activations: number; saes: number; evaluation: number; total: number };
  files: { path: string; bytes: number; sha256: string }[];
  totalBytes: number;
}

export interface BuildOptions {
  recipe?: DemoRecipe;
  log?: (line: string) => void;
}

const now = () => performance.now() / 1000;

export async function buildDemo(out: string, o: BuildOptions = {}): Promise<DemoReport> {
  const R = o.recipe ?? DEMO_RECIPE;
  const log = o.log ?? (() => {});
  const t0 = now();
  const sessions = new SessionCache({ threads: 1 });
  try {
    // 1. vocabulary, tokenizer, agreement data
    const words = corpusWords();
    const enc = new WordEncoder(words);
    const modelDir = join(out, 'model');
    writeDemoTokenizer(modelDir, words);
    const tok = await loadTokenizer(modelDir);
    const data = makeDemoData(tok, R.data);
    writeDemoData(join(out, 'data'), data);
    const exclude = heldOutPrefixes(data);
    log(`data: ${STRUCTURES.map((s) => `${s} ${data.train[s].length}/${data.test[s].length}`).join(', ')} (train/test lines); ${exclude.size} held-out prefixes`);
    const tData = now();

    // 2. the language model
    const config = demoNeoxConfig({ ...R.model, vocab: enc.size });
    const corpus = new Corpus({ seed: R.lm.corpusSeed, exclude });
    let window = 0;
    let count = 0;
    const lm = await trainLm({
      ...R.lm,
      config,
      sessions,
      next: () => enc.encode(corpus.next().words),
      onStep: ({ step, loss, lr }) => {
        window += loss;
        count++;
        if ((step + 1) % 100 === 0 || step === R.lm.steps - 1) {
          log(`lm step ${step + 1}/${R.lm.steps}: loss ${(window / count).toFixed(4)} lr ${lr.toExponential(2)} (${(now() - tData).toFixed(0)} s)`);
          window = count = 0;
        }
      },
    });
    const tLm = now();
    writeModelFolder(modelDir, config, lm.weights, words, { source: 'sfc-workbench demo (scripts/demo-train.ts)' });
    const model = await loadNeoxFolder(modelDir, sessions);

    const accuracy = {} as DemoReport['accuracy'];
    for (const s of STRUCTURES) {
      const test = await agreementScore(model, agreementItems(data.test[s]));
      const train = await agreementScore(model, agreementItems(data.train[s]));
      accuracy[s] = { test: test.accuracy, testItems: test.n, train: train.accuracy, trainItems: train.n, meanLogitDiff: test.meanLogitDiff };
      log(`accuracy ${s}: test ${(test.accuracy * 100).toFixed(2)}% of ${test.n}, train ${(train.accuracy * 100).toFixed(2)}% of ${train.n}, mean logit diff ${test.meanLogitDiff.toFixed(3)}`);
    }

    // 3. activations for SAE training (their own corpus seed) and held-out evaluation
    const saeSeqs = new Corpus({ seed: R.sae.corpusSeed, exclude }).take(R.sae.sentences).map((s) => enc.encode(s.words));
    const acts = await hookActivations(model, saeSeqs);
    const tActs = now();
    log(`activations: ${acts.get('embed')!.length / config.hiddenSize} rows per hook point (${(tActs - tLm).toFixed(0)} s)`);

    // 4. SAEs
    const saeDir = join(out, 'saes');
    const F = R.sae.expansion * config.hiddenSize;
    const trainInfo = new Map<string, HookReport['train']>();
    for (const [i, hook] of hookPoints(config).entries()) {
      const ts = now();
      const l1 = lambdaFor(R, hook);
      const r = await trainSae(acts.get(hook)!, config.hiddenSize, { ...R.sae, l1, f: F, seed: R.sae.seed + i, sessions });
      writeAe(saeDir, hook, R.sae.run, r.state, aeConfigJson(R, hook, config.hiddenSize, F, l1, r.scale));
      trainInfo.set(hook, { scale: r.scale, resampled: r.resampled, seconds: now() - ts });
      log(`sae ${hook}: train recon ${r.final.recon.toFixed(4)} (normalised units), L0 ${r.final.l0.toFixed(1)}, resampled ${r.resampled.join('+') || 0} (${(now() - ts).toFixed(0)} s)`);
      acts.delete(hook);
    }
    const tSae = now();

    // 5. measurements through the normal SAE loader
    const saes = loadSaeSet(saeDir, { submodules: hookPoints(config), d: config.hiddenSize, layers: config.numLayers });
    const saeReport = await measureSaes(model, saes, sessions, heldOutSentences(R, data), data, trainInfo);
    for (const [hook, m] of Object.entries(saeReport)) {
      log(`sae ${hook}: held-out VE ${m.varianceExplained.toFixed(4)}, L0 ${m.meanL0.toFixed(2)}, dead ${(m.deadFraction * 100).toFixed(1)}%; agreement VE ${m.agreement.varianceExplained.toFixed(4)}; max cost ${(m.maxCost * 100).toFixed(2)}%`);
    }
    const tEval = now();

    const report: DemoReport = {
      recipe: R,
      vocab: enc.size,
      parameters: model.parameterCount,
      lm: {
        seconds: tLm - tData,
        tokens: lm.tokens,
        firstLoss: mean(lm.losses.slice(0, 10)),
        finalLoss: mean(lm.losses.slice(-100)),
        msPerStep: ((tLm - tData) * 1000) / R.lm.steps,
      },
      accuracy,
      saes: saeReport,
      seconds: { data: tData - t0, lm: tLm - tData, activations: tActs - tLm, saes: tSae - tActs, evaluation: tEval - tSae, total: 0 },
      files: [],
      totalBytes: 0,
    };
    report.seconds.total = now() - t0;
    report.files = listFiles(out);
    report.totalBytes = report.files.reduce((a, f) => a + f.bytes, 0);
    writeFileSync(join(out, 'README.md'), demoReadme(report));
    writeFileSync(join(out, 'metrics.json'), JSON.stringify(report, null, 2) + '\n');
    return report;
  } finally {
    await sessions.dispose();
  }
}

/** SAE quality on held-out corpus activations and agreement prefixes, and the reconstruction cost per structure. */
export async function measureSaes(
  model: NeoxModel,
  saes: SaeSet,
  sessions: SessionCache,
  heldOut: number[][],
  data: DemoData,
  trainInfo = new Map<string, HookReport['train']>(),
): Promise<Record<string, HookReport>> {
  const acts = await hookActivations(model, heldOut);
  const tok = model.tokenizer!;
  const prefixes = [...new Set(STRUCTURES.flatMap((s) => data.test[s].flatMap((r) => [r.clean_prefix, r.patch_prefix])))];
  const agreementActs = await hookActivations(model, prefixes.map((p) => tok.encode(p)));
  const base = new Map<Structure, number>();
  for (const s of STRUCTURES) base.set(s, (await agreementScore(model, agreementItems(data.test[s]))).meanLogitDiff);
  const out: Record<string, HookReport> = {};
  for (const hook of model.hookPoints) {
    const sae = saes.get(hook)!;
    const m = await saeMetrics(sessions, sae, acts.get(hook)!);
    const agreement = await saeMetrics(sessions, sae, agreementActs.get(hook)!);
    const cost = {} as Record<Structure, number>;
    for (const s of STRUCTURES) {
      const r = await agreementScore(model, agreementItems(data.test[s]), { hook: reconstructionHook(sessions, hook, sae) });
      cost[s] = 1 - r.meanLogitDiff / base.get(s)!;
    }
    out[hook] = { ...m, agreement, cost, maxCost: Math.max(...Object.values(cost)), train: trainInfo.get(hook) ?? { scale: NaN, resampled: [], seconds: NaN } };
  }
  return out;
}

/** The recipe's λ for a hook point ('embed', 'attn_0', ...). */
export function lambdaFor(R: DemoRecipe, hook: string): number {
  const kind = hook.split('_')[0] as keyof DemoRecipe['sae']['l1'];
  const l1 = R.sae.l1[kind];
  if (l1 === undefined) throw new Error(`demo recipe: no λ for hook point ${hook}`);
  return l1;
}

function aeConfigJson(R: DemoRecipe, hook: string, d: number, f: number, l1: number, scale: number): Record<string, unknown> {
  const s = R.sae;
  return {
    trainer: {
      dict_class: 'AutoEncoder',
      trainer_class: 'StandardTrainer (sfc-workbench src-main/demo/train-sae.ts)',
      activation_dim: d,
      dict_size: f,
      lr: s.lr,
      l1_penalty: l1,
      warmup_steps: s.warmup,
      resample_steps: s.resampleEvery,
      sparsity_warmup_steps: s.sparsityWarmup,
      steps: s.steps,
      decay_start: s.decayStart,
      seed: s.seed,
      device: 'cpu',
      layer: hook === 'embed' ? null : Number(hook.split('_')[1]),
      lm_name: 'sfc-workbench demo (resources/demo/model)',
      submodule_name: hook,
      activation_scale: scale,
      note: 'trained on activations scaled to mean squared norm D; the scale is folded back into bias and encoder.bias',
    },
    buffer: { d_submodule: d, io: 'out', n_ctxs: s.sentences, ctx_len: null, out_batch_size: s.batch, device: 'cpu' },
  };
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

/** Every file of a built demo folder with its size and sha256 (metrics.json and README.md aside). */
export function listFiles(root: string): DemoReport['files'] {
  const out: DemoReport['files'] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name !== 'metrics.json' && name !== 'README.md') {
        const bytes = readFileSync(p);
        out.push({ path: relative(root, p), bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      }
    }
  };
  walk(root);
  return out;
}

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)} %`;

export function demoReadme(r: DemoReport): string {
  const R = r.recipe;
  const m = R.model;
  const hooks = Object.keys(r.saes);
  const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
  const lines = [
    '# The embedded demo: a small agreement model and its SAEs',
    '',
    'Made by `npm run demo:train` (`scripts/demo-train.ts`, code in `src-main/demo/`), deterministically from fixed seeds.',
    'Do not edit these files by hand: regenerate them. How it works: `docs/demo-model.md`.',
    '',
    '- `model/`: a GPT-NeoX model (the Pythia architecture: parallel residual, partial rotary, exact GELU, untied',
    `  embeddings) with ${m.layers} layers, width ${m.hidden}, ${m.heads} heads, MLP ${m.intermediate}, vocabulary ${r.vocab} (one token per word, with and`,
    `  without a leading space), ${r.parameters.toLocaleString('en-US')} parameters, float32; trained as a causal LM on a seeded grammar of English sentences.`,
    `- \`saes/\`: ${hooks.length} ReLU SAEs (dictionary_learning \`AutoEncoder\` layout, \`ae.pt\` + \`config.json\`), one per hook point,`,
    `  ${R.sae.expansion * m.hidden} features each (${R.sae.expansion} × ${m.hidden}), unit-norm decoder columns.`,
    '- `data/`: paired agreement data in the original JSONL format (`clean_prefix`, `patch_prefix`, `clean_answer`,',
    '  `patch_answer`, `case`) for `simple`, `nounpp`, `rc`, `within_rc`. The LM never saw a test prefix followed by its verb.',
    '- `metrics.json`: every number below, the recipe, and the sha256 of each file.',
    '',
    'Example training sentences:',
    '',
    ...sampleText(R.lm.corpusSeed, 6).map((s) => `    ${s}`),
    '',
    '## Agreement accuracy',
    '',
    'Correct verb form more likely than the wrong one, on both prefixes of each line (clean and patch).',
    '',
    '| structure | test accuracy | test items | train accuracy | train items | mean logit diff (test) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...Object.entries(r.accuracy).map(([s, a]) => `| ${s} | ${pct(a.test, 2)} | ${a.testItems} | ${pct(a.train, 2)} | ${a.trainItems} | ${a.meanLogitDiff.toFixed(2)} |`),
    '',
    '## SAEs',
    '',
    `Held-out activations: ${R.heldOut.sentences} corpus sentences from a seed no trainer used (${r.saes[hooks[0]!]!.rows} tokens); "agreement VE" is on the`,
    'test prefixes. Cost: 1 − (mean logit diff with that one activation replaced by its reconstruction) / (mean logit diff),',
    'per structure on the test data; the table gives the worst structure.',
    '',
    '| hook point | variance explained | mean L0 | dead features | agreement VE | max cost | resampled |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...hooks.map((h) => {
      const s = r.saes[h]!;
      return `| ${h} | ${pct(s.varianceExplained, 2)} | ${s.meanL0.toFixed(2)} | ${pct(s.deadFraction)} | ${pct(s.agreement.varianceExplained, 2)} | ${pct(s.maxCost, 2)} | ${s.train.resampled.reduce((a, b) => a + b, 0)} |`;
    }),
    '',
    'Targets: accuracy ≥ 98 % per structure; variance explained ≥ 90 %, mean L0 ≤ 32, dead < 20 %, cost < 5 % at every hook point.',
    '',
    '## Training',
    '',
    `- LM: ${R.lm.steps} steps of ${R.lm.tokensPerStep}+ tokens (${(r.lm.tokens / 1e6).toFixed(2)} M tokens), Adam (β 0.9/0.999), peak lr ${R.lm.peakLr}, ${R.lm.warmup} warmup steps, cosine decay to ${R.lm.finalLr} × peak,`,
    `  weight decay ${R.lm.weightDecay}, gradient clipping ${R.lm.clip}; loss ${r.lm.firstLoss.toFixed(3)} → ${r.lm.finalLoss.toFixed(3)} nats/token; ${r.lm.msPerStep.toFixed(0)} ms/step.`,
    `- SAEs: ${R.sae.sentences} sentences of activations per hook point, ${R.sae.steps} steps of ${R.sae.batch} rows, Adam lr ${R.sae.lr} (warmup ${R.sae.warmup},`,
    `  linear decay from step ${R.sae.decayStart}), λ ${Object.entries(R.sae.l1).map(([k, v]) => `${v} (${k})`).join(', ')} on activations normalised to mean ‖x‖² = D,`,
    `  resampling every ${R.sae.resampleEvery} steps (dead = silent for ${R.sae.deadWindow} steps).`,
    `- Time on the machine that made it (onnxruntime CPU, one intra-op thread): data ${r.seconds.data.toFixed(0)} s, LM ${r.seconds.lm.toFixed(0)} s,`,
    `  activations ${r.seconds.activations.toFixed(0)} s, SAEs ${r.seconds.saes.toFixed(0)} s, evaluation ${r.seconds.evaluation.toFixed(0)} s; total ${r.seconds.total.toFixed(0)} s.`,
    '',
    '## Files',
    '',
    `${mb(r.totalBytes)} in all (this README and metrics.json aside, which are small).`,
    '',
    '| file | size |',
    '| --- | --- |',
    ...r.files.map((f) => `| ${f.path} | ${(f.bytes / 1024).toFixed(0)} KiB |`),
    '',
  ];
  return lines.join('\n');
}
