import { describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/logger.js';
import { MqttConfig } from '../../../config/schema.js';
import type { Running } from '../../../agent/fleet/fleet-reporter.js';
import { MqttLink } from '../../../agent/mqtt/mqtt-link.js';
import { collect, startMosquitto } from '../../support/mosquitto.js';
import { fileInput, host, outbox, reporter, rows, useReporterOutbox } from './fleet-reporter-fixture.js';

// The fleet reports over a real MQTT link to a real mosquitto: sent at once, retained, and the state
// published again at every connection.

useReporterOutbox();

describe('FleetReporter over a real MQTT link', () => {
  /** box1's link draining this file's outbox; `pollMs` (the link's own drain poll) when given. */
  const linkTo = (url: string, pollMs?: number) =>
    new MqttLink({
      cfg: MqttConfig.parse({ url }),
      statusTopic: 'vigil/yard/box1/status',
      outbox,
      log: silentLogger,
      version: '0.0.0',
      ...(pollMs !== undefined && { pollMs }),
    });

  it('results and states reach the broker retained at once (the link is woken, not left to its poll)', async () => {
    const broker = await startMosquitto();
    const link = linkTo(broker.url, 60_000);
    try {
      link.start();
      const live = await collect(broker.url, 'vigil/yard/box1/config/#');
      // Connected first (a row queued before would go with the connect's drain, woken or not).
      await vi.waitFor(() => expect(link.state.state).toBe('connected'), 30_000);
      const r = reporter(host(validateConfig({ ...fileInput, mqtt: { url: broker.url } }), link));
      const running: Running = { revision: 21, source: 'fleet' };
      // The link's poll is a minute away: what arrives within 20 s was sent because the link was woken.
      r.result({ revision: 21, status: 'applied', errors: [], changed: ['cameras.dock: added'] }, running);
      await live.waitFor((m) => m.some((x) => x.topic.endsWith('/config/result')), 20_000);
      r.state(running);
      await live.waitFor((m) => m.some((x) => x.topic.endsWith('/config/state')), 20_000);
      await live.close();
      // Retained: a push started later still sees both.
      const late = await collect(broker.url, 'vigil/yard/box1/config/#');
      await late.waitFor((m) => m.length >= 2, 20_000);
      expect(late.messages.every((m) => m.retain)).toBe(true);
      expect(late.messages.map((m) => JSON.parse(m.payload.toString()).revision)).toEqual([21, 21]);
      await late.close();
    } finally {
      await link.stop();
      await broker.stop();
    }
  });

  // Found pushing to real agents through a broker that restarted without its retained messages (its
  // persistence could not be written): `vigil fleet push` knew 1 box of 3 (the one that reconnected within
  // its settle time), reported "1 boxes, 1 applied" and exited 0.
  it('the state is published again at every connection: a broker that lost its retained messages learns it', async () => {
    const broker = await startMosquitto(); // no persistence: a restart forgets retained messages
    const link = linkTo(broker.url);
    const r = reporter(host(validateConfig({ ...fileInput, mqtt: { url: broker.url } }), link));
    const off = r.restateOnConnect(() => ({ revision: 33, source: 'fleet' }));
    const retainedState = async () => {
      const c = await collect(broker.url, 'vigil/yard/box1/config/state');
      await c.waitFor((m) => m.length >= 1, 30_000);
      await c.close();
      return c.messages[0]!;
    };
    try {
      r.state({ revision: 33, source: 'fleet' });
      link.start();
      expect(JSON.parse((await retainedState()).payload.toString())).toMatchObject({ revision: 33 });
      await broker.stop();
      await vi.waitFor(() => expect(link.state.state).not.toBe('connected'), 30_000);
      await broker.start();
      // Reconnected and every row acknowledged: what the broker holds now is retained, not in flight.
      await vi.waitFor(() => expect(link.counters().connects).toBe(2), 30_000);
      await vi.waitFor(() => expect(rows()).toEqual([]), 30_000);
      const again = await retainedState();
      expect(again.retain).toBe(true);
      expect(JSON.parse(again.payload.toString())).toMatchObject({ revision: 33, source: 'fleet' });
    } finally {
      off();
      await link.stop();
      await broker.stop();
    }
  });
});
