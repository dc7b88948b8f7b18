import { writeFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAgent, type AgentProcess } from '../support/agent-process.js';
import { writeBoxConfig } from '../support/fleet.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { hasShared, sharedPath } from '../support/shared.js';

// A box whose site was edited between two runs left everything retained under its old root (status, camera
// states, drift summaries, health) and its old Home Assistant entities at the broker for good: a ghost box.
// Real agent, real mosquitto; the config edited by hand as an installer would.
const clip = sharedPath('media', 'vtest.avi');
const model = sharedPath('models', 'yolo11n-coco-int8-320.onnx');
const cam = (id: string) => ({ id, source: clip, model: 'det', fps: 2, loop: true });
const drift = { windowMinutes: 1 / 60, minFrames: 1, minSamples: 1 };

/** What a fresh subscriber to `#` gets: the retained messages (non-empty, by topic), up to a marker. */
async function retained(url: string): Promise<Map<string, string>> {
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
    await client.subscribeAsync(['#', marker], { qos: 1 });
    await client.publishAsync(marker, 'end', { qos: 1 });
    await done;
  } finally {
    await client.endAsync(true);
  }
  return got;
}

const under = (r: Map<string, string>, prefix: string) => [...r.keys()].filter((t) => t.startsWith(prefix));

describe.skipIf(!hasShared)('retained topics under an old root', () => {
  let broker: Mosquitto;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await broker?.stop();
  });

  const run = (file: string) => {
    const agent = startAgent(['run', '--config', file]);
    agents.push(agent);
    return agent;
  };

  it('are cleared after the site was edited, and the new root is published', async () => {
    const base = {
      device: 'mover',
      mqtt: { url: broker.url, homeAssistant: { enabled: true } },
      models: { det: { path: model } },
      cameras: [cam('gate')],
      drift,
    };
    const box = writeBoxConfig({ ...base, site: 'a' });
    const first = run(box.file);
    await vi.waitFor(
      async () => {
        const r = await retained(broker.url);
        for (const t of ['status', 'health', 'cameras/gate/state', 'cameras/gate/drift/summary'])
          expect(r.has(`vigil/a/mover/${t}`)).toBe(true);
        expect(r.has('homeassistant/sensor/vigil_a_mover/gate_person/config')).toBe(true);
      },
      { timeout: 20_000, interval: 200 },
    );
    expect((await first.stop('SIGTERM')).code).toBe(0);

    writeFileSync(
      box.file,
      stringify({ ...base, site: 'b', dataDir: box.dataDir, http: { enabled: false } }),
    );
    const second = run(box.file);
    await vi.waitFor(
      async () => {
        const r = await retained(broker.url);
        expect(under(r, 'vigil/a/')).toEqual([]);
        expect(under(r, 'homeassistant/binary_sensor/vigil_a_mover/')).toEqual([]);
        expect(under(r, 'homeassistant/sensor/vigil_a_mover/')).toEqual([]);
        expect(r.has('vigil/b/mover/cameras/gate/state')).toBe(true);
        expect(r.has('homeassistant/sensor/vigil_b_mover/gate_person/config')).toBe(true);
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(second.output()).toMatch(/retained topics under an old root cleared/);
  }, 60_000);

  // The device name now belongs to another box (its own data dir, so its own id in `status`): what that box
  // publishes under the old root is its own, and the box that moved away must leave it.
  it('are left as they are when another box publishes under the old root now', async () => {
    const base = { mqtt: { url: broker.url }, models: { det: { path: model } }, cameras: [cam('gate')] };
    const moved = writeBoxConfig({ ...base, site: 'c', device: 'taken' });
    const first = run(moved.file);
    await vi.waitFor(
      async () => expect((await retained(broker.url)).has('vigil/c/taken/cameras/gate/state')).toBe(true),
      { timeout: 20_000, interval: 200 },
    );
    expect((await first.stop('SIGTERM')).code).toBe(0);
    run(writeBoxConfig({ ...base, site: 'c', device: 'taken', cameras: [cam('dock')] }).file);
    await vi.waitFor(
      async () => expect((await retained(broker.url)).has('vigil/c/taken/cameras/dock/state')).toBe(true),
      { timeout: 20_000, interval: 200 },
    );

    writeFileSync(
      moved.file,
      stringify({ ...base, site: 'd', device: 'taken', dataDir: moved.dataDir, http: { enabled: false } }),
    );
    const second = run(moved.file);
    await second.waitForOutput(/old root used by another box/, 20_000);
    const r = await retained(broker.url);
    expect(JSON.parse(r.get('vigil/c/taken/status')!)).toMatchObject({ state: 'online' });
    expect(r.has('vigil/c/taken/cameras/dock/state')).toBe(true);
  }, 60_000);
});
