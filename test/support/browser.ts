/**
 * A real browser for the console's tests: Debian's Chromium, driven by playwright-core (which
 * downloads no browser of its own). Headless, with a fresh profile, and with Chromium's own
 * background traffic (updates, sync, safe browsing) off: it may reach only the pages the test opens.
 * Under CI=true a missing Chromium is a failure, never a skip (scripts/test.sh installs it).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SM_LOCAL_CHROMIUM ?? '/usr/bin/chromium';

/** Why browser tests cannot run here ('' when they can). */
export function browserUnavailable(): string {
  if (existsSync(CHROMIUM)) return '';
  const why = `No Chromium at ${CHROMIUM} (apt-get install chromium, or set SM_LOCAL_CHROMIUM).`;
  if (process.env.CI === 'true') throw new Error(`${why} CI=true: the browser tests must run.`);
  return why;
}

export async function launchBrowser(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'sm-local-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Takes a screenshot of `element` (kept in `file`) and counts its pixels near `rgb`, decoded by the
 * browser itself: what a user sees, not what the markup says.
 */
export async function screenshotPixels(page: Page, element: Locator, file: string, rgb: [number, number, number], tolerance = 40): Promise<{ matching: number; total: number }> {
  const png = await element.screenshot({ path: file });
  // In the page (DOM code, given as text: this file is compiled without the DOM's types).
  const count = `(async () => {
    const img = new Image();
    img.src = 'data:image/png;base64,${png.toString('base64')}';
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, img.width, img.height).data;
    let matching = 0;
    for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - ${rgb[0]}) + Math.abs(px[i + 1] - ${rgb[1]}) + Math.abs(px[i + 2] - ${rgb[2]}) <= ${tolerance}) matching++;
    return { matching, total: px.length / 4 };
  })()`;
  return page.evaluate(count) as Promise<{ matching: number; total: number }>;
}
