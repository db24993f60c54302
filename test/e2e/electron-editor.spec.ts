/**
 * The circuit editor in the desktop app, through Playwright's Electron driver: the same path as
 * the served UI's smoke of the editor (library → discover with progress → graph → threshold →
 * inspector → prune → undo). Runs only where the Electron binary is installed and skips with
 * the reason elsewhere (it cannot be downloaded on the build machines). Needs `npm run build`.
 */
import { test, expect } from '@playwright/test';
import { launchDesktopApp } from './electron-app';
import { clickNode, renderedNodeIds, shot } from './editor-helpers';

test('the desktop app discovers a circuit, filters, inspects, prunes and undoes', async () => {
  test.setTimeout(180_000);
  const app = await launchDesktopApp('electron-editor.spec');
  try {
    const page = await app.firstWindow();
    await page.setViewportSize({ width: 1440, height: 900 }).catch(() => {});
    await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');
    await expect(page.getByTestId('library')).toContainText('demo simple (train)');

    await page.getByRole('tab', { name: 'Discover' }).click();
    const form = page.getByTestId('discover-view');
    const option = form.getByLabel('Dataset').locator('option', { hasText: /demo simple \(train\)/ });
    await form.getByLabel('Dataset').selectOption((await option.getAttribute('value'))!);
    await form.getByLabel('Examples (N)').fill('20');
    await expect(form.getByTestId('estimate')).toContainText('Peak memory');
    await form.getByRole('button', { name: 'Discover', exact: true }).click();
    await expect(page.getByTestId('job')).toBeVisible();
    await expect(page.getByTestId('notice')).toContainText('Discovered', { timeout: 120_000 });

    const flow = page.getByTestId('flow');
    const total = Number(await flow.getAttribute('data-visible-nodes'));
    expect(total).toBeGreaterThan(10);
    const slider = page.getByRole('slider', { name: 'Node threshold' });
    await slider.focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('PageUp');
    await expect.poll(async () => Number(await flow.getAttribute('data-visible-nodes'))).toBeLessThan(total);
    await page.getByRole('button', { name: /nodes under the threshold/ }).click();

    const [a, b] = (await renderedNodeIds(page, 'resid_')).filter((id) => !id.includes('error'));
    await clickNode(page, a);
    await expect(page.getByTestId('inspector')).toContainText(a);
    await clickNode(page, b, true);
    const v1 = await flow.getAttribute('data-version');
    await page.keyboard.press('Delete');
    await expect(flow).not.toHaveAttribute('data-version', v1!);
    await page.keyboard.press('Control+z');
    await expect(flow).toHaveAttribute('data-version', v1!);
    await shot(page, 'electron-graph');
  } finally {
    await app.close();
  }
});
