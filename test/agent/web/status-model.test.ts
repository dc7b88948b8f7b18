import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../config/logger.js';
import { OutboxConfig, VigilConfig } from '../../../config/schema.js';
import { MqttLink } from '../../../agent/mqtt/mqtt-link.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { LabelCounts } from '../../../agent/web/label-counts.js';
import { RecentErrors } from '../../../agent/web/recent-errors.js';
import { attachStatusHooks, detachStatusHooks } from '../../../agent/web/status-hooks.js';
import { configRevision, statusModel } from '../../../agent/web/status-model.js';
import { StatusPayload } from '../../../agent/web/status-schema.js';
import type { Detector } from '../../../models/detect/detector.js';
import { CameraStats } from '../../../pipeline/camera/camera-stats.js';
import type { CameraStateName } from '../../../pipeline/camera/camera-state.js';
import { loadSharedDetector } from '../../support/detectors.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { zidaneEvent } from '../../support/zidane-event.js';

const log = createLogger({ level: 'error' });
// Every credential the config can hold; none may appear anywhere in the payload.
const camUser = 'cam-user-q7';
const camPassword = 'camPa55word-zz';
const mqttUser = 'mqtt-user-k3';
const mqttUrlPassword = 'urlPa55word-xx';
const mqttPassword = 'mqttPa55word-yy';
const token = 'tok-5ecret-0123456789abcdef';
const hashSalt = 'c2FsdHNhbHRzYWx0';
const hashKey = 'a2V5a2V5a2V5a2V5';
const secrets = [camUser, camPassword, mqttUser, mqttUrlPassword, mqttPassword, token, hashSalt, hashKey];

function configWith(over: { camPassword?: string; token?: string; fps?: number } = {}) {
  const cam = `rtsp://${camUser}:${over.camPassword ?? camPassword}@10.0.0.5:554/stream`;
  return VigilConfig.parse({
    site: 'yard-site',
    device: 'box-1',
    mqtt: {
      url: `mqtt://${mqttUser}:${mqttUrlPassword}@127.0.0.1:9`,
      username: mqttUser,
      password: mqttPassword,
    },
    http: {
      auth: {
        token: over.token ?? token,
        user: 'admin',
        passwordHash: `scrypt:16384:8:1:${hashSalt}:${hashKey}`,
      },
    },
    models: { det: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx') } },
    cameras: [
      {
        id: 'yard',
        name: 'Yard',
        source: sharedPath('media', 'vtest.avi'),
        model: 'det',
        fps: over.fps ?? 5,
      },
      { id: 'gate', source: cam, model: 'det' },
      { id: 'door', source: cam, model: 'det', enabled: false },
    ],
  });
}

// A real agent, not started: real CameraStats in its camera runtimes, a real outbox, an MQTT link never
// started (no broker), a real detector and a real last event. The model only reads these.
describe.skipIf(!hasShared)('statusModel: the payload behind the page, /api/status and /api/events', () => {
  let dir: string;
  let agent: Agent;
  let detector: Detector;
  const labels = new LabelCounts();
  const errors = new RecentErrors();
  const now = () => agent.startedAt + 65_000;
  const build = (a: Agent = agent) =>
    statusModel(a, { now: now(), health: null, errors: errors.list(), labels });

  /** Puts camera `id` in `state` (a runtime as startCamera makes it), or removes its runtime (`null`). */
  function setState(id: string, state: CameraStateName | null, reason?: string) {
    if (state === null) return void agent.cameras.delete(id);
    const config = agent.config.cameras.find((c) => c.id === id)!;
    const prev = agent.cameras.get(id);
    agent.cameras.set(id, {
      ...prev,
      config,
      stats: prev?.stats ?? new CameraStats(),
      state: { camera: id, state, since: agent.startedAt, ...(reason ? { reason } : {}) },
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-status-'));
    agent = new Agent(configWith(), { log, version: '1.2.3-test', services: [] });
    agent.outbox = Outbox.open(path.join(dir, 'outbox.db'), OutboxConfig.parse({ synchronous: 'OFF' }));
    agent.link = new MqttLink({
      cfg: agent.config.mqtt!,
      statusTopic: agent.topics.status,
      outbox: agent.outbox,
      log,
      version: 'test',
    });
    detector = await loadSharedDetector('det', 'yolo11n-coco-int8-320.onnx');
    agent.detectors.set('det', detector);
    agent.outbox.enqueue({ topic: 'vigil/t/x', priority: 0, build: () => ({ hello: 1 }) });
  }, 60_000);

  afterAll(async () => {
    await detector?.close();
    agent?.outbox?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('validates against the strict StatusPayload schema and shows what the agent has', async () => {
    setState('yard', 'streaming');
    const yard = agent.cameras.get('yard')!;
    Object.assign(yard.stats, {
      framesIn: 40,
      processed: 30,
      dropped: 4,
      gated: 6,
      lastFrameAt: now() - 100,
    });
    const person = { label: 'person', classId: 0, score: 0.9, box: { x1: 1, y1: 2, x2: 30, y2: 60 } };
    yard.last = await zidaneEvent({ spec: detector.info.input, frameNo: 7, detections: [person, person] });
    labels.add('yard', [person, person]);
    setState('gate', 'failed', `cannot open rtsp://${camUser}:${camPassword}@10.0.0.5:554/stream: 401`);
    errors.add('camera', `rtsp://${camUser}:${camPassword}@10.0.0.5/stream: 401 Unauthorized`, 'gate');

    const s = StatusPayload.parse(build());
    expect(s).toMatchObject({ site: 'yard-site', device: 'box-1', version: '1.2.3-test', uptimeS: 65 });
    expect(s.config).toEqual({ revision: configRevision(agent.config), source: 'local' });
    expect(s.config.revision).toMatch(/^[0-9a-f]{12}$/);
    expect(s.cameras.map((c) => c.id)).toEqual(['yard', 'gate', 'door']);
    const [y, g, d] = s.cameras as [(typeof s.cameras)[0], (typeof s.cameras)[0], (typeof s.cameras)[0]];
    expect(y).toMatchObject({
      name: 'Yard',
      state: { state: 'streaming' },
      fps: { configured: 5 },
      frames: { in: 40, processed: 30, dropped: 4, gated: 6, inferenceErrors: 0 },
      inference: { provider: 'cpu' },
      lastFrameAt: now() - 100,
      // zidane.jpg (1280×720) at a 320 input: 320×180 without the letterbox bars.
      snapshot: { frameNo: 7, url: '/api/cameras/yard/snapshot.jpg?frame=7', width: 320, height: 180 },
      detections: { last: 2, recent: [{ label: 'person', count: 2, max: 2 }] },
    });
    expect(g.source).toBe('rtsp://***@10.0.0.5:554/stream');
    expect(g.state).toEqual({
      state: 'failed',
      reason: 'cannot open rtsp://***@10.0.0.5:554/stream: 401',
      since: agent.startedAt,
    });
    expect(g.snapshot).toBeNull();
    expect(g.lastFrameAt).toBeNull();
    expect(d.state).toEqual({ state: 'stopped', reason: 'disabled in config', since: agent.startedAt });
    expect(s.models).toEqual([
      {
        id: 'det',
        family: 'yolov8',
        provider: 'cpu',
        refused: [],
        workers: 1,
        input: { width: 320, height: 320 },
      },
    ]);
    expect(s.mqtt).toMatchObject({ configured: true, url: 'mqtt://***@127.0.0.1:9', state: 'disconnected' });
    expect(s.outbox.rows).toBe(1);
    expect(s.health).toMatchObject({ sampledAt: null, cpuPercent: null, gpu: null });
    expect(s.errors).toHaveLength(1);
  });

  it('carries no credential from the config anywhere: URLs, reasons, errors, revision', () => {
    setState('gate', 'failed', `cannot open rtsp://${camUser}:${camPassword}@10.0.0.5:554/stream: 401`);
    errors.add('mqtt', `mqtt://${mqttUser}:${mqttUrlPassword}@127.0.0.1:9 refused`);
    const text = JSON.stringify(build());
    for (const secret of secrets) expect(text.includes(secret), secret).toBe(false);
    // The checks above would pass on an empty payload: the redacted places are really there.
    expect(text).toContain('rtsp://***@10.0.0.5:554/stream');
    expect(text).toContain('mqtt://***@127.0.0.1:9 refused');
  });

  it('overall: ok with every enabled camera streaming, degraded with some, down with none', () => {
    // `door` is disabled: never counted.
    setState('door', 'failed');
    setState('yard', 'streaming');
    setState('gate', 'streaming');
    expect(build().overall).toBe('ok');
    setState('gate', 'stalled');
    expect(build().overall).toBe('degraded');
    setState('yard', 'connecting');
    expect(build().overall).toBe('down');
    setState('yard', 'streaming');
    setState('gate', null); // enabled but not started: not streaming
    const s = build();
    expect(s.cameras.find((c) => c.id === 'gate')!.state).toMatchObject({
      state: 'stopped',
      reason: 'not started',
    });
    expect(s.overall).toBe('degraded');
    setState('door', null);
  });

  it('config revision: stable, blind to secrets, moved by any other change; a fleet revision wins', () => {
    const base = configRevision(configWith());
    expect(configRevision(configWith())).toBe(base);
    expect(configRevision(configWith({ camPassword: 'other-pass', token: 'another-token-0123456789' }))).toBe(
      base,
    );
    expect(configRevision(configWith({ fps: 6 }))).not.toBe(base);
    const lastPush = { at: 1_700_000_000_000, result: 'applied' as const, revision: 'r42' };
    attachStatusHooks(agent, { fleet: { status: () => ({ revision: 'r42', lastPush }) } });
    try {
      const s = StatusPayload.parse(build());
      expect(s.config).toEqual({ revision: 'r42', source: 'fleet' });
      expect(s.fleet).toEqual({ lastPush });
    } finally {
      detachStatusHooks(agent);
    }
    expect(build().fleet).toBeUndefined();
  });

  it('before start (no outbox, no link) and without MQTT it still validates; lists are capped', () => {
    const fresh = new Agent(configWith(), { log, version: 't', services: [] });
    const s = StatusPayload.parse(
      statusModel(fresh, {
        now: fresh.startedAt,
        health: null,
        errors: Array.from({ length: 60 }, (_, i) => ({
          at: i,
          source: 'api' as const,
          message: `e${i}`,
          count: 1,
        })),
        labels,
      }),
    );
    expect(s.outbox).toEqual({ rows: 0, bytes: 0, oldestAgeMs: 0, drops: {} });
    expect(s.mqtt).toEqual({ configured: true, url: 'mqtt://***@127.0.0.1:9' });
    expect(s.overall).toBe('down');
    expect(s.cameras[0]!.state).toMatchObject({ state: 'stopped', reason: 'not started' });
    expect(s.cameras[0]!.inference.provider).toBeNull();
    expect(s.errors.map((e) => e.message)).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
    const noMqtt = new Agent(VigilConfig.parse({ ...configWith(), mqtt: undefined }), {
      log,
      version: 't',
      services: [],
    });
    expect(statusModel(noMqtt, { now: noMqtt.startedAt, health: null, errors: [], labels }).mqtt).toEqual({
      configured: false,
    });
  });

  it('drift on: a camera with no summary yet is driftWaiting, not "not configured"; one with a summary is not', () => {
    const withDrift = new Agent(VigilConfig.parse({ ...configWith(), drift: {} }), {
      log,
      version: 't',
      services: [],
    });
    const summary = { state: 'ok', stateSince: 1, score: null, drivers: [], ts: 2 };
    attachStatusHooks(withDrift, { drift: { summary: (id) => (id === 'yard' ? summary : undefined) } });
    try {
      const s = StatusPayload.parse(
        statusModel(withDrift, { now: withDrift.startedAt, health: null, errors: [], labels }),
      );
      const cam = (id: string) => s.cameras.find((c) => c.id === id)!;
      expect(cam('yard').drift).toMatchObject({ state: 'ok' });
      expect(cam('yard').driftWaiting).toBeUndefined();
      expect(cam('gate').drift).toBeUndefined();
      expect(cam('gate').driftWaiting).toBe(true);
      // A disabled camera gets no drift, and is not waiting for it either.
      expect(cam('door').driftWaiting).toBeUndefined();
    } finally {
      detachStatusHooks(withDrift);
    }
    // Drift off: neither.
    const off = statusModel(agent, { now: now(), health: null, errors: [], labels });
    expect(off.cameras.some((c) => c.driftWaiting)).toBe(false);
  });
});
