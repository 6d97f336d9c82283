// Headless Debian Chromium driven by playwright-core, offline and with a fresh profile per run.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { repoRoot } from '../../scripts/lib/repo-root';
import { tmpDir } from './test-env';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where screenshots go (gitignored, like everything under out/). */
export const ARTIFACTS_DIR = join(repoRoot(), 'out', 'test-artifacts');

export async function launchBrowser(): Promise<BrowserContext> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  // A persistent context is how playwright takes a --user-data-dir: a fresh one per run.
  return chromium.launchPersistentContext(tmpDir('tessera-chromium-'), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Signs in through the dashboard's own form (API key for a session cookie). */
export async function signIn(page: Page, baseUrl: string, apiKey: string): Promise<void> {
  await page.goto(`${baseUrl}/dashboard`);
  await page.fill('#sign-in input[name="apiKey"]', apiKey);
  await Promise.all([page.waitForEvent('load'), page.click('#sign-in button')]);
  await page.waitForSelector('#who button#sign-out');
}

/**
 * Signs out and waits for the page's own reload to the sign-in form: the button deletes the
 * session and then reloads, so a navigation started before that reload would be cut off by it.
 */
export async function signOut(page: Page): Promise<void> {
  await Promise.all([page.waitForEvent('load'), page.click('#sign-out')]);
  await page.waitForSelector('#sign-in input[name="apiKey"]');
}
