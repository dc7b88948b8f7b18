import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { startPageAgent } from '../support/page-agent.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { hasShared, sharedPath } from '../support/shared.js';

declare const document: {
  dispatchEvent(e: unknown): boolean;
  querySelector(selector: string): { dataset: Record<string, string | undefined> } | null;
};
declare const Event: new (type: string) => unknown;

const patient = { timeout: 20_000, interval: 250 };

/**
 * Headless Chromium shows every tab as visible, so the page is told it is hidden the way a browser tells it:
 * document.visibilityState, then a visibilitychange event. Everything else is real: the agent, its
 * server, the page's own script and its EventSource.
 */
async function setSeen(page: Page, seen: boolean): Promise<void> {
  await page.evaluate(
    (state) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
      document.dispatchEvent(new Event('visibilitychange'));
    },
    seen ? 'visible' : 'hidden',
  );
}

describe.skipIf(!hasShared || !hasChromium)('a status page nobody sees leaves the live feed', () => {
  let browser: Browser;
  let agent: AgentProcess;
  let base: string;

  beforeAll(async () => {
    ({ agent, base } = await startPageAgent({
      device: 'unseen-e2e',
      cameras: [
        {
          id: 'yard',
          source: sharedPath('media', 'vtest.avi'),
          model: 'det',
          fps: 4,
          loop: true,
          realtime: true,
        },
      ],
    }));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
  });

  const openStreams = async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return sampleValue(parsePrometheusText(text), 'vigil_http_event_streams');
  };
  const shownFrame = (page: Page) =>
    page.evaluate(() => Number(document.querySelector('.tile[data-camera="yard"] img')?.dataset.frame ?? 0));

  it('closes its stream while hidden and comes back with a fresh picture when seen again', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await vi.waitFor(async () => expect(await openStreams()).toBe(1), patient);
    await vi.waitFor(async () => expect(await shownFrame(page)).toBeGreaterThan(0), patient);

    await setSeen(page, false);
    await vi.waitFor(async () => expect(await openStreams()).toBe(0), patient);
    expect(await page.locator('#conn').getAttribute('data-conn')).toBe('paused');
    // Hidden, the page hears nothing: the picture it shows stays as it was while the camera goes on.
    const frozen = await shownFrame(page);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await shownFrame(page)).toBe(frozen);
    // …and it does not claim to have lost the agent.
    expect(await page.locator('#conn').getAttribute('data-conn')).toBe('paused');

    await setSeen(page, true);
    await vi.waitFor(async () => expect(await openStreams()).toBe(1), patient);
    await vi.waitFor(async () => expect(await shownFrame(page)).toBeGreaterThan(frozen), patient);
    expect(await page.locator('#conn').getAttribute('data-conn')).toBe('live');
    await page.close();
  }, 90_000);
});
