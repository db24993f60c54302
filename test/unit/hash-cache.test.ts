/**
 * Content hashes kept across processes (util/hash.ts, in the cache folder of util/cache-dir.ts):
 * a stored hash is used only while the file's size, mtime, ctime and inode are unchanged, and a
 * missing or unwritable cache only costs time.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cacheDir } from '../../src-main/util/cache-dir';

let dir: string;
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A fresh copy of util/hash.ts (its in-process cache empty), as a new process would have. */
async function freshHash(): Promise<(p: string) => string> {
  vi.resetModules();
  return (await import('../../src-main/util/hash')).contentHash;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-hash-'));
  vi.stubEnv('SFC_CACHE_DIR', join(dir, 'cache'));
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe('cache folder', () => {
  it('follows SFC_CACHE_DIR, turns off with "off", else the platform cache folder', () => {
    expect(cacheDir({ SFC_CACHE_DIR: '/x/y' })).toBe('/x/y');
    expect(cacheDir({ SFC_CACHE_DIR: 'off' })).toBeNull();
    expect(cacheDir({ XDG_CACHE_HOME: '/c' }, 'linux')).toBe(join('/c', 'sfc-workbench'));
    expect(cacheDir({}, 'darwin')).toMatch(/Library[/\\]Caches[/\\]sfc-workbench$/);
    expect(cacheDir({ LOCALAPPDATA: 'C:\\L' }, 'win32')).toMatch(/sfc-workbench[/\\]Cache$/);
  });
});

describe('content hashes across processes', () => {
  it('stores each file hash and reuses it in a new process while the file is unchanged', async () => {
    const f = join(dir, 'a.bin');
    writeFileSync(f, 'hello');
    expect((await freshHash())(f)).toBe(sha('hello'));
    const stored = JSON.parse(readFileSync(join(dir, 'cache', 'hashes.json'), 'utf8'));
    expect(stored.entries[f].sha256).toBe(sha('hello'));
    // Proof that a new process reads the stored hash instead of the file: a forged entry with
    // the file's exact stats is returned as is.
    stored.entries[f].sha256 = 'f'.repeat(64);
    writeFileSync(join(dir, 'cache', 'hashes.json'), JSON.stringify(stored));
    expect((await freshHash())(f)).toBe('f'.repeat(64));
  });

  it('never uses a stored hash after the file changed, even at the same size and mtime', async () => {
    const f = join(dir, 'a.bin');
    writeFileSync(f, 'hello');
    const st = statSync(f);
    expect((await freshHash())(f)).toBe(sha('hello'));
    writeFileSync(f, 'jello'); // same size
    const { utimesSync } = await import('node:fs');
    utimesSync(f, st.atime, st.mtime); // same mtime: only ctime tells
    expect((await freshHash())(f)).toBe(sha('jello'));
  });

  it('hashes folders the same with and without the cache, and works with the cache off or unwritable', async () => {
    const d = join(dir, 'set');
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'x.txt'), 'x');
    writeFileSync(join(d, 'sub', 'y.txt'), 'y');
    const first = (await freshHash())(d);
    expect((await freshHash())(d)).toBe(first);
    vi.stubEnv('SFC_CACHE_DIR', 'off');
    expect((await freshHash())(d)).toBe(first);
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    vi.stubEnv('SFC_CACHE_DIR', join(ro, 'cache'));
    expect((await freshHash())(d)).toBe(first);
    chmodSync(ro, 0o700);
  });
});
