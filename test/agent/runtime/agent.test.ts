import path from 'node:path';
import Database from 'better-sqlite3';
import { config as rxConfig } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentService } from '../../../agent/runtime/services.js';
import { CameraStatePayload, DetectionsPayload, StatusPayload } from '../../../agent/mqtt/payloads.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import { collect, startMosquitto } from '../../support/mosquitto.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { range, readCommitted, sleep } from '../../support/store-forward.js';
import {
  camera,
  cleanUp,
  cleanup,
  detectOnce,
  ffmpegChildren,
  recordDetections,
  seqsOn,
  setup,
  until,
  yolo,
} from './agent-fixture.js';

// The real thing end to end in one process (agent-fixture.ts), and (where said) a real mosquitto.
// Failing cameras and models: agent-failures.test.ts.
afterEach(cleanUp);

describe.skipIf(!hasShared)('Agent, with real ffmpeg, onnxruntime and outbox', () => {
  it('without a broker, commits each detection before services see it and keeps it; disabled cameras stay off', async () => {
    const violations: string[] = [];
    const events: DetectionEvent[] = [];
    // A service reading the outbox file through its own connection the moment each event reaches it.
    let db: Database.Database | undefined;
    const checker: AgentService = {
      name: 'checker',
      start: (a) => {
        db = new Database(path.join(a.config.dataDir, 'outbox.db'), { readonly: true });
        const last = db.prepare('SELECT seq, payload FROM outbox WHERE topic = ? ORDER BY pk DESC LIMIT 1');
        a.detections$.subscribe((e) => {
          events.push(e);
          const row = last.get(a.topics.camera('c1').detections) as
            { seq: number; payload: Buffer } | undefined;
          const p = row && DetectionsPayload.parse(JSON.parse(row.payload.toString()));
          if (row?.seq !== events.length || p?.pts !== Math.round(e.pts * 1000) / 1000)
            violations.push(
              `event ${events.length} (pts ${e.pts}): committed row ${JSON.stringify(p ?? null)}`,
            );
        });
      },
      stop: () => void db?.close(),
    };
    const { agent, lines, dbFile } = setup(
      [camera('c1'), { id: 'off', source: '/nonexistent/off.avi', model: 'gone', enabled: false }],
      {
        models: {
          m: { path: yolo, providers: ['cpu'], workers: 1 },
          gone: { path: '/nonexistent/gone.onnx' },
        },
      },
      [checker],
    );
    await agent.start();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'no MQTT broker configured: results are kept in the outbox until one is',
      }),
    );
    expect(agent.link).toBeUndefined();
    // The disabled camera's model was never loaded (its file does not exist), nor the camera started.
    expect([...agent.detectors.keys()]).toEqual(['m']);
    expect([...agent.cameras.keys()]).toEqual(['c1']);
    await until('5 detections', () => events.length >= 5);
    await agent.stop(2000);

    expect(violations).toEqual([]);
    expect(events.every((e) => e.camera === 'c1' && e.modelId === 'm' && e.srcWidth === 768)).toBe(true);
    // Still there after the stop, in order, one per event: waiting for a broker to come.
    expect(seqsOn(dbFile, agent.topics.camera('c1').detections)).toEqual(range(1, events.length));
    const state = readCommitted(dbFile).rows.filter((r) => r.topic.includes('/state'));
    expect(state.map((r) => r.topic)).toEqual([agent.topics.camera('c1').state]); // coalesced, c1 only
  });

  it("keeps its models in camera order whichever loads first (the first is /api/detect's default)", async () => {
    // Found auditing: the 640 model of the first camera finished loading after the 320 one of the second,
    // so the default model of POST /api/detect (and the status page's order) changed from start to start.
    const { agent } = setup(
      [
        { ...camera('big'), model: 'v8', fps: 1 },
        { ...camera('small'), model: 'm', fps: 1 },
      ],
      {
        models: {
          m: { path: yolo, providers: ['cpu'], workers: 1 },
          v8: { path: sharedPath('models', 'yolov8n-coco-int8-640.onnx'), providers: ['cpu'], workers: 2 },
        },
      },
    );
    await agent.start();
    expect([...agent.detectors.keys()]).toEqual(['v8', 'm']);
  });

  it('stop() is idempotent: a second caller waits for the same stop; nothing is left running', async () => {
    const { agent } = setup([camera('c1')]);
    const events = recordDetections(agent);
    let completed = false;
    agent.detections$.subscribe({ complete: () => (completed = true) });
    await agent.start();
    await until('a detection', () => events.length > 0);
    expect(ffmpegChildren()).toHaveLength(1);
    const detector = agent.detectors.get('m')!;

    const first = agent.stop(2000);
    await agent.stop(2000); // e.g. SIGTERM after SIGINT: resolves only once the agent has stopped
    expect(completed).toBe(true);
    expect(() => agent.outbox.depth()).toThrow(/not open/);
    await first;
    await agent.stop(2000);
    await expect(detectOnce(detector)).rejects.toThrow('inference pool is closed');
    expect(rxConfig.onUnhandledError).toBeNull();
    expect(agent.cameras.get('c1')!.state).toMatchObject({ state: 'stopped' });
    await until('ffmpeg gone', () => ffmpegChildren().length === 0, 20_000);
    const seen = events.length;
    await sleep(300);
    expect(events).toHaveLength(seen);
  });

  it('stop() during start(): nothing starts after it, and the models loaded meanwhile are closed', async () => {
    const starts: string[] = [];
    const service: AgentService = { name: 'probe', start: () => void starts.push('start'), stop: () => {} };
    const { agent } = setup([camera('c1')], {}, [service]);
    const starting = agent.start();
    await agent.stop(2000);
    expect(agent.detectors.size).toBe(0); // stopped while the model was still loading (workers, warm-up)
    await starting;
    expect(starts).toEqual([]);
    expect(agent.cameras.size).toBe(0);
    expect([...agent.detectors.keys()]).toEqual(['m']);
    await expect(detectOnce(agent.detectors.get('m')!)).rejects.toThrow('inference pool is closed');
    await sleep(300);
    expect(ffmpegChildren()).toEqual([]);
  });

  it('with a broker: online, then each committed detection and the camera state, then a retained offline', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const sub = await collect(broker.url, 'acme/#');
    cleanup.push(() => sub.close());
    const { agent, dbFile } = setup([camera('c1')], { mqtt: { url: broker.url, baseTopic: 'acme' } });
    const events = recordDetections(agent);
    await agent.start();
    const t = agent.topics.camera('c1');
    const on = (topic: string) => sub.messages.filter((m) => m.topic === topic);
    const json = (m: { payload: Buffer }) => JSON.parse(m.payload.toString()) as unknown;
    await sub.waitFor(() => on(t.detections).length >= 4);
    expect(StatusPayload.parse(json(on('acme/s/d/status')[0]!))).toMatchObject({
      state: 'online',
      version: '9.9.9',
    });
    expect(on(t.state).map((m) => CameraStatePayload.parse(json(m)).state)).toContain('streaming');
    await agent.stop(2000);

    await sub.waitFor(() => on('acme/s/d/status').length >= 2);
    expect(StatusPayload.parse(json(on('acme/s/d/status')[1]!))).toMatchObject({ state: 'offline' });
    const later = await collect(broker.url, 'acme/s/d/status');
    cleanup.push(() => later.close());
    await later.waitFor((m) => m.length === 1);
    expect(later.messages[0]).toMatchObject({ retain: true });
    expect(json(later.messages[0]!)).toMatchObject({ state: 'offline' });
    // Store and forward: every event is either at the broker or still in the outbox, by its seq.
    const published = on(t.detections).map((m) => DetectionsPayload.parse(json(m)));
    expect(published.every((p) => p.model === 'm' && p.provider === 'cpu' && p.camera === 'c1')).toBe(true);
    const kept = seqsOn(dbFile, t.detections);
    expect([...new Set([...published.map((p) => p.seq), ...kept])].sort((a, b) => a! - b!)).toEqual(
      range(1, events.length),
    );
  });
});
