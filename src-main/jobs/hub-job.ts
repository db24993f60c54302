/**
 * The `hub.fetch` worker job: fetches a known setup (hub/fetch.ts) with the Hugging Face
 * settings of the environment. The worker's cancel flag becomes an AbortSignal that stops the
 * transfer at once (an interrupted file stays as `.incomplete` and the next fetch resumes it).
 * Registering the result in the library happens on the main thread (api/handlers.ts), which
 * owns the store.
 */
import { fetchSetup, type FetchResult } from '../hub/fetch';
import { contentHash } from '../util/hash';
import { hubSettings } from '../hub/settings';
import type { JobContext } from '../util/job-context';
import type { WorkerParams } from '../api/contract';

export interface HubFetchResult extends FetchResult {
  /** Content hashes of the two folders (the library's identity for them), computed here so the main thread need not read gigabytes. */
  modelSha256: string;
  saesSha256: string;
}

export async function hubFetchJob(p: WorkerParams<'hub.fetch'>, job: JobContext): Promise<HubFetchResult> {
  const settings = hubSettings();
  const abort = new AbortController();
  // The cancel flag is polled (the worker has no other channel); 100 ms keeps Cancel prompt.
  const poll = setInterval(() => {
    try {
      job.checkCancelled();
    } catch {
      abort.abort();
    }
  }, 100);
  let r: FetchResult;
  try {
    r = await fetchSetup(p.setup, {
      settings: { ...settings, offline: settings.offline || p.offline },
      saes: p.saes,
      revision: p.revision ?? undefined,
      refresh: p.refresh,
      verify: p.verify,
      annotations: p.annotations ?? false,
      signal: abort.signal,
      onProgress: (e) => job.progress(e.totalBytes > 0 ? Math.min(1, e.doneBytes / e.totalBytes) : null, e.message),
    });
  } finally {
    clearInterval(poll);
  }
  job.checkCancelled();
  job.progress(null, 'hashing the model and the SAEs for the library');
  // Also warms this worker's hash cache, which the provenance of the first discovery reads.
  return { ...r, modelSha256: contentHash(r.modelDir), saesSha256: contentHash(r.saesDir) };
}
