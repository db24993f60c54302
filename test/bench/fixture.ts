/**
 * The benchmark's inputs, generated once and cached outside git (.cache/bench): a random
 * GPT-NeoX with Pythia-70M-deduped's exact shapes, and 19 random SAEs of 32 768 features in the
 * dictionary_learning layout (ae.pt), with unit-norm decoder columns and encoder biases set so
 * about 50–100 features are active per token. Cost depends on the shapes, not the values.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionCache } from '../../src-main/engine/session';
import { loadNeoxFolder } from '../../src-main/models/load';
import { dictionaryLearningFolder, loadSaeSet } from '../../src-main/saes/load';
import { submoduleToHook } from '../../src-main/saes/saelens';
import { writeSafetensors } from '../../src-main/models/safetensors';
import { transposeWithRowNorms } from '../../src-main/engine/transpose';
import { writeAePt } from '../helpers/circuit-fixture';
import { writeRandomNeoxFolder } from '../helpers/neox-folder';
import { mulberry32, randn } from '../helpers/random';

export const BENCH_DIR = join(process.cwd(), '.cache', 'bench');
export const F = 32768;
export const TARGET_ACTIVE = 75;

export interface BenchFixture {
  model: string;
  saes: string;
}

export async function ensureBenchFixture(log: (m: string) => void): Promise<BenchFixture> {
  const model = join(BENCH_DIR, 'model');
  const saes = join(BENCH_DIR, 'saes');
  const done = join(BENCH_DIR, 'READY');
  if (existsSync(done)) return { model, saes };
  mkdirSync(BENCH_DIR, { recursive: true });
  log('generating a random Pythia-70M-shaped model (once; cached in .cache/bench)');
  writeRandomNeoxFolder(model, { size: 'pythia70m', seed: 70, dtype: 'F32' });
  // Activation scale per hook point, to place the encoder biases.
  const m = await loadNeoxFolder(model, new SessionCache());
  const rnd = mulberry32(1);
  const ids = Array.from({ length: 16 }, () => Array.from({ length: 8 }, () => Math.floor(rnd() * 50000)));
  const { acts } = await m.forward(m.batchFromIds(ids));
  const D = m.cfg.hiddenSize;
  for (const [i, sub] of m.hookPoints.entries()) {
    const x = acts.get(sub)!.data;
    // Centre with the token mean (b_dec) and measure the spread of x − b_dec.
    const bDec = new Float32Array(D);
    const rows = x.length / D;
    for (let r = 0; r < rows; r++) for (let q = 0; q < D; q++) bDec[q] += x[r * D + q] / rows;
    let ss = 0;
    for (let r = 0; r < rows; r++) for (let q = 0; q < D; q++) ss += (x[r * D + q] - bDec[q]) ** 2;
    const sigma = Math.sqrt(ss / rows / D); // per-coordinate spread; v·(x − b) ~ N(0, σ²) for unit v
    // P(z > t) = 75 / 32768 → t ≈ 2.84
    const t = 2.84;
    const r2 = mulberry32(1000 + i);
    const dec = new Float32Array(F * D);
    for (let f = 0; f < F; f++) {
      let n2 = 0;
      for (let q = 0; q < D; q++) {
        const v = randn(r2);
        dec[f * D + q] = v;
        n2 += v * v;
      }
      const inv = 1 / Math.sqrt(n2);
      for (let q = 0; q < D; q++) dec[f * D + q] *= inv;
    }
    const bEnc = new Float32Array(F).fill(-t * sigma);
    const dir = join(saes, dictionaryLearningFolder(sub), `10_${F}`);
    mkdirSync(dir, { recursive: true });
    // Encoder rows = decoder directions (tied), a valid dictionary_learning AutoEncoder.
    writeAePt(join(dir, 'ae.pt'), { kind: 'relu', d: D, f: F, enc: dec, bEnc, dec, bDec, applyBDecToInput: true, source: dir });
    log(`  wrote ${sub} SAE (${i + 1}/19)`);
  }
  writeFileSync(done, new Date().toISOString());
  return { model, saes };
}

/**
 * The same 19 SAEs as SAELens folders (cfg.json + sae_weights.safetensors, W_enc [D, F]), for
 * `--saelens`: written once from the ae.pt files into .cache/bench/saelens (another 2.5 GB).
 */
export function ensureSaelensFixture(fx: BenchFixture, submodules: readonly string[], log: (m: string) => void): string {
  const root = join(BENCH_DIR, 'saelens');
  const done = join(root, 'READY');
  if (existsSync(done)) return root;
  log('writing the SAELens copy of the benchmark SAEs (once) …');
  const set = loadSaeSet(fx.saes, { submodules, d: 512, mapWeights: false });
  for (const [sub, sae] of set) {
    const hook = submoduleToHook(sub);
    const dir = join(root, hook);
    mkdirSync(dir, { recursive: true });
    const cfg = { d_in: sae.d, d_sae: sae.f, dtype: 'float32', hook_name: hook, activation_fn_str: 'relu', apply_b_dec_to_input: true, normalize_activations: 'none', finetuning_scaling_factor: false };
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify(cfg, null, 2));
    const wEnc = transposeWithRowNorms(sae.enc, sae.f, sae.d).out; // [F, D] → W_enc [D, F]
    writeSafetensors(join(dir, 'sae_weights.safetensors'), {
      W_enc: { shape: [sae.d, sae.f], data: wEnc },
      b_enc: { shape: [sae.f], data: sae.bEnc },
      W_dec: { shape: [sae.f, sae.d], data: sae.dec },
      b_dec: { shape: [sae.d], data: sae.bDec },
    });
  }
  writeFileSync(done, new Date().toISOString());
  return root;
}

/**
 * Paired agreement data in the fixture tokenizer's words (test/helpers/neox-folder.ts): 5-token
 * prefixes ("The key near the cabinet" / "The keys near the cabinet", 432 pairs) like the
 * issue's runs, and 6-token ones ("The author that the guards like", 144 pairs) for the
 * position-resolved section. Written once into .cache/bench/data.
 */
export function ensureBenchData(): { five: string; six: string } {
  const dir = join(BENCH_DIR, 'data');
  const five = join(dir, 'agree5.jsonl');
  const six = join(dir, 'agree6.jsonl');
  if (existsSync(five) && existsSync(six)) return { five, six };
  mkdirSync(dir, { recursive: true });
  const nouns = [['key', 'keys'], ['cabinet', 'cabinets'], ['author', 'authors'], ['guard', 'guards'], ['doctor', 'doctors'], ['manager', 'managers']];
  const pair = (clean: string, patch: string, plural: boolean) => ({
    clean_prefix: clean, patch_prefix: patch, clean_answer: plural ? ' are' : ' is', patch_answer: plural ? ' is' : ' are', case: plural ? 'plural' : 'singular',
  });
  const l5: object[] = [];
  const l6: object[] = [];
  for (const [s1, p1] of nouns) {
    for (const prep of ['to', 'near', 'on']) {
      for (const [s2, p2] of nouns) {
        for (const n2 of [s2, p2]) {
          l5.push(pair(`The ${s1} ${prep} the ${n2}`, `The ${p1} ${prep} the ${n2}`, false));
          l5.push(pair(`The ${p1} ${prep} the ${n2}`, `The ${s1} ${prep} the ${n2}`, true));
        }
      }
    }
    for (const [s2, p2] of nouns) {
      for (const verb of ['like', 'likes']) {
        l6.push(pair(`The ${s1} that the ${s2} ${verb}`, `The ${p1} that the ${s2} ${verb}`, false));
        l6.push(pair(`The ${p1} that the ${p2} ${verb}`, `The ${s1} that the ${p2} ${verb}`, true));
      }
    }
  }
  writeFileSync(five, l5.map((l) => JSON.stringify(l)).join('\n') + '\n');
  writeFileSync(six, l6.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return { five, six };
}
