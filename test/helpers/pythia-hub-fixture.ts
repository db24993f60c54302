/**
 * The five repositories of the pythia-70m-deduped setup, laid out file for file as on the Hub,
 * but with small tensors: a random 6-layer GPT-NeoX (width 32) and 19 random ReLU SAEs (32
 * features), as the dictionary_learning zip and as the three SAELens repositories.
 *
 *   EleutherAI/pythia-70m-deduped           config.json, model.safetensors, tokenizer.json, … (+ files we must not fetch)
 *   saprmarks/pythia-70m-deduped-saes       dictionaries_pythia-70m-deduped_10.zip (dictionaries/pythia-70m-deduped/<sub>/10_32768/{ae.pt,config.json})
 *   ctigges/pythia-70m-deduped__{res,att,mlp}-sm_processed   e-res-sm/, 0-res-sm/, … each cfg.json, sae_weights.safetensors, sparsity.safetensors
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCircuitFixture, type CircuitFixture } from './circuit-fixture';
import { buildZip, flatCfg, writeSaelens } from './saes-fixtures';
import { filesFromDir, type FakeFile, type FakeHub } from './fake-hub';
import { dictionaryLearningFolder } from '../../src-main/saes/load';
import { loadAutoEncoder } from '../../src-main/saes/dictionary-learning';
import { submoduleToHook } from '../../src-main/saes/saelens';
import { writeSafetensors } from '../../src-main/models/safetensors';
import { SETUPS } from '../../src-main/hub/registry';

export const ZIP_NAME = 'dictionaries_pythia-70m-deduped_10.zip';

export interface PythiaHub {
  fixture: CircuitFixture;
  model: string;
  dl: string;
  res: string;
  att: string;
  mlp: string;
}

const text = (path: string, s: string): FakeFile => ({ path, bytes: new TextEncoder().encode(s), lfs: false });

/** Writes the small model and SAEs under `root` and serves them from `hub` as the real repositories. */
export function servePythia(hub: FakeHub, root: string, opts: { gated?: string[] } = {}): PythiaHub {
  const fx = writeCircuitFixture(join(root, 'src'), { hidden: 32, features: 32, layers: 6 });
  const gated = new Set(opts.gated ?? []);
  const setup = SETUPS['pythia-70m-deduped']!;

  const modelFiles = filesFromDir(fx.model);
  modelFiles.push(text('README.md', '# pythia-70m-deduped (test copy)\n'), text('.gitattributes', '*.safetensors filter=lfs diff=lfs merge=lfs -text\n'));
  // Files a real snapshot has that the app must never download.
  modelFiles.push({ path: 'pytorch_model.bin', bytes: new Uint8Array(4096).fill(7), lfs: true });
  hub.addRepo(setup.model.repo, modelFiles, { gated: gated.has(setup.model.repo) });

  // dictionary_learning: one zip of the ae.pt tree, under the folder names of the release.
  const entries: [string, Uint8Array][] = [];
  for (const sub of fx.submodules) {
    const folder = `dictionaries/pythia-70m-deduped/${dictionaryLearningFolder(sub)}/10_32768`;
    entries.push([`${folder}/ae.pt`, new Uint8Array(readFileSync(join(fx.saes, dictionaryLearningFolder(sub), '0_32', 'ae.pt')))]);
    entries.push([`${folder}/config.json`, new TextEncoder().encode(JSON.stringify({ dictionary_size: 32, activation_dim: 32 }))]);
  }
  const dlRepo = setup.saeSources.dictionary_learning.repos[0]!.repo;
  hub.addRepo(dlRepo, [{ path: ZIP_NAME, bytes: buildZip(entries, { deflate: true }), lfs: true }, text('README.md', '# dictionaries\n')], { gated: gated.has(dlRepo) });

  // SAELens: the same SAEs, one folder per submodule in three repositories.
  const parts = { res: join(root, 'saelens', 'res'), att: join(root, 'saelens', 'att'), mlp: join(root, 'saelens', 'mlp') };
  for (const sub of fx.submodules) {
    const { sae } = loadAutoEncoder(join(fx.saes, dictionaryLearningFolder(sub), '0_32', 'ae.pt'));
    const np = setup.neuronpedia.saeIds[sub]!; // e-res-sm, 0-att-sm, … (the repositories use the same names)
    const part = np.endsWith('-res-sm') ? parts.res : np.endsWith('-att-sm') ? parts.att : parts.mlp;
    const dir = join(part, np);
    writeSaelens(dir, sae, flatCfg(sae, submoduleToHook(sub), { neuronpedia_id: `pythia-70m-deduped/${np}` }));
    writeSafetensors(join(dir, 'sparsity.safetensors'), { sparsity: { shape: [sae.f], data: new Float32Array(sae.f).fill(-3) } });
  }
  const repos = setup.saeSources.saelens.repos.map((r) => r.repo);
  for (const [i, part] of [parts.res, parts.att, parts.mlp].entries()) {
    mkdirSync(part, { recursive: true });
    writeFileSync(join(part, 'README.md'), '# SAELens copy\n');
    hub.addRepo(repos[i]!, filesFromDir(part), { gated: gated.has(repos[i]!) });
  }
  return { fixture: fx, model: setup.model.repo, dl: dlRepo, res: repos[0]!, att: repos[1]!, mlp: repos[2]! };
}
