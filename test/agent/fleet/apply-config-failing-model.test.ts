import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import type { FleetBodyInput } from '../../../agent/fleet/fleet-document.js';
import { ConfigResultPayload } from '../../../agent/fleet/fleet-payloads.js';
import { FleetService } from '../../../agent/fleet/fleet-service.js';
import { fleetPrivateKey, generateFleetKey, signDocument } from '../../../agent/fleet/fleet-signature.js';
import { Agent } from '../../../agent/runtime/agent.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import { logLines, type LogRecord } from '../../support/log-lines.js';
import { collect, startMosquitto, type Collector, type Mosquitto } from '../../support/mosquitto.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { sleep } from '../../support/store-forward.js';

// A fleet push to a box on which one model has failed since start-up (its file is missing): the real agent
// (ffmpeg on vtest.avi, onnxruntime on yolo11n-320), its real fleet service, a real mosquitto, real files.
// Camera `a` runs on model `m`; camera `b` waits for model `later`, retried every 0.3-1 s here.

const video = sharedPath('media', 'vtest.avi');
const yolo = sharedPath('models', 'yolo11n-coco-int8-320.onnx');
const key = generateFleetKey();
const work = mkdtempSync(path.join(tmpdir(), 'vigil-failing-model-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cam = (id: string, model: string, fps = 2) => ({ id, source: video, model, fps, loop: true });
const models = (later: string) => ({
  m: { path: yolo, providers: ['cpu' as const], workers: 1 },
  later: { path: later, providers: ['cpu' as const], workers: 1 },
});
const notFound = (file: string) => `model "later": file not found: ${file}`;
const retryLines = (lines: LogRecord[], from = 0) =>
  lines.slice(from).filter((l) => l.msg === 'model still cannot be loaded');

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe.skipIf(!hasShared)('a fleet push while a model fails to load', () => {
  let broker: Mosquitto;
  let sub: Collector;
  beforeAll(async () => {
    broker = await startMosquitto();
    sub = await collect(broker.url, 'vigil/yard/+/config/#');
  });
  afterAll(async () => {
    await sub?.close();
    await broker?.stop();
  });

  const results = (device: string) =>
    sub.messages
      .filter((m) => m.topic === `vigil/yard/${device}/config/result` && m.payload.length > 0)
      .map((m) => ConfigResultPayload.parse(JSON.parse(m.payload.toString())));

  /** A box whose model `later` is at `laterPath` (missing): `a` runs, `b` waits. */
  async function startBox(device: string, laterPath: string) {
    const config = validateConfig({
      site: 'yard',
      device,
      dataDir: mkdtempSync(path.join(work, `${device}-`)),
      http: { enabled: false },
      mqtt: { url: broker.url },
      models: models(laterPath),
      cameras: [cam('a', 'm'), cam('b', 'later')],
      fleet: { keys: [key.publicBase64], healthDeadlineS: 30 },
    });
    const { log, lines } = logLines();
    const agent = new Agent(config, {
      log,
      version: '9.9.9',
      services: [new FleetService(config.fleet!)],
      modelRetryMs: 300,
      modelRetryMaxMs: 1000,
    });
    cleanup.push(() => agent.stop(2000));
    const events: DetectionEvent[] = [];
    agent.detections$.subscribe((e) => events.push(e));
    await agent.start();
    await sub.waitFor((all) => all.some((m) => m.topic === `vigil/yard/${device}/config/state`), 10_000);
    expect(agent.cameras.get('b')!.state).toMatchObject({ state: 'failed', reason: notFound(laterPath) });
    const detects = async (camera: string, after = events.length) => {
      const n = () => events.slice(after).filter((e) => e.camera === camera).length;
      for (const end = Date.now() + 30_000; n() < 2; await sleep(50))
        if (Date.now() > end) throw new Error(`camera ${camera} did not detect`);
    };
    /** Publishes a signed document for this box and waits for its result. */
    const push = async (revision: number, config: FleetBodyInput) => {
      const doc = signDocument(
        { revision, target: `device:yard/${device}`, config },
        fleetPrivateKey(key.privatePem),
      );
      await sub.client.publishAsync(`vigil/yard/${device}/config/set`, JSON.stringify(doc), { qos: 1 });
      await sub.waitFor(() => results(device).some((r) => r.revision === revision), 60_000);
      return results(device).find((r) => r.revision === revision)!;
    };
    await detects('a', 0);
    return { agent, lines, events, detects, push };
  }

  it('a push that changes other things applies; the failing model is retried on, with the pushed config', async () => {
    const missing = path.join(work, 'later.onnx');
    const box = await startBox('box1', missing);
    const { agent, lines, events } = box;

    // Only camera a changes: applied, a restarts with its new fps, b still waits; the result says why.
    const r1 = await box.push(1, { models: models(missing), cameras: [cam('a', 'm', 4), cam('b', 'later')] });
    expect(r1).toMatchObject({ status: 'applied', errors: [], changed: ['cameras.a: fps'], running: 1 });
    expect(r1.warnings).toEqual([`${notFound(missing)} (still retried; camera b waits for it)`]);
    expect(agent.cameras.get('a')!.config.fps).toBe(4);
    await box.detects('a');
    expect(agent.cameras.get('b')!.state).toMatchObject({ state: 'failed', reason: notFound(missing) });
    // The retry goes on (the pushed config holds the same model): attempts after the push, on the same file.
    const afterR1 = lines.length;
    await until(() => retryLines(lines, afterR1).length >= 1);

    // The failing model moved to another missing file: loaded as part of the push, fails, rolled back.
    const other = path.join(work, 'other.onnx');
    const r2 = await box.push(2, { models: models(other), cameras: [cam('a', 'm', 4), cam('b', 'later')] });
    expect(r2).toMatchObject({ status: 'rolled_back', errors: [notFound(other)], running: 1 });
    const afterR2 = lines.length;
    await until(() => retryLines(lines, afterR2).length >= 2);
    // The retry runs on the previous config: never the rolled-back path.
    expect(retryLines(lines, afterR1).map((l) => l.reason)).toEqual(
      retryLines(lines, afterR1).map(() => notFound(missing)),
    );
    expect(agent.cameras.get('b')!.state).toMatchObject({ state: 'failed', reason: notFound(missing) });

    // A change to the waiting camera itself is taken: b still waits, with its new settings.
    const r3 = await box.push(3, {
      models: models(missing),
      cameras: [cam('a', 'm', 4), cam('b', 'later', 3)],
    });
    expect(r3).toMatchObject({
      status: 'applied',
      changed: ['cameras.b: fps'],
      warnings: [expect.any(String)],
    });
    expect(agent.cameras.get('b')!.config.fps).toBe(3);
    expect(agent.cameras.get('b')!.state.state).toBe('failed');

    // The file arrives: the retry loads it and b starts, on the config the fleet pushed.
    const before = events.length;
    copyFileSync(yolo, `${missing}.part`);
    renameSync(`${missing}.part`, missing); // whole, never half-copied when an attempt reads it
    await box.detects('b', before);
    expect(agent.cameras.get('b')!.config.fps).toBe(3);
    expect(agent.cameras.get('b')!.state.state).toBe('streaming');
    expect(agent.modelRetry.failing().size).toBe(0);
  }, 120_000);

  it('a push pointing the failing model to a good file loads it and health-checks its camera; a rolled-back one leaves the retry as it was', async () => {
    const missing = path.join(work, 'never.onnx');
    const box = await startBox('box2', missing);
    const { agent, lines } = box;
    const good = path.join(work, 'good.onnx');
    copyFileSync(yolo, good);

    // The model loads, but the push also adds a camera that never delivers: all of it is rolled back,
    // b waits again with its reason, and the retry goes on with the previous file.
    const dead = { id: 'dead', source: '/nonexistent/dead.avi', model: 'm', fps: 2 };
    const r1 = await box.push(1, { models: models(good), cameras: [cam('a', 'm'), cam('b', 'later'), dead] });
    expect(r1).toMatchObject({ status: 'rolled_back', running: 0 });
    expect(r1.errors[0]).toMatch(/^camera "dead" failed/);
    expect(agent.cameras.get('b')!.state).toMatchObject({ state: 'failed', reason: notFound(missing) });
    expect(agent.detectors.has('later')).toBe(false);
    expect(agent.cameras.has('dead')).toBe(false);
    const after = lines.length;
    await until(() => retryLines(lines, after).length >= 1);
    expect(retryLines(lines, after)[0]!.reason).toBe(notFound(missing));

    // The same without the dead camera: applied, b started on the new file and ran healthy, retry over.
    const r2 = await box.push(2, { models: models(good), cameras: [cam('a', 'm'), cam('b', 'later')] });
    expect(r2).toMatchObject({
      status: 'applied',
      errors: [],
      changed: ['models.later: loaded', 'cameras.b: model later replaced'],
    });
    expect(r2.warnings).toBeUndefined();
    expect(agent.cameras.get('b')!.state.state).toBe('streaming');
    await box.detects('b');
    expect(agent.modelRetry.failing().size).toBe(0);
    const settled = lines.length;
    await sleep(1500); // past the longest retry delay here
    expect(retryLines(lines, settled)).toEqual([]);
  }, 120_000);

  it("a push that disables the failing model's camera stops its retry", async () => {
    const missing = path.join(work, 'dropped.onnx');
    const box = await startBox('box3', missing);
    const { agent, lines } = box;
    const r1 = await box.push(1, {
      models: models(missing),
      cameras: [cam('a', 'm'), { ...cam('b', 'later'), enabled: false }],
    });
    expect(r1).toMatchObject({
      status: 'applied',
      changed: ['models.later: retry stopped', 'cameras.b: removed'],
    });
    expect(r1.warnings).toBeUndefined();
    expect(agent.cameras.has('b')).toBe(false);
    expect(agent.modelRetry.failing().size).toBe(0);
    // Even once its file is there, nothing loads it any more.
    copyFileSync(yolo, missing);
    const after = lines.length;
    await sleep(1500);
    expect(lines.slice(after).filter((l) => l.model === 'later')).toEqual([]);
    expect(agent.detectors.has('later')).toBe(false);
  }, 120_000);
});

async function until(ok: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(50))
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
}
