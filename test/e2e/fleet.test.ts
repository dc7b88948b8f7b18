import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraStatePayload, DetectionsPayload } from '../../agent/mqtt/payloads.js';
import { ConfigStore } from '../../agent/fleet/config-store.js';
import { ShadowReportPayload } from '../../agent/fleet/fleet-payloads.js';
import { runCli, startAgent, type AgentProcess } from '../support/agent-process.js';
import {
  configResults,
  fleetKey,
  modelServer,
  sha256Of,
  signBody,
  writeBoxConfig,
} from '../support/fleet.js';
import {
  collect,
  startMosquitto,
  type Collector,
  type Mosquitto,
  type Received,
} from '../support/mosquitto.js';
import { hasShared, sharedPath } from '../support/shared.js';

// Real agent processes, a real mosquitto, real models: the operator CLI signs and pushes, boxes apply.
const clip = sharedPath('media', 'vtest.avi');
const model = sharedPath('models', 'yolo11n-coco-int8-320.onnx');
const cam = (id: string, fps: number) => ({ id, source: clip, model: 'det', fps, loop: true });

function detections(all: Received[], device: string, camera: string): DetectionsPayload[] {
  const seen = new Map<string, DetectionsPayload>();
  for (const m of all.filter((x) => x.topic === `vigil/yard/${device}/cameras/${camera}/detections`)) {
    const d = DetectionsPayload.parse(JSON.parse(m.payload.toString()));
    seen.set(d.id, d);
  }
  return [...seen.values()].sort((a, b) => a.seq - b.seq);
}

describe.skipIf(!hasShared)('fleet pushes to real agents', () => {
  let broker: Mosquitto;
  let sub: Collector;
  let work: string;
  let key: { file: string; publicBase64: string };
  const agents: AgentProcess[] = [];
  let box1Data = '';
  const fleetCfg = (groups: string[]) => ({ keys: [key.publicBase64], groups, healthDeadlineS: 8 });

  beforeAll(async () => {
    broker = await startMosquitto();
    sub = await collect(broker.url, 'vigil/#');
    work = mkdtempSync(path.join(tmpdir(), 'vigil-fleet-ops-'));
    key = await fleetKey(work);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await sub?.close();
    await broker?.stop();
  });

  const push = (doc: string, ...extra: string[]) =>
    runCli(['fleet', 'push', '--mqtt', broker.url, '--timeout', '40', ...extra, doc], {}, 60_000);

  it("adds a camera and changes another one's fps while the third runs on without a gap", async () => {
    const box = writeBoxConfig({
      site: 'yard',
      device: 'box1',
      mqtt: { url: broker.url },
      models: { det: { path: model } },
      cameras: [cam('keep', 2), cam('change', 2)],
      fleet: fleetCfg(['line1']),
    });
    box1Data = box.dataDir;
    const agent = startAgent(['run', '--config', box.file]);
    agents.push(agent);
    await sub.waitFor((all) => detections(all, 'box1', 'keep').length >= 3, 60_000);
    const doc = await signBody(work, key.file, 'device:yard/box1', 100, {
      models: { det: { path: model } },
      cameras: [cam('keep', 2), cam('change', 4), cam('added', 2)],
    });
    const pushedAt = Date.now();
    const out = await push(doc, '--target', 'device:yard/box1');
    expect(out.output).toMatch(/yard\/box1 applied/);
    expect(out.output).toMatch(/revision 100: 1 box, 1 applied/);
    expect(out.code).toBe(0);
    const result = configResults(sub.messages, 'yard', 'box1').at(-1)!;
    expect(result).toMatchObject({ revision: 100, status: 'applied', errors: [], running: 100 });
    expect(result.changed.sort()).toEqual(['cameras.added: added', 'cameras.change: fps']);
    // Let `keep` run a little past the apply, then check its sequence and that it never restarted.
    const n = detections(sub.messages, 'box1', 'keep').length;
    await sub.waitFor(
      (all) =>
        detections(all, 'box1', 'added').length >= 2 && detections(all, 'box1', 'keep').length >= n + 2,
      30_000,
    );
    const keep = detections(sub.messages, 'box1', 'keep');
    keep.forEach((m, i) => i > 0 && expect(m.seq).toBe(keep[i - 1]!.seq + 1));
    expect(keep.some((m) => m.ts < pushedAt)).toBe(true);
    expect(keep.at(-1)!.ts).toBeGreaterThan(result.ts);
    const keepStates = sub.messages
      .filter((m) => m.topic === 'vigil/yard/box1/cameras/keep/state')
      .map((m) => CameraStatePayload.parse(JSON.parse(m.payload.toString())))
      .filter((s) => s.ts > pushedAt);
    expect(keepStates.filter((s) => s.state !== 'streaming')).toEqual([]);
    expect(new ConfigStore(box.dataDir).load()?.revision).toBe(100);
  }, 150_000);

  it('rolls back an unreachable camera and a broken model, says why, keeps running the old config', async () => {
    const junk = path.join(work, 'broken.onnx');
    writeFileSync(junk, 'this is not an onnx model');
    const http = await modelServer({ 'broken.onnx': junk, 'good.onnx': model });
    try {
      const unreachable = await signBody(work, key.file, 'device:yard/box1', 101, {
        models: { det: { path: model } },
        cameras: [
          cam('keep', 2),
          cam('change', 4),
          { ...cam('added', 2), source: 'rtsp://127.0.0.1:9/none' },
        ],
      });
      const out = await push(unreachable);
      expect(out.code).toBe(1);
      expect(out.output).toMatch(/yard\/box1 rolled_back: camera "added": no inference within 8 s/);
      const r = configResults(sub.messages, 'yard', 'box1').at(-1)!;
      expect(r).toMatchObject({ revision: 101, status: 'rolled_back', running: 100 });

      const broken = await signBody(work, key.file, 'device:yard/box1', 102, {
        models: { det: { url: `${http.url}/broken.onnx`, sha256: sha256Of(junk) } },
        cameras: [cam('keep', 2), cam('change', 4), cam('added', 2)],
      });
      expect((await push(broken)).code).toBe(1);
      const r2 = configResults(sub.messages, 'yard', 'box1').at(-1)!;
      expect(r2).toMatchObject({ revision: 102, status: 'rolled_back', running: 100 });
      expect(r2.errors.join(' ')).toMatch(/det/);
      const n = detections(sub.messages, 'box1', 'added').length;
      await sub.waitFor((all) => detections(all, 'box1', 'added').length > n, 30_000); // old config runs

      // The same model by URL + sha256: downloaded, verified, warmed, swapped in.
      const good = await signBody(work, key.file, 'device:yard/box1', 103, {
        models: { det: { url: `${http.url}/good.onnx`, sha256: sha256Of(model) } },
        cameras: [cam('keep', 2), cam('change', 4), cam('added', 2)],
      });
      expect((await push(good)).code).toBe(0);
      const r3 = configResults(sub.messages, 'yard', 'box1').at(-1)!;
      expect(r3).toMatchObject({ revision: 103, status: 'applied' });
      expect(r3.changed[0]).toBe('models.det: replaced');
      const file = path.join(box1Data, 'models', `${sha256Of(model)}.onnx`);
      expect(existsSync(file)).toBe(true);
      expect(new ConfigStore(box1Data).load()!.managed.models.det!.path).toBe(file);
    } finally {
      await http.close();
    }
  }, 150_000);

  it('runs a candidate model in shadow beside the current one and publishes agreement statistics', async () => {
    const doc = await signBody(work, key.file, 'device:yard/box1', 104, {
      models: {
        // Already on the box with this sha256: reused, not downloaded (the URL is not even reachable).
        det: { url: 'http://127.0.0.1:9/gone.onnx', sha256: sha256Of(model) },
        cand: { path: sharedPath('models', 'yolov8n-coco-int8-640.onnx') },
      },
      cameras: [cam('keep', 2), cam('change', 4), cam('added', 2)],
      shadow: { candidate: 'cand', cameras: ['keep'], share: 0.5, reportIntervalS: 2 },
    });
    expect((await push(doc)).code).toBe(0);
    const r = configResults(sub.messages, 'yard', 'box1').at(-1)!;
    expect(r).toMatchObject({ revision: 104, status: 'applied' });
    expect(r.changed).toEqual(['models.cand: loaded', 'shadow: started']); // no camera restarted
    const reports = () =>
      sub.messages
        .filter((m) => m.topic === 'vigil/yard/box1/config/shadow')
        .map((m) => ShadowReportPayload.parse(JSON.parse(m.payload.toString())));
    await sub.waitFor(() => reports().some((x) => x.frames >= 3), 60_000);
    const report = reports().at(-1)!;
    expect(report).toMatchObject({ revision: 104, candidate: 'cand' });
    expect(report.labels.person).toBeDefined(); // the plaza always has people: both models see some
    expect(report.overall.matched).toBeGreaterThan(0);
    expect(report.overall.precision).not.toBeNull();
    expect(report.latencyMs.candidate.n).toBeGreaterThanOrEqual(3);
  }, 90_000);
});
