import { mkdtempSync, rmSync } from 'node:fs';
import { logLines } from '../../support/log-lines.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import mqtt from 'mqtt';
import type { CameraConfig } from '../../../config/schema.js';
import { freePort } from '../../support/free-port.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { ServiceSupervisor } from '../../../agent/runtime/service-supervisor.js';
import { Pm25Service } from '../../../agent/services/pm25-service.js';
import { hasShared } from '../../support/shared.js';
import { milanPm25 } from '../../support/milan-camera.js';
import { Pm25Estimator } from '../../../models/pm25/estimator.js';
import { parseLocalTime } from '../../../models/pm25/local-time.js';
import { milanConfig, milanFrame } from '../../models/pm25/helpers.js';
import { cleanup, serviceAgent, until, useCleanup } from './pm25-service-fixture.js';

// The service's restarts and its reference readings; on a live source (the looped Milan clip) it is in
// pm25-service-live.test.ts.

useCleanup();

describe('Pm25Service under the supervisor', () => {
  it('a side stream that dies is started again alone, with backoff, and one reference subscription', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-svc-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const { log, lines } = logLines('debug');
    // The side stream's file is not there: cameraFrames ends it with an error (nothing to retry).
    const agent = serviceAgent(dir, broker.url, log, {
      id: 'cam1',
      source: path.join(dir, 'gone.mp4'),
      model: 'm',
      pm25: milanPm25(),
    });

    const pm25 = new Pm25Service({ restartDelayMs: 30 });
    const sup = new ServiceSupervisor([pm25], agent, log, 30);
    cleanup.push(() => sup.stopAll());
    await sup.startAll();
    const failedLines = () => lines.filter((l) => l.msg === 'PM2.5 stage failed, restarting it');
    await until(() => failedLines().length >= 3, 'two restarts');

    expect(failedLines().slice(0, 3)).toEqual(
      [30, 60, 120].map((retryInMs) =>
        expect.objectContaining({
          camera: 'cam1',
          reason: expect.stringMatching(/^source file not found: .*gone\.mp4$/),
          retryInMs,
        }),
      ),
    );
    // The camera is restarted, not the service (which would stop every other camera's PM2.5 with it).
    expect(lines.filter((l) => l.msg === 'service failed, restarting it')).toEqual([]);

    // Now a source that never connects but is retried for ever: the next run stays up (a camera's restart
    // reads its config anew), and a sensor's readings on the real broker reach it once each: one
    // subscription, on the running estimator, however many runs came before.
    const closed = await freePort();
    (agent.config.cameras as CameraConfig[])[0] = {
      ...agent.config.cameras[0]!,
      source: `rtsp://127.0.0.1:${closed}/none`,
    };
    const sideStream = () => lines.filter((l) => l.msg === 'pm25 side stream');
    await until(() => sideStream().length > 0, 'a run whose side stream stays up');
    const failures = failedLines().length;
    const topic = 'vigil/s/d/cameras/cam1/pm25/reference';
    const sensor = await mqtt.connectAsync(broker.url);
    cleanup.push(() => sensor.endAsync());
    const refused = () => lines.filter((l) => l.msg === 'refused a PM2.5 reference reading');
    const taken = () => lines.filter((l) => l.msg === 'PM2.5 reference reading');
    const reason =
      'ts: Invalid input: expected string, received undefined; pm25: Invalid input: expected number, received string';
    const refusedBad = () => refused().filter((l) => l.reason === reason);
    // Until the link is connected and subscribed: probes (bad in another way, so that a late copy is told
    // apart from the reading below), retried until one arrives.
    await vi.waitFor(
      async () => {
        await sensor.publishAsync(topic, '{"ts": "2025-02-01T09:00:00Z", "pm25": "probe"}', { qos: 1 });
        await new Promise((r) => setTimeout(r, 50));
        expect(refused().length, 'a reference reading reached the service').toBeGreaterThan(0);
      },
      { timeout: 30_000, interval: 10 },
    );
    const before = { refused: refusedBad().length, taken: taken().length };
    expect(before.taken).toBe(0);
    await sensor.publishAsync(topic, '{"pm25": "high"}', { qos: 1 });
    await sensor.publishAsync(topic, JSON.stringify({ ts: '2025-02-01T10:00:00Z', pm25: 31 }), { qos: 1 });
    await until(() => taken().length > before.taken, 'the good reading');
    await new Promise((r) => setTimeout(r, 200)); // a second subscription's copies would have come by now
    expect(refusedBad().length - before.refused).toBe(1);
    expect(taken().length - before.taken).toBe(1);
    expect(refused().at(-1)).toMatchObject({ camera: 'cam1', reason });
    expect(taken().at(-1)).toMatchObject({ camera: 'cam1', pm25: 31 });
    expect(failedLines().length, 'the last run stayed up').toBe(failures);

    await sup.stopAll();
    const stopped = lines.length;
    await sensor.publishAsync(topic, '{"pm25": "high"}', { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
    const after = lines.slice(stopped);
    expect(after.filter((l) => l.msg === 'PM2.5 stage failed, restarting it')).toEqual([]);
    expect(after.filter((l) => l.msg === 'refused a PM2.5 reference reading')).toEqual([]);
  });
});

describe.skipIf(!hasShared)("Pm25Service and a sensor's retained reading", () => {
  // A gateway that publishes its reading retained has it sent again at every reconnect and restart. Once
  // paired, the repeat came back days later as a warning that the box's or the sensor's clock was wrong.
  it('logs a retained reading paired before the restart as a repeat, not as a clock problem', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-retained-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const cfg = milanConfig();
    const frameTs = parseLocalTime('2025-02-10T10:00', cfg.timezone);
    const readingTs = new Date(frameTs.getTime() + 5 * 60_000).toISOString();
    const before = await Pm25Estimator.create(cfg, { statePath: path.join(dir, 'pm25-cam1.json') });
    await before.evaluate(await milanFrame('20250210-1000.jpg', cfg), frameTs);
    expect(before.addReading({ ts: new Date(readingTs), pm25: 20 })).toBe(true);
    await before.close();

    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const sensor = await mqtt.connectAsync(broker.url);
    cleanup.push(() => sensor.endAsync());
    const topic = 'vigil/s/d/cameras/cam1/pm25/reference';
    await sensor.publishAsync(topic, JSON.stringify({ ts: readingTs, pm25: 20 }), { qos: 1, retain: true });

    const { log, lines } = logLines('debug');
    // No frame comes (nothing listens there): the retained reading arrives with no frame kept, as after a
    // restart.
    const agent = serviceAgent(dir, broker.url, log, {
      id: 'cam1',
      source: `rtsp://127.0.0.1:${await freePort()}/none`,
      model: 'm',
      pm25: milanPm25(),
    });
    const sup = new ServiceSupervisor([new Pm25Service()], agent, log, 30);
    cleanup.push(() => sup.stopAll());
    await sup.startAll();
    const readings = () => lines.filter((l) => l.msg === 'PM2.5 reference reading');
    await until(() => readings().length > 0, 'the retained reading');
    expect(readings()).toEqual([
      expect.objectContaining({
        level: 'info',
        camera: 'cam1',
        pm25: 20,
        paired: false,
        reason: 'a reading at this ts is already paired (a re-delivery or a retained repeat)',
      }),
    ]);
  });
});
