import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli, startAgent, type AgentProcess } from '../support/agent-process.js';
import { configResults, fleetKey, signBody, writeBoxConfig } from '../support/fleet.js';
import { collect, startMosquitto, type Collector, type Mosquitto } from '../support/mosquitto.js';
import { hasShared, sharedPath } from '../support/shared.js';

// Retained topics (camera states, Home Assistant discovery) were written once per camera and never taken
// back: a push that removed a camera left its state and its Home Assistant entities at the broker for good,
// and one that added a camera gave it no entities. Real agent, real mosquitto, a push signed by the CLI.
const clip = sharedPath('media', 'vtest.avi');
const model = sharedPath('models', 'yolo11n-coco-int8-320.onnx');
const cam = (id: string) => ({ id, source: clip, model: 'det', fps: 2, loop: true });
const root = 'vigil/yard/ret';
const node = 'homeassistant/sensor/vigil_yard_ret';
// One-second windows: a retained drift summary per camera at once (and one more for a camera a push
// removes, published by the drift service on the same change: the clear must come after it).
const drift = { windowMinutes: 1 / 60, minFrames: 1, minSamples: 1 };

/**
 * What a fresh subscriber gets: the retained messages (non-empty, by topic). A marker published after the
 * SUBACK on the same connection comes after every retained message the subscription brought.
 */
async function retained(url: string, under = root): Promise<Map<string, string>> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
  const marker = `test/marker/${Math.random().toString(16).slice(2)}`;
  const got = new Map<string, string>();
  try {
    const done = new Promise<void>((resolve) =>
      client.on('message', (topic, payload, packet) => {
        if (topic === marker) resolve();
        else if (packet.retain && payload.length) got.set(topic, payload.toString());
      }),
    );
    await client.subscribeAsync([`${under}/#`, 'homeassistant/#', marker], { qos: 1 });
    await client.publishAsync(marker, 'end', { qos: 1 });
    await done;
  } finally {
    await client.endAsync(true);
  }
  return got;
}

describe.skipIf(!hasShared)('retained topics follow a fleet push', () => {
  let broker: Mosquitto;
  let sub: Collector;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    sub = await collect(broker.url, `${root}/config/result`);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await sub?.close();
    await broker?.stop();
  });

  it("publishes an added camera's discovery and clears a removed camera's retained topics", async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'vigil-retained-push-'));
    const key = await fleetKey(work);
    const box = writeBoxConfig({
      site: 'yard',
      device: 'ret',
      mqtt: { url: broker.url, homeAssistant: { enabled: true } },
      models: { det: { path: model } },
      cameras: [cam('keep'), cam('gone')],
      drift,
      fleet: { keys: [key.publicBase64], groups: ['line1'], healthDeadlineS: 15 },
    });
    const agent = startAgent(['run', '--config', box.file]);
    agents.push(agent);
    await vi.waitFor(
      async () => {
        const r = await retained(broker.url);
        expect(r.has(`${root}/cameras/gone/state`)).toBe(true);
        expect(r.has(`${root}/cameras/gone/drift/summary`)).toBe(true);
        expect(r.has(`${node}/gone_person/config`)).toBe(true);
      },
      { timeout: 20_000, interval: 200 },
    );

    const doc = await signBody(work, key.file, 'device:yard/ret', 1, {
      models: { det: { path: model } },
      cameras: [cam('keep'), cam('added')],
    });
    const out = await runCli(['fleet', 'push', '--mqtt', broker.url, '--timeout', '20', doc], {}, 30_000);
    expect(out.output).toMatch(/yard\/ret applied/);
    expect(configResults(sub.messages, 'yard', 'ret').at(-1)).toMatchObject({
      revision: 1,
      status: 'applied',
    });

    // The clears and the new camera's messages go through the outbox: looked at again until they are out.
    await vi.waitFor(
      async () => {
        const r = await retained(broker.url);
        const topics = [...r.keys()];
        expect(topics.filter((t) => t.includes('gone'))).toEqual([]);
        expect(r.has(`${root}/cameras/added/state`)).toBe(true);
        expect(topics.filter((t) => t.startsWith(`${node}/added_`)).sort()).toEqual([
          `${node}/added_forklift/config`,
          `${node}/added_person/config`,
        ]);
        expect(r.has(`${node}/keep_person/config`)).toBe(true);
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(agent.output()).toMatch(/retained topics of removed cameras cleared/);
  }, 40_000);

  // No push saw it: the config was edited by hand between two runs (or an apply was cut short by a crash).
  // What the broker holds for this box is compared with the running config at every connection.
  it('clears what the broker holds of a camera the config no longer has after a restart', async () => {
    const under = 'vigil/yard/edit';
    const base = {
      site: 'yard',
      device: 'edit',
      mqtt: { url: broker.url, homeAssistant: { enabled: true } },
      models: { det: { path: model } },
      drift,
    };
    const box = writeBoxConfig({ ...base, cameras: [cam('keep'), cam('gone')] });
    const first = startAgent(['run', '--config', box.file]);
    agents.push(first);
    await vi.waitFor(
      async () => {
        const r = await retained(broker.url, under);
        expect(r.has(`${under}/cameras/gone/state`)).toBe(true);
        expect(r.has(`${under}/cameras/gone/drift/summary`)).toBe(true);
        expect(r.has('homeassistant/sensor/vigil_yard_edit/gone_person/config')).toBe(true);
      },
      { timeout: 20_000, interval: 200 },
    );
    expect((await first.stop('SIGTERM')).code).toBe(0);
    writeFileSync(
      box.file,
      stringify({ ...base, dataDir: box.dataDir, http: { enabled: false }, cameras: [cam('keep')] }),
    );
    const second = startAgent(['run', '--config', box.file]);
    agents.push(second);
    await vi.waitFor(
      async () => {
        const topics = [...(await retained(broker.url, under)).keys()];
        expect(topics.filter((t) => t.includes('gone'))).toEqual([]);
        expect(topics).toContain(`${under}/cameras/keep/state`);
        expect(topics).toContain('homeassistant/sensor/vigil_yard_edit/keep_person/config');
      },
      { timeout: 15_000, interval: 200 },
    );
  }, 40_000);
});
