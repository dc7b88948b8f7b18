import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../../agent/outbox/outbox.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { DriftService } from '../../../agent/services/drift-service.js';
import { silentLogger } from '../../../config/logger.js';
import { VigilConfig } from '../../../config/schema.js';
import type { Pm25Payload } from '../../../models/pm25/payloads.js';
import { DriftPayload, DriftSummaryPayload } from '../../../pipeline/drift/payloads.js';
import { syntheticEvent } from '../../pipeline/drift/support.js';

// The real-video, real-agent acceptance runs are in test/e2e/drift.test.ts.
describe('drift service in an agent (real outbox and drift.db, events fed by hand)', () => {
  const setup = (drift: object = {}) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-drift-service-'));
    const config = VigilConfig.parse({
      site: 'yard',
      device: 'box1',
      dataDir: dir,
      http: { enabled: false },
      models: { det: { path: path.join(dir, 'det.onnx') } },
      cameras: [{ id: 'cam1', source: path.join(dir, 'a.avi'), model: 'det' }],
      drift: { windowMinutes: 1 / 60, minFrames: 5, minSamples: 5, ...drift },
    });
    const agent = new Agent(config, { log: silentLogger, version: 'test', services: [] });
    agent.outbox = Outbox.open(path.join(dir, 'outbox.db'), config.outbox);
    const camera = {
      config: config.cameras[0]!,
      state: { camera: 'cam1', state: 'streaming' as const, since: 0 },
    };
    agent.cameras.set('cam1', camera as never);
    const service = new DriftService(config.drift!);
    service.start(agent);
    const messages = () =>
      agent.outbox.rowsAfter(0, 1000).map((r) => ({
        topic: r.topic,
        retain: r.retain,
        body: JSON.parse(r.payload.toString()) as unknown,
      }));
    const close = () => {
      agent.outbox.close();
      rmSync(dir, { recursive: true, force: true });
    };
    return { agent, camera, service, messages, close };
  };

  it('a camera change closes the open window and starts a new key; a reload with nothing changed does not', async () => {
    const { agent, camera, service, messages, close } = setup();
    for (let i = 0; i < 15; i++) agent.detections$.next(syntheticEvent(i, 2));
    camera.config = { ...camera.config }; // a reload: the same settings in a new object
    for (let i = 15; i < 25; i++) agent.detections$.next(syntheticEvent(i, 2));
    camera.config = { ...camera.config, source: camera.config.source.replace('a.avi', 'b.avi') };
    for (let i = 25; i < 32; i++) agent.detections$.next(syntheticEvent(i, 2));
    await service.stop();
    const windows = messages()
      .filter((m) => m.topic === 'vigil/yard/box1/cameras/cam1/drift')
      .map((m) => DriftPayload.parse(m.body));
    expect(windows.map((w) => [w.window.start, w.window.frames, w.status])).toEqual([
      [0, 10, 'no-reference'],
      [1000, 10, 'no-reference'],
      [2000, 5, 'no-reference'], // closed by the change of source
      [2000, 5, 'no-reference'], // the new key's first window
      [3000, 2, 'too-few-samples'], // flushed at stop
    ]);
    const revisions = windows.map((w) => w.configRevision);
    expect(new Set(revisions.slice(0, 3)).size).toBe(1);
    expect(revisions[3]).not.toBe(revisions[0]);
    expect(revisions[4]).toBe(revisions[3]);
    // one retained summary per camera waits in the outbox (a newer one replaces an unsent older one)
    const summaries = messages().filter((m) => m.topic.endsWith('/cam1/drift/summary'));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.retain).toBe(true);
    expect(DriftSummaryPayload.parse(summaries[0]!.body)).toMatchObject({ configRevision: revisions[3] });
    close();
  });

  // Each camera id a push ever removed kept its open window and its summary in the service for good.
  it('a camera a push removes: its open window is closed and stored, its accounting and summary let go', async () => {
    const { agent, service, messages, close } = setup();
    for (let i = 0; i < 13; i++) agent.detections$.next(syntheticEvent(i, 2));
    expect(service.summaries.has('cam1')).toBe(true);
    const windows = () => messages().filter((m) => m.topic === 'vigil/yard/box1/cameras/cam1/drift');
    const before = windows().length;
    agent.cameras.delete('cam1');
    agent.config = { ...agent.config, cameras: [] };
    expect(windows()).toHaveLength(before + 1); // the open window, flushed
    expect(service.summaries.has('cam1')).toBe(false);
    await service.stop();
    expect(windows()).toHaveLength(before + 1); // nothing of it left to flush at stop
    close();
  });

  it('after a restart the page has the stored state and its drivers from the first frame, not "waiting"', async () => {
    const { agent, service, close } = setup({ autoBaselineHours: 3 / 3600 });
    const frame = (i: number, v: number) => {
      const e = syntheticEvent(i, 1);
      e.frame.data = new Uint8Array(320 * 320 * 3).fill(v);
      return e;
    };
    for (let i = 0; i < 40; i++) agent.detections$.next(frame(i, 120)); // builds a reference
    for (let i = 40; i < 53; i++) agent.detections$.next(frame(i, 40)); // darker: alarm
    const before = service.summaries.get('cam1')!;
    expect(before).toMatchObject({ state: 'alarm' });
    await service.stop(); // flushes a short window: too few frames, the state holds

    const again = new DriftService(agent.config.drift!);
    again.start(agent);
    expect(again.summaries.get('cam1')).toBeUndefined(); // no frame yet
    agent.detections$.next(frame(60, 40));
    expect(again.summaries.get('cam1')).toMatchObject({
      state: 'alarm',
      stateSince: before.stateSince,
      score: before.score,
      drivers: before.drivers,
      lastWindow: { status: 'too-few-samples' },
    });
    await again.stop();
    close();
  });

  it('counts the PM2.5 service results of the camera: estimates and gate outcomes', async () => {
    const { agent, service, messages, close } = setup();
    const pm25 = (pm: number | null, framesUsed: number, flags: Record<string, number>) =>
      ({ pm25: pm, framesUsed, flags }) as unknown as Pm25Payload;
    agent.pm25.set('cam1', [pm25(99, 5, {})]); // before the camera's accounting began: not counted
    agent.detections$.next(syntheticEvent(0, 1));
    agent.pm25.get('cam1')!.push(pm25(12.5, 3, { fog: 2 }), pm25(null, 0, { fog: 4, dark: 1 }));
    for (let i = 1; i < 8; i++) agent.detections$.next(syntheticEvent(i, 1));
    await service.stop();
    const [w] = messages()
      .filter((m) => m.topic.endsWith('/drift'))
      .map((m) => DriftPayload.parse(m.body));
    expect(w!.histograms.hists['pm25']!.counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(w!.histograms.keyed['quality.gate']).toEqual({ pass: 3, fog: 6, dark: 1 });
    close();
  });

  it('imageEvery: pixels of every n-th frame, detections of every frame', async () => {
    const { agent, service, messages, close } = setup({ imageEvery: 3 });
    for (let i = 0; i < 10; i++) {
      const e = syntheticEvent(i, 1);
      e.frame.data = new Uint8Array(320 * 320 * 3).fill(90 + i);
      agent.detections$.next(e);
    }
    await service.stop();
    const [w] = messages()
      .filter((m) => m.topic.endsWith('/drift'))
      .map((m) => DriftPayload.parse(m.body));
    expect(w!.window).toMatchObject({ frames: 10, imageFrames: 4 }); // frames 0, 3, 6, 9
    expect(w!.histograms.hists['image.brightness']).toBeDefined();
    expect(service.summaries.get('cam1')).toMatchObject({ camera: 'cam1', state: 'ok' });
    close();
  });
});
