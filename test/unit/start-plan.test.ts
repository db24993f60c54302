/**
 * The decisions behind `npm start` (scripts/start-plan.js): stale or fresh build, Electron
 * binary present or absent, desktop window or browser, and how to open the browser. Nothing
 * here launches Electron, a server or a browser.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUILD_OUTPUTS,
  DEMO_MODEL,
  browserOpener,
  buildStaleness,
  chooseFace,
  electronBinary,
  newestMtime,
  outputMtimes,
  serveModel,
} from '../../scripts/start-plan.js';

const tmp = mkdtempSync(join(tmpdir(), 'sfc-start-plan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function touch(root: string, rel: string, seconds: number): void {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, '');
  utimesSync(p, seconds, seconds);
}

describe('build staleness', () => {
  const outputs = (ms: number | null) => BUILD_OUTPUTS.map((path) => ({ path, mtimeMs: ms }));

  it('is stale when an output is missing', () => {
    const o = outputs(2000);
    o[1] = { path: o[1].path, mtimeMs: null };
    expect(buildStaleness(1000, o)).toEqual({ stale: true, why: `${BUILD_OUTPUTS[1]} is missing` });
  });

  it('is stale when a source is newer than the oldest output, fresh otherwise', () => {
    const o = outputs(3000);
    o[2] = { path: o[2].path, mtimeMs: 1500 };
    expect(buildStaleness(2000, o)).toMatchObject({ stale: true, why: expect.stringContaining(BUILD_OUTPUTS[2]) });
    expect(buildStaleness(1000, o)).toEqual({ stale: false, why: 'up to date' });
  });

  it('reads mtimes from a tree, skipping node_modules and dot-folders', () => {
    const root = join(tmp, 'tree');
    touch(root, 'src-main/a/b.ts', 1000);
    touch(root, 'src-main/node_modules/x.js', 9000);
    touch(root, 'src-main/.cache/y', 9000);
    touch(root, 'electron.vite.config.ts', 1200);
    expect(newestMtime(root, ['src-main', 'electron.vite.config.ts', 'absent'])).toBe(1_200_000);
    touch(root, 'out/main/index.js', 1500);
    expect(outputMtimes(root, ['out/main/index.js', 'out/renderer/index.html'])).toEqual([
      { path: 'out/main/index.js', mtimeMs: 1_500_000 },
      { path: 'out/renderer/index.html', mtimeMs: null },
    ]);
    touch(root, 'src-main/a/b.ts', 2000); // an edit after the build
    expect(buildStaleness(newestMtime(root, ['src-main']), outputMtimes(root, ['out/main/index.js'])).stale).toBe(true);
  });
});

describe('the Electron binary', () => {
  const pkg = join(tmp, 'electron');
  mkdirSync(join(pkg, 'dist'), { recursive: true });

  it('is missing without the package, without path.txt, or without the executable', () => {
    expect(electronBinary(null, {})).toMatchObject({ missing: expect.stringContaining('not installed') });
    expect(electronBinary(pkg, {})).toMatchObject({ missing: expect.stringContaining('path.txt is absent') });
    writeFileSync(join(pkg, 'path.txt'), 'electron');
    expect(electronBinary(pkg, {})).toEqual({ missing: `${join(pkg, 'dist', 'electron')} does not exist` });
  });

  it('is found where path.txt points, or under ELECTRON_OVERRIDE_DIST_PATH', () => {
    writeFileSync(join(pkg, 'path.txt'), 'electron\n');
    writeFileSync(join(pkg, 'dist', 'electron'), '');
    expect(electronBinary(pkg, {})).toEqual({ path: join(pkg, 'dist', 'electron') });
    const other = join(tmp, 'other-dist');
    expect(electronBinary(pkg, { ELECTRON_OVERRIDE_DIST_PATH: other })).toMatchObject({ missing: expect.stringContaining(other) });
  });
});

describe('desktop window or browser', () => {
  const present = { path: '/x/electron' };
  const absent = { missing: 'node_modules/electron/path.txt is absent: the Electron download never completed' };
  const display = { DISPLAY: ':0' };

  it('opens Electron when the binary is there, passing the arguments on', () => {
    expect(chooseFace({ electron: present, platform: 'linux', env: display, args: ['--model', '/m', '--x'] })).toEqual({
      face: 'electron',
      executable: '/x/electron',
      args: ['.', '--model=/m', '--x'],
    });
    expect(chooseFace({ electron: present, platform: 'darwin', env: {}, args: [] })).toMatchObject({ face: 'electron' });
    expect(chooseFace({ electron: present, platform: 'win32', env: {}, args: [] })).toMatchObject({ face: 'electron' });
  });

  it('serves the demo model to the browser without the binary, saying why', () => {
    const f = chooseFace({ electron: absent, platform: 'linux', env: display, args: [] });
    expect(f).toMatchObject({ face: 'serve', model: DEMO_MODEL });
    expect(f.face === 'serve' && f.reason).toContain('no Electron binary (node_modules/electron/path.txt is absent');
    expect(f.face === 'serve' && f.reason).toContain('npm run electron:download');
  });

  it('serves to the browser on Linux without a display, even with the binary', () => {
    const f = chooseFace({ electron: present, platform: 'linux', env: {}, args: [] });
    expect(f).toMatchObject({ face: 'serve', reason: expect.stringContaining('$DISPLAY') });
    expect(chooseFace({ electron: present, platform: 'linux', env: { WAYLAND_DISPLAY: 'wayland-0' }, args: [] }).face).toBe('electron');
  });

  it('takes the model from --model=DIR, --model DIR, SFC_MODEL, else the demo', () => {
    expect(serveModel(['--model=/a'], { SFC_MODEL: '/e' })).toBe('/a');
    expect(serveModel(['--model', '/b'], {})).toBe('/b');
    expect(serveModel([], { SFC_MODEL: '/e' })).toBe('/e');
    expect(serveModel([], {})).toBe(DEMO_MODEL);
  });
});

describe('opening the browser', () => {
  it('uses open on macOS, start on Windows, xdg-open on Linux with a display only', () => {
    expect(browserOpener('darwin', {})).toEqual({ command: 'open', args: [] });
    expect(browserOpener('win32', {})).toEqual({ command: 'cmd', args: ['/d', '/c', 'start', '""'] });
    expect(browserOpener('linux', { DISPLAY: ':0' }, (n) => n === 'xdg-open')).toEqual({ command: 'xdg-open', args: [] });
    expect(browserOpener('linux', { DISPLAY: ':0' }, () => false)).toBeNull();
    expect(browserOpener('linux', {}, () => true)).toBeNull();
  });
});
