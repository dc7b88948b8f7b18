import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../config/logger.js';
import { Agent } from '../../agent/runtime/agent.js';
import { WebService } from '../../agent/web/web-service.js';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { call } from '../support/http-call.js';
import { idleAgentConfig } from '../support/idle-agent.js';

const token = 'tok-logout-e2e-0123456789ab';

/**
 * Real Chromium running the page's own script against a real WebService (an idle agent: no camera needed).
 * The page's timers run on Playwright's clock, so "5 s without a status" is reached by advancing it, not
 * by waiting; the EventSource and every request are real.
 */
describe.skipIf(!hasChromium)('a page whose session ends elsewhere', () => {
  let browser: Browser;
  let agent: Agent;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-logout-e2e-'));
    const cfg = idleAgentConfig(dir, { http: { host: '127.0.0.1', port: 0, auth: { token } } });
    const log = createLogger({ level: 'error' });
    const web = new WebService(cfg.http, { log });
    agent = new Agent(cfg, { log, version: '0.0.0', services: [web] });
    [browser] = await Promise.all([launchChromium(), agent.start()]);
    base = `http://127.0.0.1:${web.address!.port}`;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses its stream, asks for a login once, and keeps the login banner', async () => {
    const page = await browser.newPage();
    await page.clock.install();
    const events: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/api/events') events.push(r.status());
    });
    await page.goto(base);
    await page.locator('dialog#login[open]').waitFor({ timeout: 15_000 });
    await page.locator('input[name="token"]').fill(token);
    await page.locator('#login-form button[type="submit"]').click();
    await page.locator('#conn[data-conn="live"]').waitFor({ timeout: 15_000 });
    expect(events).toEqual([200]);

    // Logged out from another tab (or expired): the page's stream ends with its session.
    const cookie = (await page.context().cookies()).find((c) => c.name === 'vigil_session')!;
    const out = await call(new URL(base), '/api/logout', {
      method: 'POST',
      headers: { Cookie: `vigil_session=${cookie.value}` },
    });
    expect(out.status).toBe(200);
    // The browser reconnects by itself (real time), is refused, and the page tries again on its clock.
    const dialog = page.locator('dialog#login[open]');
    for (let i = 0; i < 200 && !(await dialog.count()); i++) {
      await page.clock.runFor(500);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await dialog.count()).toBe(1);
    expect(events).toEqual([200, 401]);

    // Long after the last status, the banner still offers the login rather than "lost contact".
    await page.clock.runFor(30_000);
    expect(await page.locator('#conn').getAttribute('data-conn')).toBe('login');
    expect(await page.locator('#overall').innerText()).toMatch(/Log in to see this box’s status/);
    expect(await page.locator('#kpis').innerHTML()).toBe(''); // nothing of the box left behind the login
    expect(events).toEqual([200, 401]);
    await page.close();
  }, 60_000);

  it("offers 'Log out' once logged in; it ends the session and leaves nothing of the box on screen", async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await page.locator('dialog#login[open]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#logout').isHidden()).toBe(true);
    await page.locator('input[name="token"]').fill(token);
    await page.locator('#login-form button[type="submit"]').click();
    await page.locator('#conn[data-conn="live"]').waitFor({ timeout: 15_000 });
    const logout = page.locator('#logout');
    await logout.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.locator('#kpis .kpi').count()).toBeGreaterThan(3);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'vigil_session')!;

    await logout.click();
    await page.locator('dialog#login[open]').waitFor({ timeout: 15_000 });
    // The session is gone at the box, not only on the page.
    const after = await call(new URL(base), '/api/status', {
      headers: { Cookie: `vigil_session=${cookie.value}` },
    });
    expect(after.status).toBe(401);
    expect(await page.locator('#conn').getAttribute('data-conn')).toBe('login');
    expect(await page.locator('#kpis').innerHTML()).toBe('');
    expect(await page.locator('#link').innerHTML()).toBe('');
    expect(await page.locator('#where').innerText()).toBe('Logged out');
    expect(await logout.isHidden()).toBe(true);

    // Logging in again brings everything back, and the button with it.
    await page.locator('input[name="token"]').fill(token);
    await page.locator('#login-form button[type="submit"]').click();
    await page.locator('#kpis .kpi').first().waitFor({ timeout: 15_000 });
    await logout.waitFor({ state: 'visible', timeout: 15_000 });
    await page.close();
  }, 60_000);
});
