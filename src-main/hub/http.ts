/**
 * Talking to the Hub. Metadata goes through @huggingface/hub: `modelInfo` resolves a branch or
 * tag to its commit (GET /api/models/<repo>/revision/<rev>), `pathsInfo` gives each file's size
 * and hash (POST /api/models/<repo>/paths-info/<commit>). The bytes themselves are fetched here
 * with plain fetch (GET /<repo>/resolve/<commit>/<path>, following the redirect to the CDN),
 * because the library's download gives no byte progress, cannot resume (it rewrites the
 * `.incomplete` file from the start, with no Range request), takes no AbortSignal, and turns
 * HTTP errors on the stream into bare strings. docs/hub.md lists every request.
 *
 * Every download is checked against the size and hash the Hub published: sha256 for LFS files
 * (it is also their blob name), the git blob sha1 for the others. A mismatch throws the file
 * away and fetches it once more; a second mismatch is an error naming the file.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { HubApiError, modelInfo, pathsInfo } from '@huggingface/hub';
import { CancelledError } from '../util/job-context';
import type { HubSettings } from './settings';
import { APP_VERSION } from '../version';

/** A failure the user can act on; `status` is the HTTP status when there was one. */
export class HubError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

/** What the Hub says one file is. */
export interface RemoteFile {
  path: string;
  size: number;
  /** sha256 of the contents, for LFS files. */
  sha256: string | null;
  /** git blob sha1, for files stored in git itself. */
  gitOid: string | null;
  /** The blob name in the cache: sha256 for LFS files, else the git sha1 (as huggingface_hub). */
  etag: string;
}

/** Counts requests (tests and `sfc fetch --json` show that a warm cache makes none). */
export interface RequestLog {
  count: number;
}

const REDIRECTS = 10;
const METADATA_TIMEOUT_MS = 30_000;

const userAgent = (): string => `sfc-workbench/${APP_VERSION}`;

/** A fetch that carries the caller's signal, a timeout for metadata calls, and counts requests. */
function fetchWith(signal: AbortSignal | undefined, log: RequestLog, timeoutMs?: number): typeof fetch {
  return (input, init) => {
    log.count++;
    const signals = [signal, timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined].filter((s): s is AbortSignal => !!s);
    return fetch(input, { ...init, signal: signals.length ? AbortSignal.any(signals) : undefined, headers: { ...(init?.headers as Record<string, string>), 'User-Agent': userAgent() } });
  };
}

function networkError(e: unknown, s: HubSettings): HubError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (e as Error).message;
  if ((e as Error).name === 'TimeoutError') return new HubError(`${s.endpoint} did not answer within ${METADATA_TIMEOUT_MS / 1000} s: check the network, or set HF_HUB_OFFLINE=1 to use only the cache`);
  return new HubError(`cannot reach ${s.endpoint} (${why}): check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use only what is cached`);
}

/** The message for an HTTP error from the Hub, naming the repository and what to do. */
export function statusMessage(s: HubSettings, repo: string, status: number, what: string, serverSays = ''): string {
  const page = `${s.endpoint}/${repo}`;
  const said = serverSays ? ` (the Hub says: ${serverSays.slice(0, 300)})` : '';
  switch (status) {
    case 401:
      return s.token
        ? `${repo}: ${what} was refused with 401 Unauthorized: HF_TOKEN is not a valid token${said}`
        : `${repo}: ${what} was refused with 401 Unauthorized: the repository is gated or private. Accept its terms on ${page} while logged in, create an access token (huggingface.co/settings/tokens) and set HF_TOKEN to it${said}`;
    case 403:
      return `${repo}: ${what} was refused with 403 Forbidden: the token in HF_TOKEN has no access to this repository; request access on ${page}${said}`;
    case 404:
      return `${repo}: ${what}: not found (404) on ${s.endpoint}. Check the repository, revision and file names${s.token ? '' : '; a private repository also needs HF_TOKEN'}${said}`;
    case 429:
      return `${repo}: ${what}: the Hub is rate-limiting requests (429); try again in a minute${said}`;
    default:
      return `${repo}: ${what} failed with HTTP ${status}${said}`;
  }
}

async function metadataCall<T>(s: HubSettings, repo: string, what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (signal?.aborted) throw new CancelledError();
    if (e instanceof HubApiError) throw new HubError(statusMessage(s, repo, e.statusCode, what, e.message.replace(/\. URL: .*$/, '')), e.statusCode);
    if (e instanceof TypeError && /access token must start/.test(e.message)) throw new HubError(`HF_TOKEN does not look like a Hugging Face access token (they start with hf_)`);
    if (e instanceof TypeError || (e as Error).name === 'TimeoutError') throw networkError(e, s);
    throw e;
  }
}

const credentials = (s: HubSettings): { accessToken?: string } => (s.token ? { accessToken: s.token } : {});

/** The commit a branch or tag points at now (GET /api/models/<repo>/revision/<rev>). */
export async function resolveCommit(s: HubSettings, repo: string, revision: string, log: RequestLog, signal?: AbortSignal): Promise<string> {
  const info = await metadataCall(s, repo, `resolving revision '${revision}'`, signal, () =>
    modelInfo({ name: repo, revision, additionalFields: ['sha'], hubUrl: s.endpoint, fetch: fetchWith(signal, log, METADATA_TIMEOUT_MS), ...credentials(s) }),
  );
  const sha = (info as { sha?: unknown }).sha;
  if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) throw new HubError(`${repo}: the Hub gave no commit for revision '${revision}'`);
  return sha;
}

/** Size and hashes of the given paths at a commit (POST /api/models/<repo>/paths-info/<commit>). Missing paths are absent. */
export async function remoteFiles(s: HubSettings, repo: string, commit: string, paths: string[], log: RequestLog, signal?: AbortSignal): Promise<Map<string, RemoteFile>> {
  const infos = await metadataCall(s, repo, 'listing files', signal, () =>
    pathsInfo({ repo: { type: 'model', name: repo }, paths, revision: commit, hubUrl: s.endpoint, fetch: fetchWith(signal, log, METADATA_TIMEOUT_MS), ...credentials(s) }),
  );
  const out = new Map<string, RemoteFile>();
  for (const i of infos) {
    if (i.type !== 'file') continue;
    const sha256 = i.lfs?.oid ?? null;
    const gitOid = i.oid ?? null;
    const size = i.lfs?.size ?? i.size;
    const etag = sha256 ?? gitOid;
    if (!etag || !Number.isSafeInteger(size) || size < 0) throw new HubError(`${repo}: the Hub gave no size or hash for ${i.path}`);
    out.set(i.path, { path: i.path, size, sha256, gitOid: sha256 ? null : gitOid, etag });
  }
  return out;
}

/** `<endpoint>/<repo>/resolve/<commit>/<path>`, the URL huggingface_hub downloads from. */
export function resolveUrl(s: HubSettings, repo: string, commit: string, path: string): string {
  return `${s.endpoint}/${repo}/resolve/${encodeURIComponent(commit)}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  log: RequestLog;
  /** Bytes of this file on disk so far (after each chunk, and after a restart from 0). */
  onBytes?(done: number): void;
  /** Transport retries (connection dropped, 5xx), each resuming where the file stopped. */
  retries?: number;
  /** Abort a request that sends nothing for this long, then resume it (default 60 s). */
  stallMs?: number;
  /** Hub repository for messages (null for other URLs, e.g. the annotation file). */
  repo: string | null;
}

export interface Expected {
  size: number | null;
  sha256: string | null;
  gitOid: string | null;
}

function hasherFor(exp: Expected): Hash | null {
  if (exp.sha256) return createHash('sha256');
  if (exp.gitOid && exp.size !== null) return createHash('sha1').update(`blob ${exp.size}\0`);
  return null;
}

async function hashPrefix(path: string, bytes: number, h: Hash): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
}

class Retryable extends Error {}

/**
 * Downloads `url` into `dest` (the blob's `.incomplete` file), resuming from what `dest` already
 * holds with a Range request, and checks size and hash. On return `dest` is complete and
 * verified; the caller renames it. Authorization goes only to the Hub itself, never to the CDN a
 * download is redirected to (as huggingface_hub and the browser do).
 */
export async function downloadVerified(s: HubSettings, url: string, dest: string, exp: Expected, what: string, opts: DownloadOptions): Promise<number> {
  for (let integrity = 1; ; integrity++) {
    await downloadOnce(s, url, dest, exp, what, opts);
    const h = hasherFor(exp);
    if (!h) return (await stat(dest)).size;
    const size = (await stat(dest)).size;
    await hashPrefix(dest, size, h);
    const got = h.digest('hex');
    const want = (exp.sha256 ?? exp.gitOid)!;
    if (got === want) return size;
    await rm(dest, { force: true });
    opts.onBytes?.(0);
    if (integrity >= 2) {
      throw new HubError(`${what}: the download is corrupt: ${exp.sha256 ? 'sha256' : 'git sha1'} ${got}, the Hub publishes ${want} (downloaded twice; nothing was kept). Try again later or another HF_ENDPOINT`);
    }
  }
}

async function downloadOnce(s: HubSettings, url: string, dest: string, exp: Expected, what: string, opts: DownloadOptions): Promise<void> {
  const retries = opts.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new CancelledError();
    try {
      await transfer(s, url, dest, exp, what, opts);
      return;
    } catch (e) {
      if (opts.signal?.aborted) throw new CancelledError();
      if (!(e instanceof Retryable) || attempt >= retries) {
        if (e instanceof Retryable) throw new HubError(`${what}: ${e.message}; gave up after ${retries + 1} attempts (run the fetch again to resume from ${dest})`);
        throw e;
      }
      // Short, growing pauses: a dropped connection is usually back at once.
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5000)));
    }
  }
}

async function currentSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function transfer(s: HubSettings, url: string, dest: string, exp: Expected, what: string, opts: DownloadOptions): Promise<void> {
  let offset = await currentSize(dest);
  if (exp.size !== null && offset > exp.size) {
    await rm(dest, { force: true });
    offset = 0;
  }
  if (exp.size !== null && offset === exp.size) return; // complete already (the hash check follows)
  opts.onBytes?.(offset);

  const stall = new AbortController();
  const signal = AbortSignal.any([stall.signal, ...(opts.signal ? [opts.signal] : [])]);
  const stallMs = opts.stallMs ?? 60_000;
  let timer = setTimeout(() => stall.abort(), stallMs);
  const kick = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(), stallMs);
  };
  const hub = new URL(s.endpoint).origin;
  let res: Response;
  try {
    let target = url;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'Accept-Encoding': 'identity', 'User-Agent': userAgent() };
      if (offset > 0) headers.Range = `bytes=${offset}-`;
      if (s.token && new URL(target).origin === hub) headers.Authorization = `Bearer ${s.token}`;
      opts.log.count++;
      res = await fetch(target, { headers, redirect: 'manual', signal });
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await res.body?.cancel();
        if (hop >= REDIRECTS) throw new HubError(`${what}: more than ${REDIRECTS} redirects from ${url}`);
        target = new URL(res.headers.get('location')!, target).href;
        kick();
        continue;
      }
      break;
    }
  } catch (e) {
    clearTimeout(timer);
    if (opts.signal?.aborted) throw new CancelledError();
    if (e instanceof HubError) throw e;
    if (stall.signal.aborted) throw new Retryable(`no answer for ${stallMs / 1000} s`);
    throw new Retryable(`connection failed (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message})`);
  }

  try {
    if (res.status === 416 && exp.size !== null) {
      // The server has nothing past our offset: what we hold is either whole or wrong.
      await res.body?.cancel();
      if (offset !== exp.size) await rm(dest, { force: true });
      if (offset === exp.size) return;
      throw new Retryable('the server refused the resume range');
    }
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel();
      throw new Retryable(`HTTP ${res.status}`);
    }
    if (!res.ok) {
      const text = (await res.text().catch(() => '')).trim();
      let said = res.headers.get('x-error-message') ?? '';
      if (!said) {
        try {
          said = (JSON.parse(text) as { error?: string }).error ?? '';
        } catch {
          said = text.slice(0, 200);
        }
      }
      throw new HubError(opts.repo ? statusMessage(s, opts.repo, res.status, `downloading ${what}`, said) : `${what}: ${url} answered HTTP ${res.status}${said ? ` (${said})` : ''}`, res.status);
    }
    let start = 0;
    if (res.status === 206) {
      const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== offset) {
        await res.body?.cancel();
        await rm(dest, { force: true });
        throw new Retryable(`the server answered the resume request with range '${res.headers.get('content-range')}'`);
      }
      start = offset;
    } else if (offset > 0) {
      // 200 to a Range request: the server ignored it and sends everything; start over.
      opts.onBytes?.(0);
    }
    const total = start + Number(res.headers.get('content-length') ?? NaN);
    if (exp.size !== null && Number.isFinite(total) && total !== exp.size) {
      await res.body?.cancel();
      throw new HubError(`${what}: the server sends ${total} bytes, the Hub lists ${exp.size}`);
    }
    const fh = await open(dest, start > 0 ? 'r+' : 'w');
    let pos = start;
    try {
      // Chunks are gathered to ~4 MB per write: fewer system calls for multi-GB files.
      const pending: Uint8Array[] = [];
      let pendingBytes = 0;
      const flush = async (): Promise<void> => {
        if (!pendingBytes) return;
        const buf = Buffer.concat(pending, pendingBytes);
        pending.length = 0;
        pendingBytes = 0;
        await fh.write(buf, 0, buf.length, pos);
        pos += buf.length;
        opts.onBytes?.(pos);
      };
      if (!res.body) throw new Retryable('empty response');
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          kick();
          pending.push(chunk);
          pendingBytes += chunk.byteLength;
          if (pendingBytes >= 1 << 22) await flush();
        }
      } catch (e) {
        await flush(); // keep every byte that arrived: the retry resumes after them
        if (opts.signal?.aborted) throw new CancelledError();
        throw new Retryable(stall.signal.aborted ? `the download stalled for ${stallMs / 1000} s` : `the connection dropped (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message})`);
      }
      await flush();
      await fh.truncate(pos);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (exp.size !== null && pos !== exp.size) throw new Retryable(`received ${pos} of ${exp.size} bytes`);
  } finally {
    clearTimeout(timer);
  }
}

