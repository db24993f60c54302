/**
 * The circuit editor end to end, in Chromium against `sfc serve` with the embedded demo model:
 * drop a cluster JSON, discover on it with progress, filter with the threshold slider, select
 * and annotate a node (kept across a reload), prune into a new version, undo and redo, ablate,
 * evaluate (with its plot), compare two versions, and export JSON, SVG and PNG. Each view is
 * written to test-results/screenshots/. Needs the built renderer (`npm run build`).
 */
import { test, expect, type Page } from '@playwright/test';
import { startServe, type Served } from './serve';
import { ApiSocket } from './ws-client';
import { CLUSTERS_JSON, clickNode, controlsWithoutNames, download, dropFiles, expectVersion, goToNode, renderedNodeIds, shot, version, visibleNodes, openApp } from './editor-helpers';

let served: Served;
test.beforeAll(async () => {
  served = await startServe();
});
test.afterAll(async () => {
  await served?.stop();
});

/** A circuit in the store for the tests that do not start from a drop (discovered over the API). */
async function ensureCircuit(): Promise<number> {
  const api = await ApiSocket.open(served);
  try {
    const lib = (await api.call('library.list', {})) as { ok: true; result: { circuits: { id: number }[]; models: { id: number }[]; saeSets: { id: number; layout: string }[]; datasets: { id: number; name: string }[] } };
    const l = lib.result;
    if (l.circuits.length) return l.circuits[0].id;
    const started = (await api.call('circuit.discover', {
      modelId: l.models[0].id,
      saeSetId: l.saeSets.find((s) => s.layout !== 'identity')!.id,
      datasetId: l.datasets.find((d) => d.name === 'demo simple (train)')!.id,
      aggregation: 'none',
      n: 20,
    })) as { ok: true; result: { jobId: string } };
    const end = await api.nextEvent((e) => (e.payload as { jobId: string }).jobId === started.result.jobId && e.event !== 'job.progress');
    expect(end.event).toBe('job.done');
    return (end.payload as { result: { circuit: { id: number } } }).result.circuit.id;
  } finally {
    api.close();
  }
}

const open = (page: Page, hash = ''): Promise<string[]> => openApp(page, served.url, hash);

/** Runs the Discover form with the given dataset and aggregation; resolves when the graph shows it. */
async function discover(page: Page, dataset: RegExp, aggregation: 'none' | 'sum', n: number): Promise<number> {
  await page.getByRole('tab', { name: 'Discover' }).click();
  const view = page.getByTestId('discover-view');
  const option = view.getByLabel('Dataset').locator('option', { hasText: dataset });
  await view.getByLabel('Dataset').selectOption((await option.first().getAttribute('value'))!);
  await view.getByLabel('Aggregation').selectOption(aggregation);
  await view.getByLabel('Examples (N)').fill(String(n));
  await expect(view.getByTestId('estimate')).toContainText('Peak memory');
  await view.getByRole('button', { name: 'Discover', exact: true }).click();
  await expect(page.getByTestId('graph-view')).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId('notice')).toContainText('Discovered', { timeout: 90_000 });
  return version(page);
}

test('the whole loop: drop, discover, filter, annotate, prune, undo/redo, ablate, evaluate, compare, export', async ({ page }) => {
  test.setTimeout(240_000);
  const problems = await open(page);
  await shot(page, '00-start');

  // 1. Drop a cluster JSON (and a broken file: refused inline, named, the other still imported).
  await dropFiles(page, [
    { name: 'agreement-clusters.json', text: CLUSTERS_JSON },
    { name: 'broken.json', text: '{"a": ' },
  ]);
  const notes = page.getByTestId('import-notes');
  await expect(notes).toContainText('agreement-clusters.json → dataset “agreement-clusters”: 8 examples');
  await expect(notes).toContainText('broken.json: not JSON or JSON Lines');
  await expect(page.getByTestId('library')).toContainText('cluster (no pairs) · 8 examples');
  await shot(page, '01-library-after-drop', page.locator('.sidebar'));

  // 2. Discover on it, per token position: the estimate first, then progress, then the graph.
  await notes.getByRole('button', { name: 'Discover on it' }).click();
  const form = page.getByTestId('discover-view');
  await expect(form.getByLabel('Dataset')).toHaveValue(/\d+/);
  await expect(form.getByLabel('Dataset').locator('option:checked')).toContainText('agreement-clusters');
  await form.getByLabel('Aggregation').selectOption('none');
  await form.getByLabel('Node threshold').fill('0.05');
  await form.getByLabel('Examples (N)').fill('8');
  await expect(form.getByTestId('estimate')).toContainText('Peak memory');
  await shot(page, '02-discover-form');
  await form.getByRole('button', { name: 'Discover', exact: true }).click();
  await expect(page.getByTestId('job')).toBeVisible();
  await expect(page.getByRole('progressbar', { name: 'Discovering progress' })).toBeAttached();
  await shot(page, '03-discover-progress');
  await expect(page.getByTestId('notice')).toContainText('Discovered', { timeout: 90_000 });
  await expect(page.getByTestId('circuit-title')).toContainText('agreement-clusters ig per position');
  const v1 = await version(page);
  const total = await visibleNodes(page);
  expect(total).toBeGreaterThan(20);
  await expect(page.getByTestId('visible-count')).toContainText(`Showing ${total} of ${total} nodes`);
  await shot(page, '04-graph');

  // 3. Move the node threshold slider: fewer nodes, and the view says how many it hides.
  const slider = page.getByRole('slider', { name: 'Node threshold' });
  await slider.focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press('PageUp');
  await expect.poll(() => visibleNodes(page)).toBeLessThan(total);
  const shown = await visibleNodes(page);
  const reveal = page.getByRole('button', { name: new RegExp(`Show ${total - shown} nodes under the threshold`) });
  await expect(reveal).toBeVisible();
  await expect(page.getByTestId('visible-count')).toContainText(`Showing ${shown} of ${total} nodes`);
  await shot(page, '05-threshold');
  await reveal.click();
  await expect.poll(() => visibleNodes(page)).toBe(total);

  // 4. Select a node (a resid_1 feature) and annotate it in the Inspector.
  await page.keyboard.press('f');
  const resid = (await renderedNodeIds(page, 'resid_1/')).filter((id) => !id.includes('/error'));
  expect(resid.length).toBeGreaterThan(1);
  const target = resid[0];
  await clickNode(page, target);
  const inspector = page.getByTestId('inspector');
  await expect(inspector).toContainText(target);
  await expect(inspector.getByTestId('contexts')).toContainText('Active in', { timeout: 30_000 });
  await inspector.getByRole('textbox', { name: 'Annotation' }).fill('plural subject');
  await inspector.getByRole('button', { name: 'Save annotation' }).click();
  await expect(inspector.getByRole('status')).toHaveText('Saved');
  await expect(page.locator(`.react-flow__node[data-id="${target}"] .fnode`)).toHaveAttribute('data-label', 'plural subject');
  // The demo SAEs have no Neuronpedia id, so no link is offered.
  await expect(inspector.getByRole('link', { name: /Neuronpedia/ })).toHaveCount(0);
  await page.getByRole('button', { name: 'Fit view' }).click();
  await shot(page, '06-inspector');
  // Close up on it (search, Enter): labels readable, its edges highlighted (the README's picture).
  await goToNode(page, target);
  await expect(page.locator(`.react-flow__node[data-id="${target}"] .fnode-label`)).toHaveText('plural subject');
  await shot(page, '06b-inspector-close-up');

  // ... and it is still there after a reload (the circuit reopens from the URL).
  await page.reload();
  await expectVersion(page, v1);
  await expect(page.locator(`.react-flow__node[data-id="${target}"] .fnode`)).toHaveAttribute('data-label', 'plural subject');
  await clickNode(page, target);
  await expect(page.getByTestId('inspector').getByRole('textbox', { name: 'Annotation' })).toHaveValue('plural subject');

  // 5. Prune two nodes (click, shift-click, Delete): a new version with two fewer nodes.
  const second = resid[1];
  await clickNode(page, second, true);
  await expect(page.getByTestId('selection-bar')).toContainText('2 nodes selected');
  await page.keyboard.press('Delete');
  await expect.poll(() => version(page)).not.toBe(v1);
  const v2 = await version(page);
  await expect(page.getByTestId('visible-count')).toContainText(`of ${total - 2} nodes`);
  await expect(page.locator(`.react-flow__node[data-id="${second}"]`)).toHaveCount(0);
  await page.keyboard.press('f');
  await expect(page.getByTestId('notice')).toContainText(`Version ${v2}: pruned 2 nodes`);
  await shot(page, '07-pruned');

  // 6. Undo and redo walk the versions (Ctrl+Z, Ctrl+Shift+Z), and the History lists them.
  await page.keyboard.press('Control+z');
  await expectVersion(page, v1);
  await expect(page.getByTestId('visible-count')).toContainText(`of ${total} nodes`);
  await page.keyboard.press('Control+Shift+z');
  await expectVersion(page, v2);
  await page.keyboard.press('Control+z');
  await expectVersion(page, v1);
  await page.keyboard.press('Control+y');
  await expectVersion(page, v2);
  await page.getByRole('tab', { name: 'History' }).click();
  const history = page.getByTestId('history');
  await expect(history.getByRole('button', { name: /pruned 2 nodes/ })).toHaveAttribute('aria-current', 'true');
  await expect(history.getByRole('button', { name: /discovered/ })).toBeVisible();
  await shot(page, '08-history');

  // 7. Ablate: zero-ablate a remaining resid_1 node; the metric moves and the node gets a badge.
  const kept = (await renderedNodeIds(page, 'resid_1/')).filter((id) => !id.includes('/error'))[0];
  await clickNode(page, kept);
  await page.getByRole('tab', { name: 'Ablate' }).click();
  const ablate = page.getByTestId('ablate');
  await ablate.getByLabel('Intervention').selectOption('zero');
  await ablate.getByLabel('Examples').fill('8');
  await ablate.getByRole('button', { name: 'Run experiment' }).click();
  const change = ablate.getByTestId('metric-change');
  await expect(change).toContainText('→', { timeout: 60_000 });
  const [beforeText, afterText] = (await change.locator('.big').innerText()).split('→').map((x) => Number(x.trim().replace('−', '-')));
  expect(afterText).not.toBeCloseTo(beforeText, 3);
  await expect(ablate.locator('.per-example li')).not.toHaveCount(0);
  await expect(ablate.locator('.token-changes tbody tr')).not.toHaveCount(0);
  // Close up (search, Enter), the node carries the experiment's badge.
  await page.getByRole('tab', { name: 'Inspector' }).click();
  await goToNode(page, kept);
  await expect(page.locator(`.react-flow__node[data-id="${kept}"] .fnode-badge`)).toHaveText(/^E\d+$/);
  await page.getByRole('tab', { name: 'Ablate' }).click();
  // A clamp is an experiment too.
  await ablate.getByLabel('Intervention').selectOption('clamp');
  await ablate.getByLabel('Clamp value').fill('5');
  await ablate.getByRole('button', { name: 'Run experiment' }).click();
  await expect(ablate.getByTestId('experiment')).toContainText('clamp = 5', { timeout: 60_000 });
  await shot(page, '09-ablate');

  // 8. Evaluate. Cluster data has no pairs: the view says to evaluate on a paired dataset.
  await page.getByRole('tab', { name: 'Evaluate' }).click();
  await expect(page.getByTestId('evaluate-view')).toContainText('need paired data');
  // A circuit on paired data, summed over positions, is evaluated over the paper's sweep.
  const paired = await discover(page, /demo simple \(train\)/, 'sum', 20);
  expect(paired).not.toBe(v2);
  // The summed circuit looks like the paper's figure: the README's picture, with the feature
  // annotated above (annotations are per SAE feature, so every circuit on these SAEs shows it).
  const summedIds = await renderedNodeIds(page, 'resid_1/');
  const annotated = target.split('@')[0];
  const pick = summedIds.includes(annotated) ? annotated : summedIds[0];
  await page.getByRole('tab', { name: 'Inspector' }).click();
  await clickNode(page, pick);
  await expect(page.getByTestId('contexts')).toContainText('Active in', { timeout: 30_000 });
  await shot(page, 'tour');
  await page.getByRole('tab', { name: 'Evaluate' }).click();
  const evaluate = page.getByTestId('evaluate-view');
  await evaluate.getByLabel('Examples').fill('20');
  await evaluate.getByRole('button', { name: 'Run the sweep (15 thresholds)' }).click();
  await expect(evaluate.getByTestId('evaluation')).toBeVisible({ timeout: 90_000 });
  await expect(evaluate.locator('.sweep-table tbody tr')).toHaveCount(15);
  const chart = evaluate.getByTestId('chart-faithfulness');
  await expect(chart.locator('canvas')).toBeVisible();
  await shot(page, '10-evaluate');
  // Clicking a point sets the graph's node threshold to that point's threshold.
  const before = await page.getByTestId('node-threshold').innerText().catch(() => '');
  const over = chart.locator('.u-over');
  const box = (await over.boundingBox())!;
  await over.click({ position: { x: 4, y: box.height / 2 } });
  await page.getByRole('tab', { name: 'Graph' }).click();
  await expect(page.getByTestId('node-threshold')).not.toHaveText(before);

  // 9. Compare the two versions of the cluster circuit: one graph on A's layout, Jaccard, correlation.
  await page.getByRole('tab', { name: 'Compare' }).click();
  const cmp = page.getByTestId('compare-view');
  await cmp.getByLabel('Circuit A').selectOption(String(v1));
  await cmp.getByLabel('Circuit B').selectOption(String(v2));
  await cmp.getByRole('button', { name: 'Compare' }).click();
  await expect(cmp.getByTestId('jaccard')).toHaveText(/^\d+(\.\d)?%$/);
  await expect(cmp.getByTestId('compare-stats')).toContainText('Only in A (dashed)2');
  await expect(cmp.getByTestId('correlation')).toHaveText(/^-?\d\.\d{3}$/);
  // The two pruned nodes are the ones only A has.
  await expect(cmp.locator('.only-lists')).toContainText(target);
  await expect(cmp.locator('.only-lists')).toContainText(second);
  await shot(page, '11-compare');

  // 10. Export the open circuit as JSON, its annotations, and the graph as SVG and PNG.
  await page.getByRole('tab', { name: 'Graph' }).click();
  const exportMenu = async (item: string): Promise<void> => {
    await page.getByRole('button', { name: 'Export' }).click();
    await page.getByRole('menuitem', { name: item }).click();
  };
  const json = await download(page, () => exportMenu('Circuit JSON'));
  expect(json.name).toMatch(/\.json$/);
  const parsed = JSON.parse(json.bytes.toString('utf8')) as { format: string; nodes: unknown[] };
  expect(parsed.format).toBe('sfc-circuit');
  expect(parsed.nodes.length).toBeGreaterThan(0);
  const svg = await download(page, () => exportMenu('Graph as SVG'));
  expect(svg.name).toMatch(/\.svg$/);
  expect(svg.bytes.toString('utf8')).toMatch(/^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const png = await download(page, () => exportMenu('Graph as PNG'));
  expect(png.name).toMatch(/\.png$/);
  expect(png.bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(png.bytes.length).toBeGreaterThan(5_000);
  // The annotation made above lives on the demo SAE set, so its export carries it.
  const jsonl = await download(page, () => exportMenu('Annotations JSONL'));
  expect(jsonl.bytes.toString('utf8')).toContain('plural subject');

  expect(await controlsWithoutNames(page)).toEqual([]);
  expect(problems).toEqual([]);
});

test('a cancelled discovery says so and leaves the open circuit as it was', async ({ page }) => {
  test.setTimeout(120_000);
  const id = await ensureCircuit();
  // Open a circuit, then start a long discovery and cancel it.
  const problems = await open(page, `#circuit=${id}`);
  await expect(page.getByTestId('circuit-title')).toBeVisible();
  const v = await version(page);
  await page.getByRole('tab', { name: 'Discover' }).click();
  const form = page.getByTestId('discover-view');
  const option = form.getByLabel('Dataset').locator('option', { hasText: /demo nounpp \(train\)/ });
  await form.getByLabel('Dataset').selectOption((await option.getAttribute('value'))!);
  await form.getByLabel('Examples (N)').fill('2000');
  await expect(form.getByTestId('estimate')).toContainText('Peak memory');
  await form.getByRole('button', { name: 'Discover', exact: true }).click();
  await expect(page.getByTestId('job')).toBeVisible();
  await expect(page.getByTestId('job')).toContainText(/batch|loading|clean/i, { timeout: 30_000 });
  await page.getByTestId('job').getByRole('button', { name: 'Cancel' }).click();
  await expect(form.getByRole('alert')).toContainText('Cancelled. Nothing was saved');
  await shot(page, '12-discover-cancelled');
  await page.getByRole('tab', { name: 'Graph' }).click();
  await expectVersion(page, v);
  expect(problems).toEqual([]);
});

test('keyboard: focus is visible, nodes select with Enter, F fits, Escape clears', async ({ page }) => {
  const id = await ensureCircuit();
  const problems = await open(page, `#circuit=${id}`);
  await expect(page.getByTestId('circuit-title')).toBeVisible();
  // Close enough for React Flow's own node boxes (far out, the canvas draws them).
  const some = (await renderedNodeIds(page, 'resid_'))[0];
  await goToNode(page, some);
  await page.keyboard.press('Escape');
  const first = page.locator(`.react-flow__node[data-id="${some}"]`);
  await first.focus();
  const outline = await first.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('flow')).toHaveAttribute('data-selected', '1');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('flow')).toHaveAttribute('data-selected', '0');
  // Shift+drag on the empty pane selects a box of nodes.
  await page.keyboard.press('f');
  const pane = page.locator('.react-flow__pane');
  const b = (await pane.boundingBox())!;
  await page.keyboard.down('Shift');
  await page.mouse.move(b.x + 5, b.y + 5);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width - 5, b.y + b.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  await expect.poll(async () => Number(await page.getByTestId('flow').getAttribute('data-selected'))).toBeGreaterThan(1);
  await shot(page, '13-box-select');
  expect(await controlsWithoutNames(page)).toEqual([]);
  expect(problems).toEqual([]);
});
