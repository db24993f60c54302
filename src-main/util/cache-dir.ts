/**
 * The per-user cache folder: derived data that only saves time (file hashes, onnxruntime's
 * optimized graphs) and may be deleted at any moment. SFC_CACHE_DIR picks another folder;
 * SFC_CACHE_DIR=off turns every cache off. Callers treat a cache that cannot be read or written
 * as empty: a cache never makes a run fail.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

const NAME = 'sfc-workbench';

/** The cache folder (not created here), or null when caching is off. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | null {
  const set = env.SFC_CACHE_DIR;
  if (set === 'off' || set === '0') return null;
  if (set) return set;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), NAME, 'Cache');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', NAME);
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), NAME);
}
