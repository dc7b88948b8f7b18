import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { config as rxConfig } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { VigilConfig, type VigilConfigInput } from '../../../config/schema.js';
import { Agent } from '../../../agent/runtime/agent.js';
import type { AgentService } from '../../../agent/runtime/services.js';
import { CameraStatePayload, DetectionsPayload, StatusPayload } from '../../../agent/mqtt/payloads.js';
import type { Detector } from '../../../models/detect/detector.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import type { CameraState } from '../../../pipeline/camera/camera-state.js';
import { logLines } from '../../support/log-lines.js';
import { collect, startMosquitto } from '../../support/mosquitto.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { range, readCommitted, sleep } from '../../support/store-forward.js';

// The real thing end to end in one process: SQLite outbox in a tmp dir, ffmpeg reading vtest.avi,
// onnxruntime workers running yolo11n-320 on the CPU, and (where said) a real mosquitto.
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  // stop() kills ffmpeg without waiting for it to be reaped: a test must not see the previous one's.
  await until('the ffmpeg of a stopped agent gone', () => ffmpegChildren().length === 0, 20_000);
});

const video = sharedPath('media', 'vtest.avi');
const yolo = sharedPath('models', 'yolo11n-coco-int8-320.onnx');
const camera = (id: string, extra: object = {}) => ({
  id,
  source: video,
  model: 'm',
  fps: 10,
  loop: true,
  ...extra,
});

function setup(
  cameras: object[],
  extra: Partial<VigilConfigInput> = {},
  services: AgentService[] = [],
  modelRetryMs?: number,
) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-agent-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = VigilConfig.parse({
    site: 's',
    device: 'd',
    dataDir,
    http: { enabled: false },
    models: { m: { path: yolo, providers: ['cpu'], workers: 1 } },
    cameras,
    ...extra,
  });
  const { log, lines } = logLines();
  const agent = new Agent(config, {
    log,
    version: '9.9.9',
    services,
    // Capped at 1 s: on a slow machine the doubling would otherwise outgrow the test's waits.
    ...(modelRetryMs === undefined ? {} : { modelRetryMs, modelRetryMaxMs: 1000 }),
  });
  cleanup.push(() => agent.stop(2000));
  return { agent, lines, dataDir, dbFile: path.join(dataDir, 'outbox.db') };
}

/** Every detection event, in order, as services see it. */
function recordDetections(agent: Agent): DetectionEvent[] {
  const events: DetectionEvent[] = [];
  agent.detections$.subscribe((e) => events.push(e));
  return events;
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(25))
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
}

/** This process's ffmpeg children (running or not yet reaped). */
function ffmpegChildren(): string[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)]).toString();
    return out.split('\n').filter((l) => l.includes('ffmpeg'));
  } catch {
    return []; // ps exits 1 when there are no children at all
  }
}

/** Runs one blank frame through a detector: rejects once its worker pool is closed. */
function detectOnce(d: Detector) {
  const { width, height } = d.info.input;
  return d.detect({
    data: new Uint8Array(width * height * 3),
    letterbox: computeLetterbox(width, height, d.info.input),
  });
}

const seqsOn = (db: string, topic: string) =>
  readCommitted(db)
    .rows.filter((r) => r.topic === topic)
    .map((r) => r.seq);

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

  it('a camera whose source is dead fails alone: the other camera keeps detecting', async () => {
    const { agent, lines, dbFile } = setup([
      camera('live'),
      camera('dead', { source: '/nonexistent/dead.avi' }), // fails while 'live' runs
    ]);
    const events = recordDetections(agent);
    await agent.start();
    await until('dead failed', () => agent.cameras.get('dead')!.state.state === 'failed');
    const after = events.length;
    await until('3 more live detections', () => events.length >= after + 3);
    expect(agent.cameras.get('dead')!.state).toMatchObject({
      reason: 'source file not found: /nonexistent/dead.avi',
    });
    expect(agent.cameras.get('live')!.state.state).toBe('streaming');
    expect(new Set(events.map((e) => e.camera))).toEqual(new Set(['live']));
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'camera failed', camera: 'dead' }),
    );
    await agent.stop(2000);
    const [row] = readCommitted(dbFile).rows.filter((r) => r.topic === agent.topics.camera('dead').state);
    expect(row).toBeDefined(); // its retained state waits in the outbox like everything else
    expect(seqsOn(dbFile, agent.topics.camera('live').detections)).toEqual(range(1, events.length));
  });

  it('when no model can load, the start fails naming each model and why; nothing runs', async () => {
    const junk = path.join(tmpdir(), `vigil-junk-${process.pid}.onnx`);
    writeFileSync(junk, 'not an onnx model');
    cleanup.push(() => rmSync(junk, { force: true }));
    const { agent, dbFile } = setup([camera('b', { model: 'gone' }), camera('c', { model: 'junk' })], {
      models: { gone: { path: '/nonexistent/gone.onnx' }, junk: { path: junk } },
    });
    const err = await agent.start().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      /^model "gone": file not found: \/nonexistent\/gone\.onnx; model "junk": \S+junk/,
    );
    expect(agent.cameras.size).toBe(0);
    expect(agent.detectors.size).toBe(0);
    expect(() => agent.outbox.depth()).toThrow(/not open/);
    expect(ffmpegChildren()).toEqual([]);
    expect(readCommitted(dbFile).rows).toEqual([]);
    await agent.stop(2000); // already stopped: a no-op
  });

  it('a model that cannot load fails only its cameras; it is retried and its cameras start once it loads', async () => {
    const later = path.join(tmpdir(), `vigil-later-${process.pid}.onnx`);
    cleanup.push(() => rmSync(later, { force: true }));
    const { agent, lines, dbFile } = setup(
      [camera('a'), camera('b', { model: 'later' })],
      {
        models: {
          m: { path: yolo, providers: ['cpu'], workers: 1 },
          later: { path: later, providers: ['cpu'] },
        },
      },
      [],
      100,
    );
    const events = recordDetections(agent);
    const states: CameraState[] = [];
    agent.states$.subscribe((st) => states.push(st));
    await agent.start();
    const reason = `model "later": file not found: ${later}`;
    expect(agent.cameras.get('b')?.state).toMatchObject({ state: 'failed', reason });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'model could not be loaded: its cameras wait for it, the others run',
        model: 'later',
        cameras: ['b'],
        retryInS: 0.1,
      }),
    );
    // Camera a runs meanwhile.
    await until('a detects', () => events.some((e) => e.camera === 'a'));
    // Retried with a growing delay, reported each time.
    await until(
      'two retries',
      () => lines.filter((l) => l.msg === 'model still cannot be loaded').length >= 2,
    );
    expect(lines.filter((l) => l.msg === 'model still cannot be loaded').map((l) => l.retryInS)).toEqual(
      expect.arrayContaining([0.2, 0.4]),
    );
    expect(events.some((e) => e.camera === 'b')).toBe(false);
    // The file arrives: the next attempt loads it and camera b starts.
    copyFileSync(yolo, `${later}.part`);
    renameSync(`${later}.part`, later); // whole, never half-copied when an attempt reads it
    await until('b detects', () => events.some((e) => e.camera === 'b'));
    expect(agent.cameras.get('b')?.state.state).toBe('streaming');
    expect(agent.detectors.has('later')).toBe(true);
    await agent.stop(2000);
    // Reported as each happened (states$ is what the outbox and the status page get): failed at start and
    // at each failed retry, then live.
    const bStates = states.filter((st) => st.camera === 'b').map((st) => st.state);
    expect(bStates.slice(0, 3)).toEqual(['failed', 'failed', 'failed']);
    // The same failure, reported again at each retry, keeps the time it began.
    const failedSince = states
      .filter((st) => st.camera === 'b' && st.state === 'failed')
      .map((st) => st.since);
    expect(new Set(failedSince).size).toBe(1);
    expect(bStates).toContain('streaming');
    expect(bStates.at(-1)).toBe('stopped');
    expect(readCommitted(dbFile).rows.some((r) => r.topic === agent.topics.camera('b').state)).toBe(true);
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
