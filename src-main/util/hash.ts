/**
 * Content hashes for provenance: sha256 of a file, or of a folder as the sorted list of its
 * files' relative paths and hashes. Cached by (path, size, mtime) for the life of the process.
 */
import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const cache = new Map<string, string>();

function hashFile(path: string): string {
  const st = statSync(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 22);
  const fd = openSync(path, 'r');
  try {
    let n: number;
    while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  const out = h.digest('hex');
  cache.set(key, out);
  return out;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

export function contentHash(path: string): string {
  if (!statSync(path).isDirectory()) return hashFile(path);
  const h = createHash('sha256');
  for (const f of listFiles(path).sort()) h.update(`${relative(path, f)}\0${hashFile(f)}\n`);
  return h.digest('hex');
}
