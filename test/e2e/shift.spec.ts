/**
 * SHIFT and the Library's hub controls end to end, in Chromium against `sfc serve`: open the
 * SHIFT view on the demo, train the probe, discover its circuit, judge features (some ablated,
 * with a note, kept across a reload), run SHIFT and read the table and chart; then the
 * Library's Download control (size first; offline it fails inline) and Open folder… on the
 * demo model. Screenshots go to test-results/screenshots/. Needs the built renderer.
 */
import { test, expect, type Page } from '@playwright/test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, type Served } from './serve';
import { controlsWithoutNames, root, shot, openApp } from './editor-helpers';

let served: Served;
test.beforeAll(async () => {
  // The hub's caches go to a fresh folder, never the user's; no request leaves the machine.
  const home = mkdtempSync(join(tmpdir(), 'sfc-e2e-hub-'));
  process.env.HF_HOME = join(home, 'hf');
  process.env.SFC_HUB_DIR = join(home, 'sfc-hub');
  process.env.HF_HUB_OFFLINE = '1';
  served = await startServe();
});
test.afterAll(async () => {
  await served?.stop();
});

const open = (page: Page, hash = ''): Promise<string[]> => openApp(page, served.url, hash);

/** The demo's own decisions (resources/demo/shift/judgements.jsonl), as a researcher would make them. */
const DEMO_DECISIONS = new Map(
  readFileSync(join(root, 'resources/demo/shift/judgements.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Name: string; Judgement?: string })
    .map((j) => [j.Name, j.Judgement] as const),
);

test('SHIFT: probe, circuit, judging, and the table with every method', async ({ page }) => {
  test.setTimeout(600_000);
  const problems = await open(page);
  await page.getByRole('tab', { name: 'SHIFT' }).click();
  const view = page.getByTestId('shift-view');
  await view.getByRole('button', { name: 'Use the SHIFT demo' }).click();
  await expect(view.getByTestId('shift-demo')).toContainText('layer');

  await view.getByRole('button', { name: 'Train the probe' }).click();
  await expect(view.getByTestId('shift-probe')).toContainText('worst group', { timeout: 180_000 });

  await view.getByRole('button', { name: 'Discover the circuit' }).click();
  await expect(view.getByTestId('shift-circuit')).toContainText('features with effect above', { timeout: 240_000 });
  const cards = view.locator('.judge-card');
  await expect(cards.first()).toBeVisible({ timeout: 180_000 });
  const n = await cards.count();
  expect(n).toBeGreaterThan(3);
  await shot(page, '19-shift-steps');
  // Each card shows its contexts with the peak token marked and the tokens it promotes.
  await expect(cards.first().locator('.tok.peak').first()).toBeVisible();
  await expect(cards.first().locator('.token-chip').first()).toBeVisible();

  // Reset, then ablate what the demo's decisions call spurious (at least two).
  await view.getByRole('button', { name: 'Mark all as keep' }).click();
  await expect(view.getByTestId('judge-counts')).toContainText(`0 to ablate · ${n} to keep`);
  await expect(view.getByRole('button', { name: 'Run SHIFT' })).toBeDisabled();
  const keys = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice('judge-'.length)));
  let ablated = keys.filter((k) => DEMO_DECISIONS.get(k) === 'ablate');
  if (ablated.length < 2) ablated = keys.slice(0, 2);
  for (const k of ablated) await view.getByTestId(`judge-${k}`).getByLabel('Ablate').check();
  const first = view.getByTestId(`judge-${ablated[0]}`);
  await first.getByLabel('Note').fill('peaks on gendered names');
  await first.getByLabel('Note').blur();
  await expect(view.getByTestId('judge-counts')).toContainText(`${ablated.length} to ablate · ${n - ablated.length} to keep`);
  expect(await controlsWithoutNames(page)).toEqual([]);
  // Scroll the view itself (scrollIntoView would also scroll the page under the fixed layout).
  await view.getByTestId('judge-counts').evaluate((e) => {
    const v = e.closest('.view')!;
    v.scrollTop += e.getBoundingClientRect().top - v.getBoundingClientRect().top - 40;
  });
  await shot(page, '20-shift-judge');

  await view.getByRole('button', { name: 'Run SHIFT' }).click();
  const table = view.getByTestId('shift-table');
  await expect(table).toBeVisible({ timeout: 400_000 });
  for (const m of ['Original', 'CBP', 'Random', 'SHIFT', 'SHIFT + retrain', 'Neuron skyline', 'Feature skyline', 'Oracle']) await expect(table.getByRole('rowheader', { name: m, exact: true })).toBeVisible();
  for (const c of ['Profession ↑', 'Gender ↓', 'Worst group ↑', 'Ambiguous']) await expect(table.getByRole('columnheader', { name: c })).toBeVisible();
  await expect(table.getByRole('row', { name: /^SHIFT \d/ })).toContainText(String(ablated.length));
  await expect(view.getByTestId('shift-chart').locator('canvas')).toBeVisible();
  await view.getByTestId('shift-results').evaluate((e) => {
    const v = e.closest('.view')!;
    v.scrollTop += e.getBoundingClientRect().top - v.getBoundingClientRect().top - 60;
  });
  await shot(page, '21-shift-table');

  // Decisions are stored: after a reload the view picks up the probe, circuit, judgements and run.
  await page.reload();
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');
  const again = page.getByTestId('shift-view');
  await expect(again.getByTestId('shift-probe')).toContainText('worst group');
  const card = again.getByTestId(`judge-${ablated[0]}`);
  await expect(card.getByLabel('Ablate')).toBeChecked({ timeout: 120_000 });
  await expect(card.getByLabel('Note')).toHaveValue('peaks on gendered names');
  await expect(again.getByTestId('judge-counts')).toContainText(`${ablated.length} to ablate`);
  await expect(again.getByTestId('shift-table')).toBeVisible();
  expect(problems).toEqual([]);
});

test('Library: download shows its size and fails inline offline; Open folder… adds the demo model', async ({ page }) => {
  const problems = await open(page);
  const lib = page.getByTestId('library');
  await expect(lib.getByTestId('download-size')).toContainText(/About \d.* to download: model \d+ MB, SAEs \d/);
  const t0 = Date.now();
  await lib.getByRole('button', { name: 'Download Pythia-70M' }).click();
  await expect(lib.getByTestId('download-note')).toContainText('Download failed', { timeout: 30_000 });
  expect(Date.now() - t0).toBeLessThan(30_000);
  await expect(lib.getByTestId('download-note')).toHaveAttribute('role', 'alert');

  await lib.getByRole('button', { name: 'Open folder…' }).click();
  await lib.getByLabel('Folder path').fill(join(root, 'resources/demo/model'));
  await lib.getByRole('button', { name: 'Inspect' }).click();
  const found = lib.getByTestId('inspection');
  await expect(found).toContainText('layers');
  const models = lib.locator('details.lib-group').filter({ has: page.locator('summary', { hasText: /^Models/ }) });
  await models.locator('summary').click();
  const before = await models.locator('li').count();
  await found.getByRole('button', { name: 'Add model' }).click();
  await expect(lib).toContainText('Added model');
  await lib.locator('.hub-cache summary').click();
  await expect(lib.locator('.hub-cache')).toContainText(/Empty|B/);
  expect(await controlsWithoutNames(page)).toEqual([]);
  // Clicks scrolled the sidebar (and the fixed layout's boxes) to reach the lists; back to the top.
  await page.evaluate(() => ['.sidebar', '.body', '.app'].forEach((q) => document.querySelector(q)?.scrollTo(0, 0)));
  await page.evaluate(() => document.scrollingElement?.scrollTo(0, 0));
  await shot(page, '22-library-download');
  // The demo model is already in the library (same content hash), or added once more.
  expect(await models.locator('li').count()).toBeGreaterThanOrEqual(before);
  expect(problems).toEqual([]);
});
