import mqtt from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../../agent/runtime/agent.js';
import { discoveryMessages } from '../../../agent/services/ha-discovery.js';
import { HomeAssistantService } from '../../../agent/services/ha-discovery-service.js';
import { logLines } from '../../support/log-lines.js';
import { collect, startMosquitto } from '../../support/mosquitto.js';
import { hasShared } from '../../support/shared.js';
import { streamingAgentConfig } from '../../support/streaming-agent.js';
import { tempDataDir } from '../../support/idle-agent.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

// Discovery configs are retained at the broker. They used to be published once, at start: a broker restarted
// without persistence, or a Home Assistant that asked for them again, found no entities until the agent
// restarted.
describe.skipIf(!hasShared)('HomeAssistantService', () => {
  it('publishes discovery again when the link reconnects and when Home Assistant comes online', async () => {
    const broker = await startMosquitto(); // no persistence: a restart forgets retained messages
    cleanup.push(() => broker.stop());
    const config = streamingAgentConfig(
      tempDataDir('ha', (fn) => cleanup.push(fn)),
      {
        mqtt: { url: broker.url, homeAssistant: { enabled: true } },
      },
    );
    const { log, lines } = logLines();
    const agent = new Agent(config, { log, version: '9.9.9', services: [new HomeAssistantService()] });
    cleanup.push(() => agent.stop(2000));
    const expected = discoveryMessages(config, agent.topics, 'homeassistant', '9.9.9').map((m) => m.topic);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    // What Home Assistant finds when it subscribes now: the retained configs, all of them. A subscriber that
    // came before a publish gets it live (retain flag clear), so it looks again until all are retained.
    const retained = () =>
      vi.waitFor(
        async () => {
          const sub = await collect(broker.url, 'homeassistant/+/+/+/config');
          const topics = () => new Set(sub.messages.filter((m) => m.retain).map((m) => m.topic));
          try {
            await sub.waitFor(() => topics().size >= expected.length, 2000);
          } finally {
            await sub.close();
          }
          return [...topics()].sort();
        },
        { timeout: 30_000, interval: 100 },
      );

    await agent.start();
    expect(await retained()).toEqual([...expected].sort());

    await broker.stop();
    await vi.waitFor(() => expect(agent.link!.state.state).not.toBe('connected'), 30_000);
    await broker.start();
    await vi.waitFor(() => expect(agent.link!.counters().connects).toBe(2), 30_000);
    expect(await retained()).toEqual([...expected].sort());

    // Home Assistant's birth message: the configs were cleared at the broker (as a user who deletes the
    // device does), and a Home Assistant that starts asks for them with `online` on homeassistant/status.
    const ha = await mqtt.connectAsync(broker.url);
    cleanup.push(() => ha.endAsync());
    for (const topic of expected) await ha.publishAsync(topic, '', { qos: 1, retain: true });
    const published = () => lines.filter((l) => l.msg === 'Home Assistant discovery published').length;
    const before = published();
    await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await vi.waitFor(() => expect(published()).toBe(before + 1), 30_000);
    expect(await retained()).toEqual([...expected].sort());
  });
});
