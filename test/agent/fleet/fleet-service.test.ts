import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { validateConfig } from '../../../config/load.js';
import { ConfigStore } from '../../../agent/fleet/config-store.js';
import type { FleetBodyInput } from '../../../agent/fleet/fleet-document.js';
import { ConfigResultPayload, FleetStatePayload } from '../../../agent/fleet/fleet-payloads.js';
import { fleetPrivateKey, generateFleetKey, signDocument } from '../../../agent/fleet/fleet-signature.js';
import { startSimBox, type SimBox } from '../../../agent/fleet/sim-host.js';
import { collect, startMosquitto, type Collector, type Mosquitto } from '../../support/mosquitto.js';

// The fleet service on light hosts (agent/fleet/sim-host.ts: synthetic cameras, no inference) against a
// real mosquitto: verification, diff, apply, health, rollback, persistence and retained documents.
// The same service in real agent processes is covered by test/e2e/fleet*.test.ts.

const key = generateFleetKey();
const other = generateFleetKey();
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-fleet-svc-'));
const model = path.join(dir, 'det.onnx');
const model2 = path.join(dir, 'det2.onnx');
writeFileSync(model, 'sim');
writeFileSync(model2, 'sim2');

function boxConfig(url: string, device: string, healthDeadlineS = 1.5) {
  return validateConfig({
    site: 'yard',
    device,
    dataDir: path.join(dir, device),
    mqtt: { url },
    http: { enabled: false },
    models: { det: { path: model } },
    cameras: [
      { id: 'a', source: '/sim/a', model: 'det', fps: 10 },
      { id: 'b', source: '/sim/b', model: 'det', fps: 10 },
    ],
    fleet: { keys: [key.publicBase64], groups: ['north'], healthDeadlineS },
  });
}

const body = (extra: Partial<FleetBodyInput> = {}): FleetBodyInput => ({
  models: { det: { path: model } },
  cameras: [
    { id: 'a', source: '/sim/a', model: 'det', fps: 10 },
    { id: 'b', source: '/sim/b', model: 'det', fps: 5 },
    { id: 'c', source: '/sim/c', model: 'det', fps: 10 },
  ],
  ...extra,
});

const sign = (revision: number, config: FleetBodyInput, pem = key.privatePem, target = 'group:north') =>
  JSON.stringify(signDocument({ revision, target: target as never, config }, fleetPrivateKey(pem)));

describe('FleetService on simulated boxes', () => {
  let broker: Mosquitto;
  let sub: Collector;
  let pub: mqtt.MqttClient;
  const boxes: SimBox[] = [];
  const results = (device: string) =>
    sub.messages
      .filter((m) => m.topic === `vigil/yard/${device}/config/result` && m.payload.length > 0)
      .map((m) => ConfigResultPayload.parse(JSON.parse(m.payload.toString())));
  const waitResult = (device: string, revision: number) =>
    sub.waitFor(() => results(device).some((r) => r.revision === revision), 15_000);
  const push = (doc: string, topic = 'vigil/fleet/north/config') =>
    pub.publishAsync(topic, doc, { qos: 1, retain: true });

  beforeAll(async () => {
    broker = await startMosquitto();
    sub = await collect(broker.url, 'vigil/+/+/config/#');
    pub = await mqtt.connectAsync(broker.url);
  });
  afterAll(async () => {
    await Promise.all(boxes.map((b) => b.stop()));
    await pub?.endAsync();
    await sub?.close();
    await broker?.stop();
  });

  it('applies a signed push touching only what changed, persists it, and reports', async () => {
    const box = await startSimBox(boxConfig(broker.url, 'box1'), silentLogger);
    boxes.push(box);
    await sub.waitFor(() => sub.messages.some((m) => m.topic === 'vigil/yard/box1/config/state'));
    const timerA = box.host.cameras.get('a')!.timer;
    await push(sign(10, body()));
    await waitResult('box1', 10);
    const r = results('box1').find((x) => x.revision === 10)!;
    expect(r).toMatchObject({ status: 'applied', errors: [], running: 10 });
    expect(r.changed.sort()).toEqual(['cameras.b: fps', 'cameras.c: added']);
    expect(box.host.cameras.get('a')!.timer).toBe(timerA); // untouched camera never restarted
    expect(box.host.cameras.get('b')!.config.fps).toBe(5);
    expect(new ConfigStore(box.host.config.dataDir).load()).toMatchObject({
      revision: 10,
      target: 'group:north',
    });
    await sub.waitFor(() =>
      sub.messages
        .filter((m) => m.topic === 'vigil/yard/box1/config/state')
        .some((m) => FleetStatePayload.parse(JSON.parse(m.payload.toString())).revision === 10),
    );
  });

  it('refuses unsigned-by-the-fleet, stale and wrong documents with a reason, changing nothing', async () => {
    await push(sign(11, body(), other.privatePem), 'vigil/yard/box1/config/set');
    await waitResult('box1', 11);
    expect(results('box1').find((x) => x.revision === 11)).toMatchObject({ status: 'rejected', running: 10 });
    expect(results('box1').find((x) => x.revision === 11)!.errors[0]).toMatch(/^unknown-key: signed by key/);
    await push(sign(9, body()), 'vigil/yard/box1/config/set');
    await waitResult('box1', 9);
    expect(results('box1').find((x) => x.revision === 9)!.errors[0]).toMatch(
      /^stale: revision 9 is not above/,
    );
    await push('{"revision": 12, "target": "group:north"', 'vigil/yard/box1/config/set');
    await sub.waitFor(() => results('box1').some((x) => x.revision === null));
    expect(results('box1').find((x) => x.revision === null)!.errors[0]).toMatch(/^not-json/);
    expect(boxes[0]!.host.cameras.size).toBe(3);
    // The operator clears the junk (an empty retained message), which the box ignores.
    const n = results('box1').length;
    await push('', 'vigil/yard/box1/config/set');
    await new Promise((r) => setTimeout(r, 300));
    expect(results('box1').length).toBe(n);
  });

  it('rolls back an unreachable camera and a missing model, saying why, and keeps the old config', async () => {
    const box = boxes[0]!;
    const bad = body();
    bad.cameras[1] = { id: 'b', source: 'rtsp://unreachable/x', model: 'det', fps: 5 };
    await push(sign(20, bad));
    await waitResult('box1', 20);
    const r = results('box1').find((x) => x.revision === 20)!;
    expect(r).toMatchObject({ status: 'rolled_back', running: 10, changed: ['cameras.b: source'] });
    expect(r.errors[0]).toMatch(/camera "b": no inference within 1.5 s/);
    expect(box.host.cameras.get('b')!.config.source).toBe('/sim/b');
    expect(box.host.cameras.get('b')!.timer).toBeDefined();

    await push(sign(21, body({ models: { det: { path: path.join(dir, 'gone.onnx') } } })));
    await waitResult('box1', 21);
    const r2 = results('box1').find((x) => x.revision === 21)!;
    expect(r2).toMatchObject({ status: 'rolled_back', running: 10 });
    expect(r2.errors[0]).toContain('no such file');
    expect(new ConfigStore(box.host.config.dataDir).load()!.revision).toBe(10);
    expect([...box.host.detectors.keys()]).toEqual(['det']);
  });

  it('a restarted box runs its last-known-good config and does not re-apply the retained document', async () => {
    await boxes.shift()!.stop();
    const before = results('box1').length;
    const box = await startSimBox(boxConfig(broker.url, 'box1'), silentLogger);
    boxes.push(box);
    expect(box.host.config.fleet!.revision).toBe(10);
    expect([...box.host.cameras.keys()].sort()).toEqual(['a', 'b', 'c']);
    await push(sign(30, body({ models: { det: { path: model2 } } })));
    await waitResult('box1', 30);
    expect(
      results('box1')
        .slice(before)
        .map((r) => [r.revision, r.status]),
    ).toEqual([[30, 'applied']]);
    expect(results('box1').at(-1)!.changed).toEqual([
      'models.det: replaced',
      'cameras.a: model det replaced',
      'cameras.b: model det replaced',
      'cameras.c: model det replaced',
    ]);
  });

  it('a box offline during a push applies the retained document when it connects', async () => {
    const cfg = boxConfig(broker.url, 'box2');
    expect(existsSync(cfg.dataDir)).toBe(false);
    await push(sign(40, body()));
    await waitResult('box1', 40);
    const box = await startSimBox(cfg, silentLogger);
    boxes.push(box);
    await waitResult('box2', 40);
    expect(results('box2').at(-1)).toMatchObject({ status: 'applied', running: 40 });
    const stored = JSON.parse(readFileSync(path.join(cfg.dataDir, 'config', 'current.json'), 'utf8'));
    expect(stored).toMatchObject({ format: 1, revision: 40 });
  });

  it('a stop during an apply returns within a second and leaves the document to be tried at the next start', async () => {
    // A health deadline far past the stop's one second: the apply is still waiting when stop() returns.
    const box = await startSimBox(boxConfig(broker.url, 'box3', 6), silentLogger);
    const slow = body();
    slow.cameras[2] = { id: 'c', source: 'rtsp://unreachable/x', model: 'det', fps: 5 };
    await push(sign(50, slow), 'vigil/yard/box3/config/set');
    const store = new ConfigStore(box.host.config.dataDir);
    await vi.waitFor(() => expect(store.loadAttempt()?.revision).toBe(50), 30_000);
    let applyEnded = false;
    const applying = box.service.idle().then(() => (applyEnded = true));
    await box.stop();
    expect(applyEnded, 'stop() waited for the apply').toBe(false);
    await applying; // at the health deadline: the apply ends, unrecorded
    expect(store.loadAttempt()).toMatchObject({ revision: 50, outcome: 'applying', tries: 1 });
    expect(results('box3').filter((r) => r.revision === 50)).toEqual([]);
  });
  it('after an apply cut short, the restart retries only that document, not an older rolled-back one', async () => {
    // Rolled back 70 (group topic), then stopped while trying 71 (device topic): both stay retained.
    const cfg = validateConfig({
      ...boxConfig(broker.url, 'box6', 6),
      fleet: { keys: [key.publicBase64], groups: ['east'], healthDeadlineS: 6 },
    });
    let box = await startSimBox(cfg, silentLogger);
    await push(
      sign(
        70,
        body({ models: { det: { path: path.join(dir, 'gone.onnx') } } }),
        key.privatePem,
        'group:east',
      ),
      'vigil/fleet/east/config',
    );
    await waitResult('box6', 70);
    expect(results('box6').at(-1)).toMatchObject({ revision: 70, status: 'rolled_back' });
    const slow = body();
    slow.cameras[2] = { id: 'c', source: 'rtsp://unreachable/x', model: 'det', fps: 5 };
    await push(sign(71, slow, key.privatePem, 'device:yard/box6'), 'vigil/yard/box6/config/set');
    const store = new ConfigStore(cfg.dataDir);
    await vi.waitFor(() => expect(store.loadAttempt()?.revision).toBe(71), 30_000);
    const applying = box.service.idle();
    await box.stop();
    await applying;
    const before = results('box6').length;
    box = await startSimBox(cfg, silentLogger);
    boxes.push(box);
    await sub.waitFor(() => results('box6').length > before, 30_000);
    await box.service.idle();
    // 70 is not tried again (it was rolled back); 71 is, as its second try.
    expect(
      results('box6')
        .slice(before)
        .map((r) => [r.revision, r.status]),
    ).toEqual([[71, 'rolled_back']]);
    expect(store.loadAttempt()).toMatchObject({ revision: 71, tries: 2, outcome: 'rolled_back' });
  }, 60_000);

  it('killed after persisting a revision but before its result: the restarted box reports it applied', async () => {
    const cfg = boxConfig(broker.url, 'box4');
    let box = await startSimBox(cfg, silentLogger);
    await push(sign(60, body()), 'vigil/yard/box4/config/set');
    await waitResult('box4', 60);
    await box.stop();
    // kill -9 between store.save and the `applied` attempt record and result: what a cut leaves on disk.
    const store = new ConfigStore(cfg.dataDir);
    const stored = store.load()!;
    expect(stored.revision).toBe(60);
    store.saveAttempt({ revision: 60, digest: stored.digest, tries: 1, outcome: 'applying', at: 1 });
    await pub.publishAsync('vigil/yard/box4/config/result', '', { qos: 1, retain: true });
    const before = results('box4').length;
    box = await startSimBox(cfg, silentLogger);
    boxes.push(box);
    expect(box.host.config.fleet!.revision).toBe(60);
    await sub.waitFor(() => results('box4').length > before, 15_000);
    expect(
      results('box4')
        .slice(before)
        .map((r) => [r.revision, r.status, r.running]),
    ).toEqual([[60, 'applied', 60]]);
    expect(store.loadAttempt()).toMatchObject({ revision: 60, outcome: 'applied' });
  });
  it('the plain-text revision copy failing to write does not roll back a config current.json already holds', async () => {
    const cfg = boxConfig(broker.url, 'box5');
    const store = new ConfigStore(cfg.dataDir);
    // Something in the way of the copy (a disk error, here a directory): current.json is written first.
    mkdirSync(path.join(store.dir, 'revision', 'x'), { recursive: true });
    const box = await startSimBox(cfg, silentLogger);
    boxes.push(box);
    await push(sign(70, body()), 'vigil/yard/box5/config/set');
    await waitResult('box5', 70);
    const r = results('box5').find((x) => x.revision === 70)!;
    // What was reported and what the box starts on after a restart must agree.
    expect([r.status, r.running, store.load()?.revision]).toEqual(['applied', 70, 70]);
    expect([...box.host.cameras.keys()].sort()).toEqual(['a', 'b', 'c']);
  });
});
