/**
 * The Hugging Face environment, read the way Python's huggingface_hub reads it, so the app uses
 * the cache, mirror, token and offline switch a researcher has already set up (docs/hub.md):
 *
 *   HF_ENDPOINT                      the Hub or a mirror (default https://huggingface.co)
 *   HF_TOKEN (HUGGING_FACE_HUB_TOKEN) access token for gated or private repositories
 *   HF_HUB_OFFLINE (TRANSFORMERS_OFFLINE)  1/ON/YES/TRUE: never make a request, use the cache
 *   HF_HUB_CACHE (HUGGINGFACE_HUB_CACHE)   the cache; else $HF_HOME/hub, else
 *                                    $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub
 *
 * Our own derived files (unpacked zips, assembled SAE folders) live outside the hub cache, so
 * Python's cache tools never see a folder they do not know: SFC_HUB_DIR, else `hub/` in the
 * app's cache folder.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { cacheDir as appCacheDir } from '../util/cache-dir';

export interface HubSettings {
  endpoint: string;
  token: string | null;
  offline: boolean;
  cacheDir: string;
  /** Unpacked archives, assembled SAE sets, download locks (never inside the hub cache). */
  sfcCacheDir: string;
}

/** huggingface_hub's `_is_true`. */
export const isTrue = (v: string | undefined): boolean => !!v && ['1', 'ON', 'YES', 'TRUE'].includes(v.toUpperCase());

const expandHome = (p: string): string => (p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p);

export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(expandHome(env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface')));
}

export function hfHubCache(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  return resolve(expandHome(explicit || join(hfHome(env), 'hub')));
}

/**
 * SFC_HUB_DIR, else `hub/` in the app's cache folder (util/cache-dir.ts). Unpacked dictionaries
 * are needed to run at all, so SFC_CACHE_DIR=off (no time-saving caches) still puts them in the
 * default cache folder.
 */
export function sfcCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.SFC_HUB_DIR) return resolve(expandHome(env.SFC_HUB_DIR));
  const base = appCacheDir(env, platform) ?? appCacheDir({ ...env, SFC_CACHE_DIR: undefined }, platform)!;
  return join(resolve(expandHome(base)), 'hub');
}

export function hubSettings(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): HubSettings {
  const endpoint = (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
  try {
    const u = new URL(endpoint);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw new Error(`HF_ENDPOINT '${endpoint}' is not an http(s) URL`);
  }
  const token = (env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || '').trim() || null;
  return {
    endpoint,
    token,
    offline: isTrue(env.HF_HUB_OFFLINE) || isTrue(env.TRANSFORMERS_OFFLINE),
    cacheDir: hfHubCache(env),
    sfcCacheDir: sfcCacheDir(env, platform),
  };
}
