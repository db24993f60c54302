/**
 * The desktop app's `app://sfc/` protocol (src-main/app/app-protocol.ts) without Electron:
 * which frame URLs are trusted, and what the handler serves from the renderer folder.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_INDEX_URL, handleAppRequest, isTrustedRendererUrl } from '../../src-main/app/app-protocol';
import { RENDERER_CSP } from '../../src-main/app/renderer-files';

const tmp = mkdtempSync(join(tmpdir(), 'sfc-app-protocol-'));
const renderer = join(tmp, 'out', 'renderer');
mkdirSync(join(renderer, 'assets'), { recursive: true });
writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>SFC</title>');
writeFileSync(join(renderer, 'assets', 'a.js'), 'export {};');
writeFileSync(join(tmp, 'out', 'secret.txt'), 'outside the renderer');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => handleAppRequest(renderer, new Request(url, { method }));

describe('trusted frame URLs', () => {
  it('trusts app://sfc/ only, in a build', () => {
    expect(isTrustedRendererUrl(APP_INDEX_URL)).toBe(true);
    expect(isTrustedRendererUrl('app://sfc/assets/a.js?x#y')).toBe(true);
    for (const url of [
      'app://sfc.evil/index.html',
      'app://sfc@evil/index.html',
      'app://user:pw@sfc/index.html',
      'app://sfc:8080/index.html',
      'app://other/index.html',
      'file:///index.html',
      'https://sfc/index.html',
      'http://localhost:5173/',
      'about:blank',
      'not a url',
      '',
    ]) {
      expect(isTrustedRendererUrl(url), url).toBe(false);
    }
  });

  it('trusts only the dev server origin under electron-vite dev', () => {
    expect(isTrustedRendererUrl('http://localhost:5173/index.html', 'http://localhost:5173')).toBe(true);
    expect(isTrustedRendererUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(isTrustedRendererUrl(APP_INDEX_URL, 'http://localhost:5173')).toBe(false);
  });
});

describe('the app:// handler', () => {
  it('serves renderer files with the CSP and their type', async () => {
    const res = await get(APP_INDEX_URL);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(RENDERER_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('<title>SFC</title>');
    expect((await get('app://sfc/')).status).toBe(200); // a folder means its index.html
    const js = await get('app://sfc/assets/a.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const head = await get('app://sfc/assets/a.js', 'HEAD');
    expect([head.status, await head.text()]).toEqual([200, '']);
  });

  it('never serves outside the renderer folder', async () => {
    for (const path of ['..%2Fsecret.txt', '%2e%2e%2fsecret.txt', '..%5csecret.txt', 'assets/..%2F..%2Fsecret.txt']) {
      const res = await get(`app://sfc/${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain('outside');
    }
    expect((await get('app://sfc/%E0%A4%A')).status).toBe(400); // broken percent-encoding
    expect((await get('app://sfc/a%00.js')).status).toBe(400);
    expect((await get('app://sfc/missing.js')).status).toBe(404);
    expect((await get('app://sfc/assets')).status).toBe(404); // a folder without the slash
    expect((await get('app://other/index.html')).status).toBe(404);
    expect((await get(APP_INDEX_URL, 'POST')).status).toBe(405);
  });
});
