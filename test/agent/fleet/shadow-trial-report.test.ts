import { describe, expect, it, vi } from 'vitest';
import { logLines } from '../../support/log-lines.js';
import { silentLogger } from '../../../config/logger.js';
import { MqttConfig } from '../../../config/schema.js';
import { ShadowReportPayload } from '../../../agent/fleet/fleet-payloads.js';
import { MqttLink } from '../../../agent/mqtt/mqtt-link.js';
import { collect, startMosquitto } from '../../support/mosquitto.js';
import { car, outbox, person, rows, settle, setup, TOPIC, useShadowTrials } from './shadow-trial-fixture.js';

// A shadow trial's retained report on …/config/shadow (docs/fleet.md "Shadow trials"): when it is queued,
// replaced and refused, and its way to a real broker. Sampling and comparing: shadow-trial-sampling.test.ts.

useShadowTrials();

describe('ShadowTrial', () => {
  it('publish: a retained latest-value report on …/config/shadow', async () => {
    const { trial, emit, handled } = setup({ share: 1 });
    trial.start();
    emit('dock');
    await handled(1);
    trial.publish();
    const [row, ...more] = rows();
    expect(more).toEqual([]);
    expect(row).toMatchObject({ topic: TOPIC, retain: true, priority: 1 });
    const p = ShadowReportPayload.parse(JSON.parse(row!.payload.toString()));
    expect(p).toMatchObject({
      site: 'yard',
      device: 'box1',
      revision: 42,
      candidate: 'cand',
      frames: 1,
      agreedFrames: 1,
    });
    expect(p.overall).toEqual({ matched: 1, candidateOnly: 0, currentOnly: 0, precision: 1, recall: 1 });
    emit('dock', [car]);
    await handled(2);
    trial.publish();
    const left = rows();
    expect(left).toHaveLength(1); // the newer report replaced the one not sent yet
    expect(JSON.parse(left[0]!.payload.toString())).toMatchObject({ frames: 2, agreedFrames: 1 });
  });

  it('publishes every reportIntervalS; stop() ends sampling and the timer, with a final report', async () => {
    const { trial, emit, handled, detections$ } = setup({ share: 1, reportIntervalS: 1 });
    const startedAt = Date.now();
    trial.start();
    emit('dock');
    await handled(1);
    // A report from the timer, newer than `after` (each replaces the one before in the outbox).
    const report = (after = 0) =>
      vi.waitFor(() => {
        const row = rows().find((r) => r.topic === TOPIC && r.rowid > after);
        if (!row) throw new Error(`no report after row ${after}`);
        return row;
      }, 30_000);
    const first = await report();
    // None for the frame: the first comes from the timer, an interval after the start (100 ms for clocks).
    expect(JSON.parse(first.payload.toString()).ts).toBeGreaterThanOrEqual(startedAt + 900);
    const second = await report(first.rowid);
    trial.stop();
    const [final] = rows();
    expect(final!.rowid).toBeGreaterThan(second!.rowid);
    expect(detections$.observed).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect(rows()[0]!.rowid).toBe(final!.rowid);
  });

  it('a report the outbox refuses is logged, from the timer and at stop, and the agent runs on', async () => {
    const { log, lines } = logLines('debug');
    const { trial, emit, handled } = setup({ share: 1, reportIntervalS: 1 }, { log });
    trial.start();
    emit('dock');
    await handled(1);
    outbox.close(); // as at shutdown, or a database gone bad: enqueue throws
    const warnings = () => lines.filter((l) => l.msg === 'fleet: shadow report not queued');
    await vi.waitFor(() => expect(warnings(), 'the timer tried').toHaveLength(1), 30_000);
    trial.stop();
    expect(warnings()).toHaveLength(2);
    expect(warnings()[0]).toMatchObject({ level: 'warn', reason: expect.stringMatching(/not open/) });
  });

  it('stop() without a compared frame publishes nothing', async () => {
    const { trial, emit } = setup({ share: 0.5 });
    trial.start();
    emit('dock');
    trial.stop();
    emit('dock');
    await settle();
    expect(trial.stats.frames + trial.stats.skipped).toBe(0);
    expect(rows()).toEqual([]);
  });

  it('the report reaches the broker at once over a real MQTT link', async () => {
    const broker = await startMosquitto();
    const link = new MqttLink({
      cfg: MqttConfig.parse({ url: broker.url }),
      statusTopic: 'vigil/yard/box1/status',
      outbox,
      log: silentLogger,
      version: '0.0.0',
      pollMs: 60_000,
    });
    try {
      link.start();
      const sub = await collect(broker.url, TOPIC);
      // Connected first (a report queued before would go with the connect's drain, notified or not).
      await vi.waitFor(() => expect(link.state.state).toBe('connected'), 30_000);
      const { trial } = setup({}, { link });
      trial.start();
      trial.stats.add([person], [person], { current: 1, candidate: 2 });
      trial.publish();
      // The link polls its outbox once a minute here: a report within 20 s came by the notify.
      await sub.waitFor((m) => m.length > 0, 20_000);
      expect(ShadowReportPayload.parse(JSON.parse(sub.messages[0]!.payload.toString())).frames).toBe(1);
      await sub.close();
    } finally {
      await link.stop();
      await broker.stop();
    }
  });
});
