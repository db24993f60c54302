/**
 * Benchmark of the circuit editor at the issue's scale: a synthetic circuit of 2 000 nodes and
 * 10 000 edges over the demo model's submodules, 8 token positions. Measures, in Chromium
 * against `sfc serve`:
 *   - open: click in the Library → graph drawn (fetch, graph model, React Flow, edge canvas);
 *   - threshold change: slider input → new node count painted, at fit and at zoom 1;
 *   - pan: frame intervals while dragging the graph, and the edge canvas' draw time.
 * Not part of `npm test` (numbers, not pass/fail): `npm run bench:editor` after `npm run build`.
 *   BENCH_NODES, BENCH_EDGES: the circuit's size (default 2000, 10000).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { randomCircuit } from '../helpers/view-circuits';
import { startServe } from '../e2e/serve';
import { ApiSocket } from '../e2e/ws-client';

const root = resolve(import.meta.dirname, '..', '..');
const NODES = Number(process.env.BENCH_NODES ?? 2000);
const EDGES = Number(process.env.BENCH_EDGES ?? 10_000);
const TOKENS = ['The', ' kings', ' near', ' the', ' clerk', ' that', ' the', ' farmers'];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];
const ms = (x: number): string => `${x.toFixed(1)} ms`;

function syntheticCircuit(model: { path: string; sha256: string }, saes: { path: string; sha256: string }): object {
  // Enough edges per node to reach EDGES, then cut to exactly EDGES (the metric edges kept).
  const c = randomCircuit({ seed: 7, layers: 3, nodes: NODES, tokens: TOKENS, features: 512, edgesPerNode: Math.ceil((EDGES / NODES) * 1.3) });
  const edges = c.edges!.filter((e) => e.target === 'y').concat(c.edges!.filter((e) => e.target !== 'y')).slice(0, EDGES);
  return {
    format: 'sfc-circuit',
    version: 1,
    createdAt: new Date().toISOString(),
    app: { name: 'sfc-workbench', version: 'bench' },
    parameters: { method: 'ig', steps: 10, aggregation: 'none', nodeThreshold: 0, edgeThreshold: 0, keepAll: true, nodesOnly: false, examples: 1, batchSize: 1, seed: 7, nopair: true, neurons: false },
    provenance: { model, saes, data: { path: '/synthetic/bench.json', sha256: '0'.repeat(64) } },
    submodules: c.submodules.map((s) => ({ ...s, features: 512, kind: 'relu' })),
    positions: TOKENS,
    examples: [],
    totalEffect: 1,
    nodes: c.nodes,
    edges,
  };
}

async function nextPaint(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
}

/** Moves the node threshold slider to `pos` in the page and times it until the next frame is painted. */
async function timeThreshold(page: Page, pos: number): Promise<{ ms: number; sync: number; visible: number }> {
  return page.evaluate(async (pos) => {
    const slider = document.querySelector<HTMLInputElement>('.graph-toolbar input[type="range"]')!;
    const flow = document.querySelector('[data-testid="flow"]')!;
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    const t0 = performance.now();
    setValue.call(slider, String(pos));
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    // React commits a discrete input synchronously (filter, node flags, canvas); then the
    // browser lays out and paints: wait for the frame that shows it.
    const sync = performance.now() - t0;
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return { ms: performance.now() - t0, sync, visible: Number(flow.getAttribute('data-visible-nodes')) };
  }, pos);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sfc-bench-editor-'));
  const db = join(dir, 'sfc.db');
  const served = await startServe(['--db', db]);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const api = await ApiSocket.open(served);
    const lib = (await api.call('library.list', {})) as unknown as { result: { models: { path: string; sha256: string }[]; saeSets: { path: string | null; sha256: string; layout: string }[] } };
    api.close();
    const model = lib.result.models[0];
    const set = lib.result.saeSets.find((s) => s.layout !== 'identity')!;
    const file = join(dir, 'bench-2000.json');
    const circuit = syntheticCircuit({ path: model.path, sha256: model.sha256 }, { path: set.path!, sha256: set.sha256 });
    writeFileSync(file, JSON.stringify(circuit));
    // Imported with the CLI into the server's store: the served UI carries at most 1 MiB a request.
    const imp = spawnSync(process.execPath, ['bin/sfc.js', 'import', file, '--db', db, '--json', '--name', `bench ${NODES} nodes`], { cwd: root, encoding: 'utf8' });
    if (imp.status !== 0) throw new Error(`sfc import failed: ${imp.stderr}`);
    const { id, nodes, edges } = JSON.parse(imp.stdout.trim().split('\n').pop()!) as { id: number; nodes: number; edges: number };
    console.log(`circuit ${id}: ${nodes} nodes, ${edges} edges (${((JSON.stringify(circuit).length) / 2 ** 20).toFixed(2)} MiB of JSON)`);

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // tsx keeps function names with a __name() helper, which page.evaluate callbacks would lack.
    await page.addInitScript('window.__name = (f) => f');
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(served.url);
    await page.getByTestId('library').getByText(`bench ${NODES} nodes`).waitFor();

    // ---- open ----
    const opens: number[] = [];
    for (let run = 0; run < 3; run++) {
      if (run > 0) {
        // Without the #circuit=… the app wrote, so the page opens with nothing shown.
        await page.goto(served.url);
        await page.getByTestId('library').getByText(`bench ${NODES} nodes`).waitFor();
      }
      const t = await page.evaluate(async (name) => {
        const button = [...document.querySelectorAll<HTMLButtonElement>('.lib-item button.lib-name')].find((b) => b.textContent === name)!;
        const t0 = performance.now();
        button.click();
        // Done when the graph shows this circuit and the edge canvas has drawn its edges.
        await new Promise<void>((ok) => {
          const check = (): void => {
            const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="edge-canvas"]');
            const flow = document.querySelector('[data-testid="flow"]');
            if (flow?.getAttribute('data-visible-nodes') !== '0' && canvas && Number(canvas.dataset.drawn) > 0 && document.querySelectorAll('.react-flow__node').length > 100) ok();
            else requestAnimationFrame(check);
          };
          check();
        });
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        const total = performance.now() - t0;
        const m = (n: string): number => performance.getEntriesByName(n).at(-1)?.startTime ?? NaN;
        const id = [...performance.getEntriesByType('mark')].map((e) => e.name).find((n) => n.endsWith(':start'))!.split(':')[2];
        return { total, fetch: m(`sfc:open:${id}:fetched`) - m(`sfc:open:${id}:start`), model: m(`sfc:open:${id}:model`) - m(`sfc:open:${id}:fetched`), rendered: document.querySelectorAll('.react-flow__node').length };
      }, `bench ${NODES} nodes`);
      opens.push(t.total);
      console.log(`open #${run + 1}: ${ms(t.total)} (circuit.get ${ms(t.fetch)}, layout + graph model ${ms(t.model)}, ${t.rendered} nodes in the DOM)`);
    }
    await nextPaint(page);
    await page.screenshot({ path: join(root, 'test-results', 'bench-open.png') });

    // ---- threshold changes, at fit (every node on screen) and at zoom 1 ----
    const positions = [700, 800, 600, 900, 500, 750, 650, 850, 550, 720, 0, 680];
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = async (): Promise<Record<string, number>> => Object.fromEntries(((await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics.map((m) => [m.name, m.value]));
    const measure = async (label: string): Promise<void> => {
      const m0 = await metrics();
      const times: number[] = [];
      const syncs: number[] = [];
      const counts: number[] = [];
      for (const p of positions) {
        const r = await timeThreshold(page, p);
        times.push(r.ms);
        syncs.push(r.sync);
        counts.push(r.visible);
      }
      const m1 = await metrics();
      const per = (k: string): string => ms(((m1[k] - m0[k]) * 1000) / positions.length);
      console.log(`  per change, main thread: script ${per('ScriptDuration')}, style ${per('RecalcStyleDuration')}, layout ${per('LayoutDuration')}, tasks ${per('TaskDuration')}`);
      console.log(
        `threshold change (${label}): median ${ms(median(times))}, p95 ${ms(p95(times))}, max ${ms(Math.max(...times))} to the painted frame (JS part: median ${ms(median(syncs))}); visible nodes ${Math.min(...counts)}–${Math.max(...counts)}`,
      );
    };
    await measure('fit view');
    const canvasMs = async (): Promise<string> => (await page.getByTestId('edge-canvas').getAttribute('data-ms')) ?? '?';
    await timeThreshold(page, 0);
    console.log(`canvas draw at fit view, everything shown: ${await canvasMs()} ms for ${await page.getByTestId('edge-canvas').getAttribute('data-drawn')} edges and 2 000 nodes`);
    await page.evaluate(() => new Promise((r) => setTimeout(r, 100)));
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    await page.mouse.move(pane.x + pane.width / 2, pane.y + pane.height / 2);
    for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -120);
    await nextPaint(page);
    console.log(`zoom now ${(await page.evaluate(() => (document.querySelector('.react-flow__viewport') as HTMLElement).style.transform)).replace(/.*scale\(([^)]+)\).*/, '$1')}`);
    await measure('zoomed in');
    await page.screenshot({ path: join(root, 'test-results', 'bench-zoomed.png') });

    // ---- pan: frame intervals during a drag ----
    for (const zoomOut of [false, true]) {
      if (zoomOut) {
        await page.keyboard.press('f');
        await nextPaint(page);
      }
      await page.evaluate(() => {
        const w = window as unknown as { __frames: number[]; __stop: boolean };
        w.__frames = [];
        w.__stop = false;
        let last = performance.now();
        const tick = (t: number): void => {
          w.__frames.push(t - last);
          last = t;
          if (!w.__stop) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      await page.mouse.move(pane.x + 200, pane.y + 300);
      await page.mouse.down();
      for (let i = 0; i < 40; i++) await page.mouse.move(pane.x + 200 + i * 8, pane.y + 300 + (i % 2) * 4);
      await page.mouse.up();
      const frames = await page.evaluate(() => {
        const w = window as unknown as { __frames: number[]; __stop: boolean };
        w.__stop = true;
        return w.__frames.slice(1);
      });
      console.log(`pan (${zoomOut ? 'fit view' : 'zoomed in'}): ${frames.length} frames, median interval ${ms(median(frames))}, p95 ${ms(p95(frames))}; edge canvas ${await canvasMs()} ms per draw`);
    }
    if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
    await served.stop();
  }
}

await main();
