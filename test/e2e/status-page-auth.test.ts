import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { hasShared, sharedPath } from '../support/shared.js';
import { artefacts, patient, startWithPage } from './status-page-fixture.js';

// The status page in real Chromium against a real agent with auth on: the login dialog, then the cameras.

const token = 'e2e-token-0123456789abcdef';

describe.skipIf(!hasShared || !hasChromium)('status page with auth on', () => {
  let browser: Browser;
  let agent: AgentProcess;
  let base: string;

  beforeAll(async () => {
    mkdirSync(artefacts, { recursive: true });
    [browser, { agent, base }] = await Promise.all([
      launchChromium(),
      startWithPage(
        [
          { id: 'yard', source: sharedPath('media', 'vtest.avi'), model: 'det', fps: 2, loop: true },
          // Fails at once (before the page's service starts): its tile and the error list must say why.
          { id: 'dock', name: 'Dock', source: path.join(tmpdir(), 'vigil-no-such-clip.mp4'), model: 'det' },
        ],
        { token },
      ),
    ]);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop('SIGKILL');
  });

  it('unauthenticated requests get 401; the page asks for the token, then shows the cameras', async () => {
    for (const p of ['/api/status', '/metrics', '/api/cameras/yard/snapshot.jpg', '/api/events'])
      expect((await fetch(`${base}${p}`)).status, p).toBe(401);
    expect(
      (await fetch(`${base}/api/status`, { headers: { Authorization: `Bearer ${token}` } })).status,
    ).toBe(200);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(base);
    const dialog = page.locator('dialog#login[open]');
    await dialog.waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('#login-help').innerText(), patient).toMatch(/access token/);
    expect(await page.locator('.tile').count()).toBe(0);
    // Nothing filled yet: no empty panel frames behind the dialog.
    expect(await page.locator('.card:visible').count()).toBe(0);
    await page.screenshot({ path: path.join(artefacts, 'login.png') });

    await page.locator('input[name="token"]').fill('not-the-token-at-all');
    await page.locator('#login-form button[type="submit"]').click();
    await expect.poll(() => page.locator('#login-error').innerText(), patient).toMatch(/did not work/);

    await page.locator('input[name="token"]').fill(token);
    await page.locator('#login-form button[type="submit"]').click();
    await page.locator('.tile[data-camera="yard"] img:not([hidden])').waitFor({ timeout: 30_000 });
    expect(await page.locator('dialog#login').getAttribute('open')).toBeNull();
    await page.locator('#logout').waitFor({ state: 'visible', timeout: 15_000 });
    const dock = page.locator('.tile[data-camera="dock"][data-state="failed"]');
    expect(await dock.locator('.frame-empty').innerText()).toMatch(/camera failed/);
    expect(await dock.locator('.reason').innerText()).toMatch(/source file not found/);
    expect(await dock.locator('[data-stat="inference-ms"]').innerText()).toBe('—');
    expect(await page.locator('#errors').innerText()).toMatch(/dock[\s\S]*source file not found/);
    await page.screenshot({ path: path.join(artefacts, 'after-login.png'), fullPage: true });
    await page.close();
  }, 60_000);
});
