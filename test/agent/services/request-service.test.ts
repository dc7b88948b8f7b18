import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestService } from '../../../agent/services/request-service.js';
import { startIdleAgent } from '../../support/idle-agent.js';
import { logLines } from '../../support/log-lines.js';
import { collect, startMosquitto } from '../../support/mosquitto.js';

// A real agent (outbox, link) on a real broker, with no camera running; the service is driven directly.
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('RequestService started again', () => {
  it(
    'after stop() and start(): each request is answered once, and none while stopped',
    { timeout: 60_000 },
    async () => {
      const broker = await startMosquitto();
      cleanup.push(() => broker.stop());
      const { log } = logLines();
      const { agent } = await startIdleAgent({
        log,
        services: [],
        defer: (fn) => cleanup.push(fn),
        extra: { mqtt: { url: broker.url } },
      });
      const answers = await collect(broker.url, 'vigil/s/d/response/#');
      cleanup.push(() => answers.close());
      const sender = await mqtt.connectAsync(broker.url);
      cleanup.push(() => sender.endAsync());
      const ping = (transaction: string) =>
        sender.publishAsync('vigil/s/d/request/ping', JSON.stringify({ transaction }), { qos: 1 });
      const answered = (transaction: string) =>
        answers.messages.filter(
          (m) => (JSON.parse(m.payload.toString()) as { transaction?: string }).transaction === transaction,
        ).length;

      const service = new RequestService();
      service.start(agent);
      // Until the link has connected and subscribed.
      for (let i = 0; i < 300 && answered('first') === 0; i++) {
        await ping('first');
        await answers.waitFor((m) => m.length > 0, 100).catch(() => {});
      }
      expect(answered('first')).toBeGreaterThan(0);

      service.stop();
      // The link's UNSUBSCRIBE has reached the broker once a later publish of the link has (one connection
      // keeps packet order), however slow the machine.
      const marker = await collect(broker.url, 'vigil/s/d/test/marker');
      cleanup.push(() => marker.close());
      agent.outbox.enqueue({ topic: 'vigil/s/d/test/marker', priority: 0, build: () => ({ after: 'stop' }) });
      agent.link!.notify();
      await marker.waitFor((m) => m.length > 0, 30_000);
      await ping('while-stopped');
      await new Promise((r) => setTimeout(r, 500)); // an answer to it, were it handled, would come meanwhile
      service.start(agent);
      service.stop();
      service.start(agent); // twice more: still one subscription
      // Until the new SUBSCRIBE has reached the broker (a ping before it is simply not delivered: on a loaded
      // machine the first one could be), each ping with its own transaction.
      let again = '';
      for (let i = 0; i < 300 && !again; i++) {
        await ping(`again-${i}`);
        await answers.waitFor(() => answered(`again-${i}`) > 0, 100).catch(() => {});
        if (answered(`again-${i}`) > 0) again = `again-${i}`;
      }
      expect(again).not.toBe('');
      await new Promise((r) => setTimeout(r, 300)); // a second subscription's answer would be in by now
      expect(answered(again)).toBe(1);
      expect(answered('while-stopped')).toBe(0);
      service.stop();
    },
  );
});
