import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { labelColour } from '../../agent/web/annotation-svg.js';
import type { AgentProcess } from '../support/agent-process.js';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { startRtspServer, type RtspServer } from '../support/rtsp.js';
import { hasShared, sharedPath } from '../support/shared.js';
import {
  artefacts,
  nearShare,
  patient,
  shown,
  startWithPage,
  type PageImage,
} from './status-page-fixture.js';

// The page with auth on is in status-page-auth.test.ts.

/** The browser globals the in-page functions below touch (this project's TypeScript has no DOM lib). */
declare const document: { querySelector(selector: string): PageImage | null };
declare const window: { marker?: number };

const stallTimeoutS = 3;

const stat = async (page: Page, camera: string, key: string) =>
  Number(await page.locator(`.tile[data-camera="${camera}"] [data-stat="${key}"]`).innerText());

describe.skipIf(!hasShared || !hasChromium)('status page in real Chromium against a real agent', () => {
  let browser: Browser;
  let rtsp: RtspServer;
  let agent: AgentProcess;
  let base: string;

  beforeAll(async () => {
    mkdirSync(artefacts, { recursive: true });
    rtsp = await startRtspServer(sharedPath('media', 'vtest.avi'));
    [browser, { agent, base }] = await Promise.all([
      launchChromium(),
      startWithPage([
        {
          id: 'yard',
          name: 'Yard',
          source: sharedPath('media', 'vtest.avi'),
          model: 'det',
          fps: 4,
          loop: true,
          // The right half of vtest.avi (768×576), where people walk: drawn over the tile, events listed.
          zones: [
            {
              id: 'right',
              name: 'Right half',
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
        { id: 'gate', name: 'Gate', source: rtsp.url, model: 'det', fps: 2, stallTimeoutS },
      ]),
    ]);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop('SIGKILL');
    await rtsp?.stop();
  });

  it('a tile shows a live annotated picture that changes, fps above zero and the state streaming', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(base);
    const tile = page.locator('.tile[data-camera="yard"][data-state="streaming"]');
    await tile.waitFor({ timeout: 30_000 });
    await expect.poll(() => tile.locator('.badge').innerText(), patient).toMatch(/streaming/i);
    await page.waitForFunction(
      () => Number(document.querySelector('.tile[data-camera="yard"] img')?.getAttribute('data-frame')) > 0,
      null,
      { timeout: 30_000 },
    );
    const person = labelColour('person');
    const first = await shown(page, 'yard', person);
    await page.waitForFunction(
      (f) => Number(document.querySelector('.tile[data-camera="yard"] img')?.getAttribute('data-frame')) > f,
      first.frame,
      { timeout: 15_000 },
    );
    const second = await shown(page, 'yard', person);
    expect(second.frame).toBeGreaterThan(first.frame);
    // People walk: some part of the picture is visibly different.
    expect(Math.max(...second.grid.map((v, i) => Math.abs(v - first.grid[i]!)))).toBeGreaterThan(2);
    // Open to the LAN (no http.auth): nothing to log out of.
    expect(await page.locator('#logout').isHidden()).toBe(true);

    // Boxes: vtest.avi is people on a grey yard, so the person box colour is almost absent from the raw
    // frame and plentiful once boxes and labels are drawn.
    const raw = execFileSync(
      'ffmpeg',
      [
        '-v',
        'error',
        '-i',
        sharedPath('media', 'vtest.avi'),
        '-frames:v',
        '1',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-',
      ],
      { maxBuffer: 16 << 20 },
    );
    const rawShare = nearShare(raw, 3, person);
    const shownShare = second.boxShare;
    expect(shownShare).toBeGreaterThan(0.002);
    expect(shownShare).toBeGreaterThan(rawShare * 10);
    // Each read waits for the page's next status update (once a second) if it has not come yet.
    await expect.poll(() => stat(page, 'yard', 'processed-fps'), patient).toBeGreaterThan(0);
    await expect.poll(() => stat(page, 'yard', 'input-fps'), patient).toBeGreaterThan(0);
    const personChips = page.locator('.tile[data-camera="yard"] [data-label="person"]');
    await expect.poll(() => personChips.count(), patient).toBe(1);
    await page.screenshot({ path: path.join(artefacts, 'streaming.png'), fullPage: true });

    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    await phone.goto(base);
    await phone.locator('.tile[data-camera="yard"] img:not([hidden])').waitFor({ timeout: 20_000 });
    await phone.screenshot({ path: path.join(artefacts, 'phone-dark.png'), fullPage: true });
    await phone.close();
    await page.close();
  }, 90_000);

  it('draws the zone over the picture, mapped through the letterbox, and lists safety events', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(base);
    const tile = page.locator('.tile[data-camera="yard"]');
    const polygon = tile.locator('svg.zones:not([hidden]) g[data-zone="right"] polygon');
    await polygon.waitFor({ timeout: 30_000 });
    // 768×576 into 320×320: the picture is 320×240 and x = 384 lands half way across.
    expect(await tile.locator('svg.zones').getAttribute('viewBox')).toBe('0 0 320 240');
    expect(await polygon.getAttribute('points')).toBe('160,0 320,0 320,240 160,240');
    // As laid out on screen: the right half of the picture the browser shows (stroke within 4 px).
    // Both measured in one synchronous step in the page: every status update redraws the overlay, so two
    // separate boundingBox() calls could land on either side of a redraw (a detached polygon measures null).
    const boxes = async () =>
      tile.evaluate((t) => {
        const img = t.querySelector('img:not([hidden])');
        const poly = t.querySelector('svg.zones:not([hidden]) g[data-zone="right"] polygon');
        if (!img || !poly) return null;
        const [a, b] = [img.getBoundingClientRect(), poly.getBoundingClientRect()];
        return {
          img: { x: a.x, width: a.width, height: a.height },
          zone: { x: b.x, width: b.width, height: b.height },
        };
      });
    let measured: Awaited<ReturnType<typeof boxes>> = null;
    await expect.poll(async () => (measured = await boxes()), { timeout: 10_000 }).not.toBeNull();
    const { img, zone } = measured!;
    expect(Math.abs(zone.x - (img.x + img.width / 2))).toBeLessThan(4);
    expect(Math.abs(zone.x + zone.width - (img.x + img.width))).toBeLessThan(4);
    expect(Math.abs(zone.height - img.height)).toBeLessThan(4);
    const zoneText = () => tile.locator('g[data-zone="right"] text').textContent();
    await expect.poll(zoneText, patient).toMatch(/Right half · \d+ inside/);
    expect(await stat(page, 'yard', 'gated')).toBe(0); // motion gating is off for this camera
    // People walk into the right half: an event with a snapshot the page links to.
    const link = page.locator('#safety li[data-camera="yard"] a[href^="/api/events/"]').first();
    await link.waitFor({ timeout: 30_000 });
    const shot = await fetch(`${base}${await link.getAttribute('href')}`);
    expect(shot.status).toBe(200);
    expect(shot.headers.get('content-type')).toBe('image/jpeg');
    // Names as configured, not ids: the zone "right" is "Right half", the camera "yard" is "Yard".
    const line = page.locator('#safety li[data-camera="yard"]').first();
    expect(await line.innerText()).toMatch(/entered zone Right half/);
    expect(await line.locator('.pill').innerText()).toMatch(/^Yard/);
    await page.screenshot({ path: path.join(artefacts, 'zones.png'), fullPage: true });
    // At phone width the event's text gets the whole line, not a column a word wide.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect
      .poll(() => line.evaluate((li) => li.querySelector('.msg')!.getBoundingClientRect().width), patient)
      .toBeGreaterThan(250);
    await page.close();
  }, 90_000);

  it('/metrics of the running process parses as Prometheus text and its counters move', async () => {
    const scrape = async () => parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    const a = await scrape();
    const frames = (f: typeof a) =>
      sampleValue(f, 'vigil_camera_processed_frames_total', { camera: 'yard' })!;
    const requests = (f: typeof a) =>
      sampleValue(f, 'vigil_http_requests_total', { route: '/metrics', code: '200' }) ?? 0;
    // As many scrapes as a slow machine needs for a frame to be processed meanwhile.
    await vi.waitFor(async () => {
      const b = await scrape();
      expect(frames(b)).toBeGreaterThan(frames(a));
      expect(requests(b)).toBeGreaterThan(requests(a));
    }, patient);
  });

  it('a source that stops sending turns its tile stalled by the watchdog, without a reload', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    let loads = 0;
    page.on('load', () => loads++);
    await page.goto(base);
    await page.locator('.tile[data-camera="gate"][data-state="streaming"]').waitFor({ timeout: 30_000 });
    await page.evaluate(() => (window.marker = 42));
    // Frozen, not gone: the connection stays open and nothing arrives, so only the watchdog can tell.
    rtsp.pause();
    const t0 = Date.now();
    // The watchdog fires stallTimeoutS after the last frame; the page hears at its next 1 s tick (the wait
    // allows for a loaded machine; the time it took is printed below).
    await page.locator('.tile[data-camera="gate"][data-state="stalled"]').waitFor({ timeout: 30_000 });
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThanOrEqual((stallTimeoutS - 1) * 1000);
    expect(await page.evaluate(() => window.marker)).toBe(42);
    expect(loads).toBe(1);
    await expect
      .poll(() => page.locator('.tile[data-camera="gate"] .badge').innerText(), patient)
      .toMatch(/stalled/i);
    expect(await page.locator('.tile[data-camera="gate"] .reason').innerText()).toMatch(
      new RegExp(`no frame for ${stallTimeoutS} s`),
    );
    // The other camera is untouched, and the banner says which one is not streaming.
    expect(await page.locator('.tile[data-camera="yard"]').getAttribute('data-state')).toBe('streaming');
    expect(await page.locator('#overall').innerText()).toMatch(/1 of 2 cameras streaming.*Gate stalled/);
    await page.screenshot({ path: path.join(artefacts, 'stalled.png'), fullPage: true });
    console.log(`gate tile stalled ${ms} ms after its RTSP server froze (watchdog ${stallTimeoutS} s)`);
    await page.close();
  }, 60_000);
});
