import { describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../../../config/logger.js';
import type { MqttConfig } from '../../../config/schema.js';
import { DetectionsPayload } from '../../../agent/mqtt/payloads.js';
import { closesBeforeDrop, quietClosesBeforeSearch } from '../../../agent/mqtt/silent-refusals.js';
import type { Collector, Received } from '../../support/mosquitto.js';
import { mqtt311Front, type Mqtt311Front } from '../../support/mqtt311-front.js';
import { useLinkFixture } from '../../support/link-fixture.js';

const fx = useLinkFixture('link-limit', { synchronous: 'OFF' });
const { t, defer, broker, subscriber, until, drained } = fx;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const link = (url: string, cfg: Partial<MqttConfig> = {}, log?: Logger) =>
  fx.link(url, cfg, { reconnect: { minMs: 20, maxMs: 100 }, ...(log && { log }) });

/** mosquitto with a packet size limit, and a front that makes it a 3.1.1-only broker: no limit announced. */
async function broker311(maxPacketBytes?: number) {
  const b = await broker({ config: maxPacketBytes ? [`max_packet_size ${maxPacketBytes}`] : [] });
  const front: Mqtt311Front = await mqtt311Front(b.port);
  defer(() => front.close());
  const sub: Collector = await subscriber(b.url, 'vigil/s/d/cameras/+/detections');
  return { b, front, sub };
}

/** A detection of `camera`; `pad` bytes more make it as large as needed. */
function detection(camera: string, pad = 0): void {
  fx.outbox.enqueue({
    topic: t.camera(camera).detections,
    stream: `detections/${camera}`,
    priority: 0,
    build: ({ id, seq, ts }) => ({
      id,
      camera,
      ts,
      pts: 0,
      seq: seq ?? 0,
      model: 'y'.repeat(pad + 1),
      provider: 'cpu',
      inferenceMs: 4.2,
      frame: { width: 640, height: 480 },
      detections: [],
    }),
  });
}

/** Sequence numbers received per camera, duplicates (re-sends) counted once. */
function seqs(messages: Received[]): Record<string, number[]> {
  const seen = new Set<string>();
  const out: Record<string, number[]> = {};
  for (const m of messages) {
    const d = DetectionsPayload.parse(JSON.parse(m.payload.toString()));
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    (out[d.camera] ??= []).push(d.seq);
  }
  return out;
}

describe('MqttLink and a packet size limit the broker does not announce (MQTT 3.1.1)', () => {
  it('with mqtt.maxPacketBytes, an oversize row is refused unsent and the stream goes on, on one connection', async () => {
    const { front, sub } = await broker311(2000);
    detection('cam1');
    detection('cam1', 5000);
    detection('cam1');
    detection('cam2');
    const l = link(front.url, { maxPacketBytes: 2000 });
    await sub.waitFor((m) => {
      const s = seqs(m);
      return s.cam1?.length === 2 && s.cam2?.length === 1;
    });
    await drained(5000);
    expect(seqs(sub.messages)).toEqual({ cam1: [1, 3], cam2: [1] });
    expect(l.counters()).toMatchObject({ protocol: '3.1.1', connects: 1, rejected: 1, acked: 3 });
    expect(fx.outbox.dropDetail()).toEqual([{ reason: 'rejected', priority: 0, count: 1 }]);
    expect(l.state.lastError?.message).toMatch(
      /^a \d+-byte packet exceeds mqtt\.maxPacketBytes \(2000 bytes\)$/,
    );
  });

  it('with both an announced (MQTT 5) and a configured limit, the smaller one refuses', async () => {
    const b = await broker({ config: ['max_packet_size 2000'] });
    detection('cam1', 1500); // about 1.7 kB: under the broker's 2000, over the configured 1500
    const l = link(b.url, { maxPacketBytes: 1500 });
    await drained(5000);
    expect(l.counters()).toMatchObject({ protocol: '5', rejected: 1, acked: 0 });
    expect(l.state.lastError?.message).toMatch(/exceeds mqtt\.maxPacketBytes \(1500 bytes\)$/);
    await l.stop();
    detection('cam1', 2500); // over the broker's 2000, under the configured 4000
    const l2 = link(b.url, { maxPacketBytes: 4000 });
    await drained(5000);
    expect(l2.counters()).toMatchObject({ rejected: 1, connects: 1 });
    expect(l2.state.lastError?.message).toMatch(/exceeds the broker's maximum packet size \(2000 bytes\)$/);
  });

  it('with no limit known, the broker closing on a row finds it: that row alone is dropped, the rest delivered', async () => {
    const { front, sub } = await broker311(2000);
    const info: string[] = [];
    const log: Logger = { ...silentLogger, info: (msg) => void info.push(msg), child: () => log };
    detection('cam1');
    detection('cam1', 5000); // mosquitto closes the connection on it, the acks before it lost
    detection('cam1');
    detection('cam2');
    const l = link(front.url, {}, log);
    await until(l, (s) => s.state === 'connected');
    detection('cam1'); // live rows keep coming meanwhile
    detection('cam2');
    l.notify();
    // Before the fix the link reconnected and re-sent the same row for ever: nothing after it arrived.
    await sub.waitFor((m) => {
      const s = seqs(m);
      return s.cam1?.length === 3 && s.cam2?.length === 2;
    });
    await drained(5000);
    expect(seqs(sub.messages)).toEqual({ cam1: [1, 3, 4], cam2: [1, 2] });
    const c = l.counters();
    expect(c).toMatchObject({ protocol: '3.1.1', rejected: 1, acked: 5, inflight: 0 });
    // Quiet closes, then the closes on the row alone, then the connection that works (one more if the
    // first connection had an ack through before the close).
    expect(c.connects).toBeLessThanOrEqual(1 + quietClosesBeforeSearch + closesBeforeDrop + 1);
    expect(fx.outbox.dropDetail()).toEqual([{ reason: 'rejected', priority: 0, count: 1 }]);
    expect(l.state.lastError?.message).toMatch(
      /^the broker closed the connection 3 times in a row right after a \d{4}-byte packet was sent alone.*set mqtt\.maxPacketBytes/,
    );
    // Normal windowing again after the first ack: later rows go several at a time.
    expect(info).toContain('acks flow again: back to the full window');
    expect(l.state.state).toBe('connected');
  }, 30_000);

  it('a broker restarted again and again with rows in flight loses nothing (no limit known)', async () => {
    const { b, front } = await broker311();
    const l = link(front.url);
    await until(l, (s) => s.state === 'connected');
    let sent = 0;
    // More restarts than quiet closes and closes on a row together: a naive count would have dropped one.
    for (let round = 0; round < quietClosesBeforeSearch + closesBeforeDrop + 1; round++) {
      process.kill(b.pid!, 'SIGSTOP'); // hung: what is sent now stays unacknowledged
      for (let i = 0; i < 5; i++, sent++) detection('cam1');
      l.notify();
      for (let i = 0; i < 100 && l.counters().inflight === 0; i++) await sleep(10);
      expect(l.counters().inflight).toBeGreaterThan(0);
      process.kill(b.pid!, 'SIGKILL');
      await until(l, (s) => s.state === 'disconnected');
      await b.stop();
      for (let i = 0; i < 3; i++, sent++) detection('cam1'); // while it is down
      await sleep(50);
      await b.start();
      await drained(10_000);
    }
    // Every row acknowledged once (a broker that was hung never acknowledged what it held), none dropped.
    expect(l.counters()).toMatchObject({ acked: sent, rejected: 0 });
    expect(fx.outbox.dropDetail()).toEqual([]);
  }, 60_000);
});
