import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StatusPayload } from '../../../agent/mqtt/payloads.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { VigilConfig } from '../../../config/schema.js';
import { logLines } from '../../support/log-lines.js';
import { collect, startMosquitto } from '../../support/mosquitto.js';
import { sharedPath } from '../../support/shared.js';

// The box's MQTT client id (docs/config.md: `vigil-<site>-<device>` by default) and what it means for the
// retained `status` a subscriber reads: a real mosquitto, a real agent, and a real hung client of an earlier
// process of the same box (a mosquitto_sub with the agent's last will, stopped with SIGSTOP: a power cut or
// a frozen process, whose connection the broker holds until 1.5 keepalives pass).
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function agentFor(mqtt: { url: string; clientId?: string }) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-client-id-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = VigilConfig.parse({
    site: 'yard',
    device: 'box1',
    dataDir,
    http: { enabled: false },
    mqtt,
    models: { m: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'), providers: ['cpu'] } },
    // No camera runs: the link is what is tested.
    cameras: [{ id: 'c1', source: sharedPath('media', 'vtest.avi'), model: 'm', enabled: false }],
  });
  const agent = new Agent(config, { log: logLines().log, version: '9.9.9', services: [] });
  cleanup.push(() => agent.stop(2000));
  return { agent };
}

describe('the agent’s MQTT client id', () => {
  it('is vigil-<site>-<device>: a restart takes over a hung predecessor, whose last will cannot undo `online`', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const statusTopic = 'vigil/yard/box1/status';
    const will = JSON.stringify({ state: 'offline', ts: 1, version: '9.9.8' });
    const previous = spawn('mosquitto_sub', [
      ...['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv5', '-k', '5'],
      ...['-i', 'vigil-yard-box1', '-t', 'nothing/here'],
      ...['--will-topic', statusTopic, '--will-payload', will, '--will-qos', '1', '--will-retain'],
    ]);
    cleanup.push(() => previous.kill('SIGKILL'));
    await vi.waitFor(() => expect(broker.log()).toContain('as vigil-yard-box1 '), { timeout: 15_000 });
    previous.kill('SIGSTOP');

    const sub = await collect(broker.url, statusTopic);
    cleanup.push(() => sub.close());
    const { agent } = agentFor({ url: broker.url });
    await agent.start();
    const states = () => sub.messages.map((m) => StatusPayload.parse(JSON.parse(m.payload.toString())).state);
    await vi.waitFor(() => expect(states()).toContain('online'), { timeout: 15_000 });
    // The hung connection ends, one way or the other: taken over by the agent (the fix), or timed out by the
    // broker after 7.5 s (a client id of its own: the old will then lands after the agent's `online`).
    await vi.waitFor(
      () =>
        expect(broker.log()).toMatch(
          /already connected, closing old connection|vigil-yard-box1 has exceeded/,
        ),
      { timeout: 30_000 },
    );
    expect(broker.log()).toContain('Client vigil-yard-box1 already connected, closing old connection');
    // The old will came first, so the box that runs is `online`, for a subscriber already there and a new one.
    expect(states().at(-1)).toBe('online');
    const later = await collect(broker.url, statusTopic);
    cleanup.push(() => later.close());
    await later.waitFor((m) => m.length === 1);
    expect(later.messages[0]).toMatchObject({ retain: true });
    expect(JSON.parse(later.messages[0]!.payload.toString())).toMatchObject({
      state: 'online',
      version: '9.9.9',
    });
  });

  it('an explicit mqtt.clientId is used as it is', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const { agent } = agentFor({ url: broker.url, clientId: 'plant-7-cam-box' });
    await agent.start();
    await vi.waitFor(() => expect(broker.log()).toContain('as plant-7-cam-box '), { timeout: 15_000 });
  });
});
