/**
 * Helpers for the circuit editor's end-to-end tests: watching for page errors, dropping files
 * with a synthetic drop event, screenshots under test-results/screenshots/, downloads.
 */
import { expect, type Download, type Locator, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHOTS = join(root, 'test-results', 'screenshots');

/** Page errors, console errors (CSP violations among them) and requests leaving 127.0.0.1. */
export async function watch(page: Page): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:') return route.continue();
    problems.push(`blocked request to ${url.href}`);
    return route.abort();
  });
  return problems;
}

/**
 * Opens the served UI at `url` + `hash` in a 1440 × 900 page and waits until it is connected and
 * the library is listed; returns the page's console and CSP problems as they come (`watch`).
 */
export async function openApp(page: Page, url: string, hash = ''): Promise<string[]> {
  const problems = await watch(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(url + hash);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');
  await expect(page.getByTestId('library')).toContainText('demo simple (train)');
  return problems;
}

export async function shot(page: Page, name: string, target?: Locator): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  // Let the canvas and React Flow settle (one frame after the last state change).
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await (target ?? page).screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Drops files on the window the way a user's drag and drop does (dragenter, then drop). */
export async function dropFiles(page: Page, files: { name: string; text: string; type?: string }[]): Promise<void> {
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([f.text], f.name, { type: f.type ?? 'application/json' }));
    document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
    document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
}

export async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer; d: Download }> {
  const [d] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await d.path();
  return { name: d.suggestedFilename(), bytes: readFileSync(path), d };
}

export async function visibleNodes(page: Page): Promise<number> {
  return Number(await page.getByTestId('flow').getAttribute('data-visible-nodes'));
}

/** The version shown in the graph (the circuit id in the store). */
export async function version(page: Page): Promise<number> {
  return Number(await page.getByTestId('flow').getAttribute('data-version'));
}

export async function expectVersion(page: Page, v: number): Promise<void> {
  await expect(page.getByTestId('flow')).toHaveAttribute('data-version', String(v));
}

/**
 * Clicks a node where it is on screen. Zoomed far out the canvas draws the nodes and React
 * Flow's (hidden) node boxes only mark where they are, so the click goes through the page at
 * that point, as a user's would.
 */
export async function clickNode(page: Page, id: string, shift = false): Promise<void> {
  const box = await page.locator(`.react-flow__node[data-id="${id}"]`).boundingBox();
  if (!box) throw new Error(`node ${id} is not on screen`);
  if (shift) await page.keyboard.down('Shift');
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  if (shift) await page.keyboard.up('Shift');
}

/** Types in the graph's search box and presses Enter: the strongest match is selected and centred. */
export async function goToNode(page: Page, id: string): Promise<void> {
  const search = page.getByRole('searchbox', { name: 'Search nodes' });
  await search.fill(id);
  await search.press('Enter');
  await expect(page.getByTestId('inspector')).toContainText(id);
  await search.fill('');
}

/** Node ids React Flow has rendered, strongest-looking first (DOM order = circuit order). */
export async function renderedNodeIds(page: Page, prefix = ''): Promise<string[]> {
  return page.locator(`.react-flow__node[data-id^="${prefix}"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!).filter((id) => id !== 'y'));
}

/**
 * Agreement-style contexts in the demo model's vocabulary, as the original's cluster JSON
 * ({id: {context, answer}}): the answer is the verb form agreeing with the subject.
 */
export const CLUSTERS_JSON = JSON.stringify(
  {
    c1: { context: 'The kings near the clerk', answer: ' are' },
    c2: { context: 'The nurse near the doctors', answer: ' is' },
    c3: { context: 'The women behind the king', answer: ' are' },
    c4: { context: 'The pilot near the bankers', answer: ' was' },
    c5: { context: 'The people near the clerk', answer: ' were' },
    c6: { context: 'The king behind the bankers', answer: ' is' },
    c7: { context: 'The doctors near the pilot', answer: ' are' },
    c8: { context: 'The farmers behind the nurse', answer: ' were' },
  },
  null,
  1,
);

/** Every control's accessible name, or the ones that have none (the a11y check). */
export async function controlsWithoutNames(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const nameOf = (el: Element): string => {
      const aria = el.getAttribute('aria-label');
      if (aria?.trim()) return aria.trim();
      const by = el.getAttribute('aria-labelledby');
      if (by) return by.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
      if (el.id) {
        const l = document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
        if (l?.textContent?.trim()) return l.textContent.trim();
      }
      const wrap = el.closest('label');
      if (wrap?.textContent?.trim()) return wrap.textContent.trim();
      if (el.tagName === 'BUTTON' || el.getAttribute('role') === 'tab' || el.getAttribute('role') === 'menuitem') return (el.textContent ?? '').trim() || (el.getAttribute('title') ?? '');
      return '';
    };
    const missing: string[] = [];
    for (const el of document.querySelectorAll('button, input, select, textarea, [role="tab"], [role="menuitem"]')) {
      const r = (el as HTMLElement).getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (!nameOf(el)) missing.push(el.outerHTML.slice(0, 160));
    }
    return missing;
  });
}
