import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { milanAirCamera } from '../support/milan-camera.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { startPageAgent } from '../support/page-agent.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { hasShared, repoRoot } from '../support/shared.js';

/** Screenshots land here (git-ignored). */
const artefacts = path.join(repoRoot, 'test-artifacts', 'status-page-pm25-sensor');
const topic = 'vigil/yard/sensor-e2e/cameras/air/pm25/reference';

/** The camera with its sensor's logger CSV followed as well (`pm25.referenceCsv`). */
const withCsv = (camera: ReturnType<typeof milanAirCamera>, file: string) => ({
  ...camera,
  pm25: { ...camera.pm25, referenceCsv: file },
});

// An installer wiring a co-located PM2.5 sensor to a box checks on the page, not in the log, that its
// readings arrive and pair: a real agent on the Milan noon clip, a real broker, a real sensor client.
describe.skipIf(!hasShared || !hasChromium)("the status page follows a co-located sensor's readings", () => {
  let dir: string;
  let broker: Mosquitto;
  let browser: Browser;
  let agent: AgentProcess;
  let base: string;
  let page: Page;
  let sensor: mqtt.MqttClient;
  let csv: string;
  const row = (name: string) => page.locator('.air-camera[data-camera="air"] dt', { hasText: name });
  const value = async (name: string) => await row(name).locator('xpath=following-sibling::dd[1]').innerText();
  const until = (name: string, text: RegExp) =>
    page
      .locator('.air-camera[data-camera="air"] dd', { hasText: text })
      .and(row(name).locator('xpath=following-sibling::dd[1]'))
      .waitFor({ timeout: 30_000 });

  beforeAll(async () => {
    mkdirSync(artefacts, { recursive: true });
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-sensor-'));
    csv = path.join(dir, 'sensor-log.csv'); // not there yet: the logger has written nothing
    broker = await startMosquitto();
    [browser, { agent, base }] = await Promise.all([
      launchChromium(),
      startPageAgent({
        dir,
        device: 'sensor-e2e',
        mqtt: { url: broker.url },
        cameras: [withCsv(milanAirCamera(dir), csv)],
      }),
    ]);
    sensor = await mqtt.connectAsync(broker.url);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(base);
    await page.locator('.air-camera[data-camera="air"]').waitFor({ timeout: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await sensor?.endAsync();
    await browser?.close();
    await agent?.stop('SIGKILL');
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says where readings are expected before any arrives, then what became of each, live', async () => {
    expect(await value('Calibration')).toBe('uncalibrated: no sensor readings paired yet');
    expect(await value('Sensor readings')).toBe(
      `0 paired · 0 not paired · 0 refused since start, on ${topic} and from ${csv} · the CSV: cannot read ${csv}: ENOENT`,
    );
    expect(await row('Last reading').count()).toBe(0);

    // A gateway that leaves out the time: refused, with the field and the form it needs.
    await sensor.publishAsync(topic, JSON.stringify({ pm25: 18 }), { qos: 1 });
    await until('Last reading', /refused: ts: /);
    expect(await value('Sensor readings')).toMatch(/^0 paired · 0 not paired · 1 refused since start/);

    // A sensor whose clock is three days ahead: it parses but pairs with no frame, and the page says why.
    const ahead = new Date(Date.now() + 3 * 86_400_000).toISOString();
    await sensor.publishAsync(topic, JSON.stringify({ ts: ahead, pm25: 18 }), { qos: 1 });
    await until('Last reading', /not paired: its ts .* is 3 days ahead of this box's clock/);
    expect(await value('Last reading')).toMatch(
      /^18\.0 µg\/m³ for .*, received (just now|\d+ s ago), not paired/,
    );

    // A reading of now pairs with the frames just seen; the next window counts the pair.
    await sensor.publishAsync(topic, JSON.stringify({ ts: new Date().toISOString(), pm25: 21 }), { qos: 1 });
    await until('Last reading', /, paired$/);
    expect(await value('Sensor readings')).toMatch(/^1 paired · 1 not paired · 1 refused since start/);
    await until('Calibration', /^uncalibrated · 1 sensor pair( · fitted .*)?$/);

    // The logger starts its CSV (local times would do; this one writes UTC) with a reading of 12 min ago.
    const earlier = new Date(Date.now() - 12 * 60_000).toISOString();
    writeFileSync(csv, `time,pm25_ugm3,rh\n${earlier},17,60\n`);
    await until('Last reading', /^17\.0 µg\/m³ for .*, read from the CSV (just now|\d+ s ago), paired$/);
    expect(await value('Sensor readings')).toBe(
      `2 paired · 1 not paired · 1 refused since start, on ${topic} and from ${csv}`,
    );
    await until('Calibration', /^uncalibrated · 2 sensor pairs( · fitted .*)?$/);
    await page
      .locator('.air-camera[data-camera="air"]')
      .screenshot({ path: path.join(artefacts, 'air-panel.png') });

    // The same counts for the operator's scraper.
    const f = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    const readings = (outcome: string) =>
      sampleValue(f, 'vigil_pm25_reference_readings_total', { camera: 'air', outcome });
    expect([readings('paired'), readings('not-paired'), readings('refused')]).toEqual([2, 1, 1]);
    expect(sampleValue(f, 'vigil_pm25_calibration_samples', { camera: 'air' })).toBe(2);
    expect(sampleValue(f, 'vigil_pm25_calibration_state', { camera: 'air', state: 'uncalibrated' })).toBe(1);
  }, 120_000);
});
