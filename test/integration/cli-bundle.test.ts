/**
 * The built CLI (scripts/build-cli.js → out/cli, run by bin/sfc.js while fresh): it starts,
 * runs a job in its own compute worker with the same answer as the TypeScript sources, and
 * bin/cli-bundle.js picks it only while every source is unchanged. Built into a scratch folder
 * under .tmp/ (inside the checkout, where node_modules resolves), so out/cli is never touched.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_VERSION } from '../../src-main/version';
import { DEMO_MODEL } from '../../src-main/defaults';

const root = join(import.meta.dirname, '..', '..');
let dir: string;
let out: string;

const node = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });

beforeAll(() => {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  dir = mkdtempSync(join(root, '.tmp', 'cli-bundle-'));
  out = join(dir, 'cli');
  const r = node(['scripts/build-cli.js', '--outdir', out]);
  expect(r.stderr).not.toMatch(/did not build/);
  expect(r.status).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the built CLI', () => {
  it('starts and prints its version and help', () => {
    expect(node([join(out, 'sfc.js'), '--version']).stdout.trim()).toBe(APP_VERSION);
    const help = node([join(out, 'sfc.js'), '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: sfc <command>/);
  });

  it('runs a job in its bundled compute worker with the same result as the sources', () => {
    const args = ['predict', '--model', DEMO_MODEL, '--text', 'The nurses', '--top', '3', '--json'];
    const built = node([join(out, 'sfc.js'), ...args]);
    const sources = node(['bin/sfc.js', ...args], { SFC_TSX: '1' });
    expect(built.status, built.stderr).toBe(0);
    expect(sources.status, sources.stderr).toBe(0);
    expect(JSON.parse(built.stdout)).toEqual(JSON.parse(sources.stdout));
  });

  it('exits with the usage code, never a crash, when a job command is refused before any work', () => {
    // A worker started ahead of the CLI once made such exits abort now and then (SIGABRT).
    const codes = Array.from({ length: 12 }, () => node(['bin/sfc.js', 'evaluate', '--circuit', 'x.json', '--data', 'y', '--handle-errors', 'remove']).status);
    expect(codes).toEqual(Array(12).fill(2));
  });

  it('is chosen only while every source it was built from is unchanged', async () => {
    const { freshBundle } = (await import(pathToFileURL(join(root, 'bin', 'cli-bundle.js')).href)) as { freshBundle: (d: URL, r: URL) => string | null };
    const d = pathToFileURL(out + '/');
    const r = pathToFileURL(root + '/');
    expect(freshBundle(d, r)).toBe(new URL('sfc.js', d).href);
    const manifestPath = join(out, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { inputs: Record<string, number> };
    expect(Object.keys(manifest.inputs)).toContain('src-main/cli/main.ts');
    const edited = { ...manifest, inputs: { ...manifest.inputs, 'src-main/cli/main.ts': manifest.inputs['src-main/cli/main.ts'] - 1000 } };
    writeFileSync(manifestPath, JSON.stringify(edited));
    expect(freshBundle(d, r)).toBeNull();
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, inputs: { ...manifest.inputs, 'src-main/no-such-file.ts': 1 } }));
    expect(freshBundle(d, r)).toBeNull();
    rmSync(manifestPath);
    expect(freshBundle(d, r)).toBeNull();
  });
});
