import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { startPageAgent } from '../support/page-agent.js';
import { accessibleNames, contrastFailures, overflowing, structure } from '../support/page-audit.js';
import { hasShared, repoRoot, sharedPath } from '../support/shared.js';
import { milanAirCamera } from '../support/milan-camera.js';

declare const document: {
  activeElement: { tagName: string; textContent: string } | null;
  querySelector(selector: string): { textContent: string; scrollTop: number } | null;
  getElementById(id: string): object;
};
declare const MutationObserver: new (cb: (records: unknown[]) => void) => {
  observe(target: object, options: object): void;
  disconnect(): void;
};
declare const window: { updates?: number };
declare function getComputedStyle(e: unknown): {
  lineHeight: string;
  outlineStyle: string;
  outlineWidth: string;
  transitionDuration: string;
};

/** Screenshots land here (git-ignored). */
const artefacts = path.join(repoRoot, 'test-artifacts', 'status-page-a11y');
const token = 'a11y-token-0123456789abcdef';
const phone = { width: 360, height: 740 };
const longName = 'North-east corner scaffolding, level 3, looking at tower crane B from the hoist platform';

/** Resolves after the page applied `n` more status updates (the footer's "up … s" is rebuilt by each). */
async function updates(page: Page, n: number): Promise<void> {
  const start = await page.evaluate(() => window.updates ?? 0);
  await page.waitForFunction((target) => (window.updates ?? 0) >= target, start + n, { timeout: 20_000 });
}

/** Counts status updates in the page: each rebuilds the footer (a childList change on #footer). */
async function countUpdates(page: Page): Promise<void> {
  await page.evaluate(() => {
    window.updates = 0;
    new MutationObserver(() => (window.updates = (window.updates ?? 0) + 1)).observe(
      document.getElementById('footer'),
      { childList: true },
    );
  });
}

async function expectReadable(page: Page, what: string): Promise<void> {
  const contrast = (await page.evaluate(contrastFailures)) as { checked: number; failures: string[] };
  expect(contrast.checked, what).toBeGreaterThan(5);
  expect(contrast.failures, what).toEqual([]);
}

describe.skipIf(!hasShared || !hasChromium)('status page for people on site: readable and operable', () => {
  let browser: Browser;
  let agent: AgentProcess;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    mkdirSync(artefacts, { recursive: true });
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-a11y-'));
    const vtest = sharedPath('media', 'vtest.avi');
    [browser, { agent, base }] = await Promise.all([
      launchChromium(),
      startPageAgent({
        dir,
        site: 'north-yard-construction-site-phase-2',
        device: 'a11y-e2e',
        auth: { token },
        cameras: [
          // People walk into the right half at once: safety events with snapshot links fill a list.
          {
            id: 'yard',
            name: 'Yard',
            source: vtest,
            model: 'det',
            fps: 2,
            loop: true,
            zones: [
              {
                id: 'right',
                polygon: [
                  [384, 0],
                  [768, 0],
                  [768, 576],
                  [384, 576],
                ],
              },
            ],
            rules: [{ type: 'enter', zone: 'right' }],
          },
          { id: 'dock', name: 'Dock', source: path.join(dir, 'no-such-clip.mp4'), model: 'det' },
          {
            id: 'north-east-corner-scaffolding-level-3-crane-b',
            name: longName,
            source: vtest,
            model: 'det',
            fps: 1,
            loop: true,
          },
          { id: 'roof', name: 'Roof', source: vtest, model: 'det', enabled: false },
          milanAirCamera(dir),
        ],
      }),
    ]);
    // The page the checks below look at is logged in already (the login has a test of its own).
    const login = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const [name, value] = login.headers.get('set-cookie')!.split(';')[0]!.split('=') as [string, string];
    const context = await browser.newContext({ viewport: phone, colorScheme: 'dark' });
    await context.addCookies([{ name, value, url: base }]);
    page = await context.newPage();
    await page.goto(base);
    await page.locator('.tile[data-camera="yard"] img:not([hidden])').waitFor({ timeout: 30_000 });
    await page.locator('.tile[data-camera="dock"][data-state="failed"]').waitFor();
    await page
      .locator('.tile[data-camera^="north-east"][data-state="streaming"]')
      .waitFor({ timeout: 30_000 });
    await page.locator('.tile[data-camera="air"][data-state="streaming"]').waitFor({ timeout: 30_000 });
    await countUpdates(page);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop('SIGKILL');
  });

  it('the login on a phone reads in dark, and Escape leaves a way back to it', async () => {
    const page = await browser.newPage({ viewport: phone, colorScheme: 'dark' });
    await page.goto(base);
    await page.locator('dialog#login[open]').waitFor({ timeout: 15_000 });
    await page.locator('#login-help').filter({ hasText: 'access token' }).waitFor();
    await expectReadable(page, 'login, dark');
    expect(await page.evaluate(overflowing)).toEqual([]);
    await page.screenshot({ path: path.join(artefacts, 'login-phone-dark.png') });
    // Escape closes a modal dialog: the page must not sit on "Waiting for the agent…" for good.
    await page.keyboard.press('Escape');
    await page.locator('dialog#login:not([open])').waitFor({ state: 'attached' });
    const again = page.locator('#overall button', { hasText: 'Log in' });
    await again.click();
    await page.locator('input[name="token"]').fill(token);
    await page.keyboard.press('Enter');
    await page.locator('.tile[data-camera="yard"]').waitFor({ timeout: 30_000 });
    await page.close();
  });

  it('at 360 px nothing sticks out, numbers keep to one line and labels stay with their values', async () => {
    expect(await page.evaluate(overflowing)).toEqual([]);
    const long = page.locator('.tile[data-camera^="north-east"] h3');
    expect(await long.innerText()).toBe(longName); // wrapped, not cut
    const stats = (await page.evaluate(`[...document.querySelectorAll('.tile [data-stat]')].map((e) =>
      [e.textContent, e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).fontSize)])`)) as [
      string,
      number,
    ][];
    expect(stats.length).toBeGreaterThan(6);
    // One line is about 1.45 em high; two would be about 2.9.
    expect(stats.filter(([, em]) => em > 2)).toEqual([]);
    // "PM2.5" and its pill on one line, not the label at the end of one and its value on the next.
    for (const pair of await page.locator('.tile .chips .muted', { hasText: /^PM2\.5$/ }).all()) {
      const [label, value] = await pair.evaluate((e) =>
        [e, e.nextElementSibling!].map((x) =>
          Math.round(x.getBoundingClientRect().top + x.getBoundingClientRect().height / 2),
        ),
      );
      expect(Math.abs(label! - value!)).toBeLessThan(4);
    }
    // The five-second test: which camera is down is in the banner, above the fold, in words.
    const banner = await page.locator('#overall').boundingBox();
    expect(banner!.y + banner!.height).toBeLessThan(phone.height);
    expect(await page.locator('#overall').innerText()).toMatch(/^3 of 4 cameras streaming — Dock failed$/);
    // The Cameras KPI counts the cameras the banner counts (the disabled one in its own words).
    expect(await page.locator('.kpi').first().innerText()).toMatch(
      /^CAMERAS\n[0-3]\/4\nstreaming · 1 disabled$/i,
    );
    await page.screenshot({ path: path.join(artefacts, 'phone-dark-top.png') });
  });

  it('the air at a glance: the PM2.5 figure names its level, and how far its 80 % interval reaches', async () => {
    const panel = page.locator('.air-camera[data-camera="air"]');
    await panel.locator('.pill').waitFor({ timeout: 45_000 });
    const res = await fetch(`${base}/api/status`, { headers: { Authorization: `Bearer ${token}` } });
    const status = (await res.json()) as {
      cameras: {
        id: string;
        pm25?: { latest: { pm25: number; interval80: [number, number]; level: Level } };
      }[];
    };
    type Level = { name: string; tone: string; band80: { low: string; high: string } };
    const { pm25, interval80, level } = status.cameras.find((c) => c.id === 'air')!.pm25!.latest;
    // The US EPA categories (2024), written out here rather than read from the code under test.
    const epa = (v: number) =>
      v <= 9 ? 'good' : v <= 35.4 ? 'moderate' : v <= 55.4 ? 'unhealthy for sensitive groups' : 'unhealthy';
    expect(level.name).toBe(epa(pm25));
    expect(level.band80).toEqual({ low: epa(interval80[0]), high: epa(interval80[1]) });
    expect(level.tone).toBe(level.name === 'good' ? 'ok' : level.name === 'unhealthy' ? 'bad' : 'warn');
    // Uncalibrated (no sensor here): the page says so, and how far the 80 % interval reaches.
    const { low, high } = level.band80;
    const reach =
      low === level.name && high === level.name ? '' : ` (80 %: ${low === high ? low : `${low} to ${high}`})`;
    const words = `${level.name}${reach}, uncalibrated`;
    expect(await panel.locator('.pill').innerText()).toBe(level.name);
    expect(await panel.locator('.pill').getAttribute('data-level')).toBe(level.tone);
    expect(await panel.innerText()).toContain(`Level\n${words} · the categories are for 24-hour means`);
    const kpi = page.locator('.kpi', { hasText: 'PM2.5' });
    expect((await kpi.innerText()).endsWith(`µg/m³ · ${words}`)).toBe(true);
    expect(await kpi.getAttribute('data-level')).toBe(level.tone);
    expect(await page.locator('.tile[data-camera="air"] .chips', { hasText: 'PM2.5' }).innerText()).toContain(
      `µg/m³ · ${level.name}`,
    );
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(artefacts, 'phone-dark-air.png') });
  });

  it('all visible text meets WCAG AA in dark, light and the toggled theme', async () => {
    await expectReadable(page, 'dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await expectReadable(page, 'light');
    await page.screenshot({ path: path.join(artefacts, 'phone-light-full.png'), fullPage: true });
    await page.locator('#theme').click();
    expect(await page.locator('#theme').getAttribute('aria-pressed')).toBe('true');
    await expectReadable(page, 'light system, dark by the toggle');
    await page.locator('#theme').click();
    expect(await page.locator('#theme').getAttribute('aria-pressed')).toBe('false');
  });

  it('names, headings and landmarks: every control and picture says what it is', async () => {
    const named = (await page.evaluate(accessibleNames)) as { tag: string; id: string; name: string }[];
    // A name in words: "◐" is read out as a shape.
    for (const c of named.filter((n) => n.tag !== 'img'))
      expect(c.name, `${c.tag}#${c.id}`).toMatch(/\p{L}{2}/u);
    const alts = named.filter((n) => n.tag === 'img').map((n) => n.name);
    expect(alts).toEqual(
      expect.arrayContaining(['Latest annotated frame from Yard', `Latest annotated frame from ${longName}`]),
    );
    // Every snapshot link says which event, not five times "snapshot".
    const links = named.filter((n) => n.tag === 'a' && /^snapshot/.test(n.name)).map((n) => n.name);
    expect(new Set(links).size).toBe(links.length);
    const { headings, outside } = (await page.evaluate(structure)) as {
      headings: number[];
      outside: string[];
    };
    expect(headings[0]).toBe(1);
    expect(headings.filter((h) => h === 1)).toHaveLength(1);
    headings.forEach((h, i) => i && expect(h - headings[i - 1]!, `heading ${i}`).toBeLessThanOrEqual(1));
    expect(outside).toEqual([]);
    expect(await page.title()).toMatch(/status/i);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
  });

  it('keyboard: the theme toggle is the first stop, with a visible ring, and works with Enter and Space', async () => {
    // Tab from the top of the page (a click on the bar's corner sets where sequential focus starts).
    await page.mouse.click(3, 3);
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const e = document.activeElement as unknown as { id: string };
      const cs = getComputedStyle(e as never);
      return { id: e.id, style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
    });
    expect(ring).toEqual({ id: 'theme', style: 'solid', width: 2 });
    await page.keyboard.press('Enter');
    expect(await page.locator('#theme').getAttribute('aria-pressed')).toBe('true');
    await page.keyboard.press('Space');
    expect(await page.locator('#theme').getAttribute('aria-pressed')).toBe('false');
  });

  it('focus and scroll survive the once-a-second rebuild of the panels', async () => {
    // Panels are rebuilt every second: a focused link keeps its focus through two rebuilds…
    await page.locator('#footer a', { hasText: 'metrics' }).focus();
    await updates(page, 2);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('metrics');
    // …and a scrolled list its scroll (enough events to scroll: each is three lines at 360 px).
    await page.locator('#safety li:nth-child(4)').waitFor({ state: 'attached', timeout: 30_000 });
    await page.evaluate(() => (document.querySelector('#safety .errors-list')!.scrollTop = 40));
    await updates(page, 2);
    expect(await page.evaluate(() => document.querySelector('#safety .errors-list')!.scrollTop)).toBe(40);
  });

  it('the live region speaks on a change only, and reduced motion turns transitions off', async () => {
    // #overall is aria-live: re-setting the same words every second has a screen reader repeat them.
    const changes = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          let n = 0;
          const seen = new MutationObserver((records) => (n += records.length));
          seen.observe(document.getElementById('overall'), {
            childList: true,
            characterData: true,
            subtree: true,
          });
          const start = window.updates ?? 0;
          const wait = () =>
            (window.updates ?? 0) >= start + 3 ? (seen.disconnect(), resolve(n)) : setTimeout(wait, 50);
          wait();
        }),
    );
    expect(changes).toBe(0);
    await page.emulateMedia({ reducedMotion: 'reduce' });
    const transition = await page
      .locator('.tile[data-camera="yard"] img')
      .evaluate((e) => getComputedStyle(e).transitionDuration);
    expect(transition).toBe('0s');
  });
});
