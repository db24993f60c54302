/**
 * Smoke test of the served UI and its WebSocket API: `sfc serve` on 127.0.0.1, Debian Chromium.
 * Needs the built renderer (`npm run build`).
 */
import { test, expect, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_VERSION } from '../../src-main/version';
import { writeRandomNeoxFolder } from '../helpers/neox-folder';
import { startServe, type Served } from './serve';
import { ApiSocket } from './ws-client';

let served: Served;
test.beforeAll(async () => {
  served = await startServe();
});
test.afterAll(async () => {
  await served?.stop();
});

/** Collects page errors, console errors (CSP violations among them) and any request that
 *  would leave 127.0.0.1 (which is blocked). */
async function watch(page: Page): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    problems.push(`blocked request to ${url.href}`);
    return route.abort();
  });
  return problems;
}

test('the page loads and shows the engine info from app.info', async ({ page }) => {
  const problems = await watch(page);
  await page.goto(served.url);
  await expect(page.getByRole('heading', { name: 'SFC Workbench' })).toBeVisible();
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');
  await expect(page.getByTestId('app-version')).toHaveText(`v${APP_VERSION}`);
  await expect(page.getByTestId('engine-runtime')).toContainText('onnxruntime-node');
  await expect(page.getByTestId('engine-opset')).toHaveText(/^\d+$/);
  await expect(page.getByTestId('graph-view').locator('.react-flow')).toBeVisible();
  await expect(page.getByTestId('model-panel')).toHaveCount(0); // no model configured
  expect(problems).toEqual([]);
});

test('the page is served with a strict Content-Security-Policy', async ({ request }) => {
  const res = await request.get(served.url);
  expect(res.status()).toBe(200);
  const csp = res.headers()['content-security-policy'];
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  expect((await request.get(`${served.origin}/../package.json`)).status()).toBe(404);
  expect((await request.get(`${served.origin}/%2e%2e/package.json`)).status()).toBe(404);
});

test('app.info round-trips over the WebSocket, from the page as from Node', async ({ page }) => {
  await page.goto(served.url);
  const fromPage = await page.evaluate(async (token) => {
    const ws = new WebSocket(`ws://${location.host}/ws?token=${encodeURIComponent(token)}`);
    await new Promise((ok, fail) => {
      ws.onopen = ok;
      ws.onerror = fail;
    });
    const reply = new Promise((ok) => (ws.onmessage = (e) => ok(JSON.parse(String(e.data)))));
    ws.send(JSON.stringify({ id: 7, channel: 'app.info', payload: {} }));
    return reply;
  }, served.token);
  expect(fromPage).toMatchObject({ type: 'reply', id: 7, ok: true, result: { name: 'SFC Workbench', version: APP_VERSION, host: 'serve' } });

  const api = await ApiSocket.open(served);
  try {
    const info = await api.call('app.info', {});
    expect(info).toMatchObject({ ok: true, result: { engine: { runtime: 'onnxruntime-node' }, model: null } });
  } finally {
    api.close();
  }
});

test('bad messages get clear errors, not crashes', async () => {
  const api = await ApiSocket.open(served);
  try {
    expect(await api.call('no.such.channel', {})).toMatchObject({ ok: false, error: { code: 'bad_request', message: /unknown channel/ } });
    const bad = await api.call('model.predict', { text: '', top: 1000, extra: 1 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    if (!bad.ok) expect(bad.error.issues?.map((i) => i.path).sort()).toEqual(['', 'text', 'top']);
    expect(await api.call('app.info', { unexpected: true })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    // A job channel that needs a model, with none configured: the job fails with a clear code.
    const started = await api.call('model.info', {});
    expect(started).toMatchObject({ ok: true });
    const jobId = started.ok ? (started.result as { jobId: string }).jobId : '';
    const failed = await api.nextEvent((e) => e.event === 'job.failed' && (e.payload as { jobId: string }).jobId === jobId);
    expect(failed.payload).toMatchObject({ error: { code: 'not_configured', message: /--model/ } });
    // Still alive after all that.
    expect(await api.call('app.info')).toMatchObject({ ok: true });
  } finally {
    api.close();
  }
});

test('a wrong or missing token is rejected', async ({ page }) => {
  await expect(ApiSocket.open(served, { token: 'wrong' })).rejects.toThrow('HTTP 401');
  await expect(ApiSocket.open(served, { token: '' })).rejects.toThrow('HTTP 401');
  // The right token from a foreign page is refused too.
  await expect(ApiSocket.open(served, { origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');

  await page.goto(`${served.origin}/?token=wrong`);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'error');
  await expect(page.getByTestId('connection-error')).toContainText('token');
  await expect(page.getByTestId('engine-runtime')).toHaveCount(0);

  await page.goto(`${served.origin}/`);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'error');
  await expect(page.getByTestId('connection-error')).toContainText('no token');
});

test('jobs report progress and can be cancelled', async () => {
  const api = await ApiSocket.open(served);
  try {
    const done = await api.call('debug.sleep', { ms: 200, steps: 4 });
    expect(done).toMatchObject({ ok: true, result: { jobId: expect.any(String) } });
    const doneId = done.ok ? (done.result as { jobId: string }).jobId : '';
    const finished = await api.nextEvent((e) => (e.payload as { jobId: string }).jobId === doneId && e.event !== 'job.progress');
    expect(finished).toMatchObject({ event: 'job.done', payload: { result: { slept: 200 } } });
    expect(api.events.filter((e) => e.event === 'job.progress' && (e.payload as { jobId: string }).jobId === doneId).length).toBeGreaterThan(0);

    const long = await api.call('debug.sleep', { ms: 60_000, steps: 600 });
    const longId = long.ok ? (long.result as { jobId: string }).jobId : '';
    await api.nextEvent((e) => e.event === 'job.progress' && (e.payload as { jobId: string }).jobId === longId);
    expect(await api.call('job.cancel', { jobId: longId })).toMatchObject({ ok: true, result: { cancelled: true } });
    const ended = await api.nextEvent((e) => (e.payload as { jobId: string }).jobId === longId && e.event !== 'job.progress');
    expect(ended).toMatchObject({ event: 'job.failed', payload: { error: { code: 'cancelled' } } });
    expect(await api.call('job.cancel', { jobId: longId })).toMatchObject({ ok: true, result: { cancelled: false } });
  } finally {
    api.close();
  }
});

test('with a model, the Model panel shows model.info and predicts next tokens', async ({ page }) => {
  // A small random GPT-NeoX folder (or a real one from SFC_E2E_MODEL).
  let model = process.env.SFC_E2E_MODEL;
  if (!model) {
    model = mkdtempSync(join(tmpdir(), 'sfc-e2e-model-'));
    writeRandomNeoxFolder(model);
  }
  const problems = await watch(page);
  const withModel = await startServe(['--model', model]);
  try {
    await page.goto(withModel.url);
    const panel = page.getByTestId('model-panel');
    await expect(panel).toBeVisible();
    await expect(panel).toContainText(/Architecture\s*\S+.*Vocabulary\s*\d/);
    await panel.getByRole('button', { name: 'Predict next token' }).click();
    const rows = panel.getByTestId('predictions').locator('tr');
    await expect(rows.first()).toBeVisible({ timeout: 60_000 });
    expect(await rows.count()).toBe(10);
    expect(problems).toEqual([]);
  } finally {
    await withModel.stop();
    if (!process.env.SFC_E2E_MODEL) rmSync(model, { recursive: true, force: true });
  }
});
