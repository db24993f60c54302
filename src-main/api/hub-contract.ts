/**
 * Shapes of the hub channels (known setups, fetch, inspect, cache, Neuronpedia links), kept
 * apart so contract.ts only lists the channels. docs/hub.md describes what each one does.
 */
import { z } from 'zod';
import { ModelRecord, SaeSetRecord } from '../store/records';

const path = z.string().min(1).max(4096);
const bytes = z.number().nonnegative();

export const SaeSourceId = z.enum(['dictionary_learning', 'saelens']);

/** The worker job: what to fetch; the Hugging Face settings come from the environment. */
export const HubFetchParams = z
  .object({
    setup: z.string().min(1).max(100),
    saes: SaeSourceId.optional(),
    /** Model revision: branch, tag or commit (default main). */
    revision: z.string().min(1).max(200).nullable().default(null),
    refresh: z.boolean().default(false),
    verify: z.boolean().default(false),
    /** Never make a request, even when HF_HUB_OFFLINE is not set. */
    offline: z.boolean().default(false),
    /** Also fetch the original annotation file: true for the registry's URL, or a file or URL. */
    annotations: z.union([z.boolean(), path]).default(false),
  })
  .strict();

export const SetupInfo = z.object({
  id: z.string(),
  title: z.string(),
  model: z.object({ repo: z.string(), approxBytes: bytes, cached: z.boolean() }),
  saeSources: z.array(z.object({ id: SaeSourceId, title: z.string(), layout: z.string(), repos: z.array(z.string()), approxBytes: bytes, cached: z.boolean() })),
  defaultSaeSource: SaeSourceId,
  neuronpedia: z.object({ modelId: z.string(), release: z.string(), saeIds: z.record(z.string(), z.string()) }),
  annotationsUrl: z.string(),
});

export const HubSetups = z.object({
  setups: z.array(SetupInfo),
  endpoint: z.string(),
  offline: z.boolean(),
  hubCache: z.string(),
  sfcCache: z.string(),
});

export const HubFetchRequest = z
  .object({
    setup: z.string().min(1).max(100),
    saes: SaeSourceId.optional(),
    revision: z.string().min(1).max(200).optional(),
    refresh: z.boolean().default(false),
    verify: z.boolean().default(false),
    /** Also fetch the original annotation file and import it onto the SAE set. */
    annotations: z.boolean().default(false),
  })
  .strict();

const FetchedRepo = z.object({ repo: z.string(), commit: z.string(), snapshot: z.string(), downloaded: z.number().int(), downloadedBytes: bytes, fromCache: z.number().int() });

export const HubFetchResponse = z.object({
  model: ModelRecord,
  saeSet: SaeSetRecord,
  /** The annotation import, when asked for and available. */
  annotations: z.object({ imported: z.number().int(), unchanged: z.number().int(), skipped: z.number().int() }).nullable(),
  saeSource: SaeSourceId,
  layout: z.string(),
  modelDir: z.string(),
  saesDir: z.string(),
  repos: z.array(FetchedRepo),
  downloadedBytes: bytes,
  /** 0 when everything came from the cache. */
  requests: z.number().int(),
  modelBytes: bytes,
  saeBytes: bytes,
  seconds: z.number(),
  notes: z.array(z.string()),
});

const SaeHeader = z.object({
  submodule: z.string(),
  path: z.string(),
  features: z.number().int(),
  width: z.number().int(),
  kind: z.enum(['relu', 'jumprelu']),
  dtype: z.string(),
  bytesOnDisk: bytes,
  bytesLoaded: bytes,
});

export const Inspection = z.object({
  path: z.string(),
  snapshot: z.string().nullable(),
  model: z
    .object({
      path: z.string(),
      modelType: z.string(),
      supported: z.boolean(),
      problem: z.string().nullable(),
      layers: z.number().nullable(),
      width: z.number().nullable(),
      heads: z.number().nullable(),
      intermediate: z.number().nullable(),
      vocab: z.number().nullable(),
      weights: z.object({ file: z.string(), dtypes: z.array(z.string()), parameters: z.number(), bytesOnDisk: bytes }).nullable(),
      tokenizer: z.boolean(),
      bytesLoaded: bytes,
    })
    .nullable(),
  saes: z
    .object({
      path: z.string(),
      layout: z.string(),
      root: z.string(),
      submodules: z.array(SaeHeader),
      missing: z.array(z.string()),
      notes: z.array(z.string()),
      problems: z.array(z.string()),
      bytesLoaded: bytes,
    })
    .nullable(),
  problems: z.array(z.string()),
});

export const CacheListing = z.object({
  hubCache: z.string(),
  sfcCache: z.string(),
  entries: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(['hub-repo', 'unpacked', 'assembled']),
      repo: z.string().nullable(),
      path: z.string(),
      bytes,
      files: z.number().int(),
      incompleteBytes: bytes,
      revisions: z.array(z.object({ commit: z.string(), refs: z.array(z.string()) })),
      modifiedAt: z.string().nullable(),
      /** Library items whose folder lies in this entry (clearing it breaks them). */
      usedBy: z.array(z.object({ kind: z.enum(['model', 'saeSet']), id: z.number().int(), name: z.string() })),
    }),
  ),
  totalBytes: bytes,
  warnings: z.array(z.string()),
});

export const CacheClearRequest = z.object({ ids: z.array(z.string().min(1).max(1000)).min(1).max(1000) }).strict();
export const CacheClearResponse = z.object({
  removed: z.array(z.object({ id: z.string(), path: z.string(), bytes })),
  freedBytes: bytes,
  /** Library items whose files are gone now (fetch again, or delete them). */
  warnings: z.array(z.string()),
});

export const HubLinks = z.object({
  /** The known setup this SAE set belongs to (by its tag), or null. */
  setup: z.string().nullable(),
  neuronpedia: z
    .object({
      modelId: z.string(),
      release: z.string(),
      saeIds: z.record(z.string(), z.string()),
      /** Replace {saeId} and {feature}: https://www.neuronpedia.org/pythia-70m-deduped/{saeId}/{feature}. */
      featureUrl: z.string(),
    })
    .nullable(),
});
