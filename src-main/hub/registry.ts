/**
 * Known setups: a model on the Hugging Face Hub with the dictionaries released for it, so that
 * `sfc fetch pythia-70m-deduped` needs no configuration. A setup says which repository files to
 * fetch, how the SAE files are laid out once fetched, which Neuronpedia page shows each feature,
 * and where the original annotation file lives. Unknown setups still work from folders.
 *
 * The repository names and layouts are described in docs/hub.md, with what was verified and how.
 */
import { hookPointNames, hookRef } from '../models/hooks';

/** One file of a repository; optional files are used when present and never required. */
export interface RepoFile {
  path: string;
  optional?: boolean;
}

export interface RepoSpec {
  /** `owner/name` of a model repository on the Hub. */
  repo: string;
  /** Branch, tag or commit; default 'main'. */
  revision?: string;
  files: RepoFile[];
}

/** How the fetched SAE files become one folder the SAE loaders read (docs/sae-formats.md). */
export type SaeAssembly =
  /** One zip of a dictionary_learning tree (embed/, attn_out_layer0/, … each holding <run>/ae.pt). */
  | { kind: 'zip'; repo: string; file: string }
  /** Several SAELens repositories placed side by side under one folder (names are the keys). */
  | { kind: 'side-by-side'; parts: Record<string, string> };

export interface SaeSource {
  id: SaeSourceId;
  title: string;
  /** The layout the loaders detect once the source is assembled. */
  layout: 'dictionary_learning' | 'saelens';
  repos: RepoSpec[];
  assemble: SaeAssembly;
  /** Rough download size, for the Download dialog before any request is made. */
  approxBytes: number;
}

export type SaeSourceId = 'dictionary_learning' | 'saelens';

export interface NeuronpediaIds {
  /** Neuronpedia's model id. */
  modelId: string;
  /** Neuronpedia's release (the page listing the SAE sets). */
  release: string;
  /** Our submodule → Neuronpedia's SAE ("source") id. */
  saeIds: Record<string, string>;
}

export interface Setup {
  id: string;
  title: string;
  /** What the loaders expect of the model (checked after the fetch). */
  architecture: 'GPTNeoXForCausalLM';
  layers: number;
  width: number;
  /** Dictionary width of every submodule. */
  features: number;
  model: RepoSpec;
  approxModelBytes: number;
  saeSources: Record<SaeSourceId, SaeSource>;
  defaultSaeSource: SaeSourceId;
  neuronpedia: NeuronpediaIds;
  /** The original's feature labels for these dictionaries (data-formats: annotation JSONL). */
  annotations: { url: string; file: string; license: string };
}

/** The files a Hugging Face GPT-NeoX folder needs (models/load.ts reads these and nothing else). */
const NEOX_FILES: RepoFile[] = [
  { path: 'config.json' },
  { path: 'model.safetensors' },
  { path: 'tokenizer.json' },
  { path: 'tokenizer_config.json', optional: true },
  { path: 'special_tokens_map.json', optional: true },
];

const PYTHIA_LAYERS = 6;

/** SAELens folder of one Pythia submodule in the ctigges repositories: e-res-sm, 3-att-sm, … */
function saelensFolder(sub: string): { part: 'res' | 'att' | 'mlp'; folder: string } {
  const { kind, layer } = hookRef(sub);
  if (kind === 'embed') return { part: 'res', folder: 'e-res-sm' };
  const part = kind === 'resid' ? 'res' : kind === 'attn' ? 'att' : 'mlp';
  return { part, folder: `${layer}-${part}-sm` };
}

const pythiaSubmodules = hookPointNames(PYTHIA_LAYERS);
const SAELENS_REPO = { res: 'ctigges/pythia-70m-deduped__res-sm_processed', att: 'ctigges/pythia-70m-deduped__att-sm_processed', mlp: 'ctigges/pythia-70m-deduped__mlp-sm_processed' } as const;

function saelensRepos(): RepoSpec[] {
  return (['res', 'att', 'mlp'] as const).map((part) => ({
    repo: SAELENS_REPO[part],
    // Only the config and the weights: sparsity.safetensors (log firing densities) is not read.
    files: pythiaSubmodules.filter((s) => saelensFolder(s).part === part).flatMap((s) => {
      const f = saelensFolder(s).folder;
      return [{ path: `${f}/cfg.json` }, { path: `${f}/sae_weights.safetensors` }];
    }),
  }));
}

export const SETUPS: Record<string, Setup> = {
  'pythia-70m-deduped': {
    id: 'pythia-70m-deduped',
    title: 'Pythia-70M-deduped with the Marks et al. dictionaries (32768 features, 19 submodules)',
    architecture: 'GPTNeoXForCausalLM',
    layers: PYTHIA_LAYERS,
    width: 512,
    features: 32768,
    model: { repo: 'EleutherAI/pythia-70m-deduped', files: NEOX_FILES },
    approxModelBytes: 170e6,
    saeSources: {
      dictionary_learning: {
        id: 'dictionary_learning',
        title: 'dictionary_learning release (one zip of 19 ae.pt files)',
        layout: 'dictionary_learning',
        repos: [{ repo: 'saprmarks/pythia-70m-deduped-saes', files: [{ path: 'dictionaries_pythia-70m-deduped_10.zip' }] }],
        assemble: { kind: 'zip', repo: 'saprmarks/pythia-70m-deduped-saes', file: 'dictionaries_pythia-70m-deduped_10.zip' },
        approxBytes: 2.37e9,
      },
      saelens: {
        id: 'saelens',
        title: 'SAELens copies (three repositories: res-sm, att-sm, mlp-sm)',
        layout: 'saelens',
        repos: saelensRepos(),
        assemble: { kind: 'side-by-side', parts: { res: SAELENS_REPO.res, att: SAELENS_REPO.att, mlp: SAELENS_REPO.mlp } },
        approxBytes: 2.55e9,
      },
    },
    defaultSaeSource: 'dictionary_learning',
    neuronpedia: {
      modelId: 'pythia-70m-deduped',
      release: 'p70d-sm',
      saeIds: Object.fromEntries(pythiaSubmodules.map((s) => [s, saelensFolder(s).folder])),
    },
    annotations: {
      url: 'https://raw.githubusercontent.com/saprmarks/feature-circuits/main/annotations/pythia-70m-deduped.jsonl',
      file: 'pythia-70m-deduped.jsonl',
      license: 'MIT (saprmarks/feature-circuits)',
    },
  },
};

/** The setup called `id`, or an error listing the known ones. */
export function getSetup(id: string): Setup {
  const s = Object.hasOwn(SETUPS, id) ? SETUPS[id] : undefined;
  if (!s) throw new Error(`unknown setup '${id}' (known: ${Object.keys(SETUPS).join(', ')}); other models and SAEs work from folders (--model DIR --saes DIR)`);
  return s;
}

export function getSaeSource(setup: Setup, id: string): SaeSource {
  const s = Object.hasOwn(setup.saeSources, id) ? setup.saeSources[id as SaeSourceId] : undefined;
  if (!s) throw new Error(`${setup.id}: unknown SAE source '${id}' (known: ${Object.keys(setup.saeSources).join(', ')})`);
  return s;
}

export const NEURONPEDIA_URL = 'https://www.neuronpedia.org';

/**
 * The Neuronpedia page of one feature: `https://www.neuronpedia.org/<model>/<sae>/<index>`, or
 * null for error nodes and submodules Neuronpedia has no SAE for.
 */
export function neuronpediaUrl(ids: NeuronpediaIds, submodule: string, feature: number | 'error'): string | null {
  if (feature === 'error' || !Number.isInteger(feature) || feature < 0) return null;
  const sae = Object.hasOwn(ids.saeIds, submodule) ? ids.saeIds[submodule] : undefined;
  return sae ? `${NEURONPEDIA_URL}/${ids.modelId}/${sae}/${feature}` : null;
}
