import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore } from '../../agent/fleet/config-store.js';
import { CameraStatePayload } from '../../agent/mqtt/payloads.js';
import { runCli, startAgent, type AgentProcess } from '../support/agent-process.js';
import { configResults, fleetKey, signBody, writeBoxConfig } from '../support/fleet.js';
import { collect, startMosquitto, type Collector, type Mosquitto } from '../support/mosquitto.js';
import { hasShared, sharedPath } from '../support/shared.js';

// A box that was away during a push, and a box killed (-9) in the middle of an apply: real agents.
const clip = sharedPath('media', 'vtest.avi');
const model = sharedPath('models', 'yolo11n-coco-int8-320.onnx');
const cam = (id: string) => ({ id, source: clip, model: 'det', fps: 1, loop: true });

describe.skipIf(!hasShared)('fleet recovery with real agents', () => {
  let broker: Mosquitto;
  let sub: Collector;
  let work: string;
  let key: { file: string; publicBase64: string };
  const agents: AgentProcess[] = [];
  const run = (file: string) => {
    const a = startAgent(['run', '--config', file]);
    agents.push(a);
    return a;
  };
  const streaming = (device: string, camera: string, after = 0) =>
    sub.messages.some(
      (m) =>
        m.topic === `vigil/yard/${device}/cameras/${camera}/state` &&
        (() => {
          const s = CameraStatePayload.parse(JSON.parse(m.payload.toString()));
          return s.state === 'streaming' && s.ts > after;
        })(),
    );

  beforeAll(async () => {
    broker = await startMosquitto();
    sub = await collect(broker.url, 'vigil/#');
    work = mkdtempSync(path.join(tmpdir(), 'vigil-fleet-rec-'));
    key = await fleetKey(work);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await sub?.close();
    await broker?.stop();
  });

  const boxCfg = (device: string, group: string) =>
    writeBoxConfig({
      site: 'yard',
      device,
      mqtt: { url: broker.url },
      models: { det: { path: model } },
      cameras: [cam('one')],
      fleet: { keys: [key.publicBase64], groups: [group], healthDeadlineS: 20 },
    });

  it('a box that was offline during a group push applies the retained document when it returns', async () => {
    const box = boxCfg('away', 'dock');
    let agent = run(box.file);
    await sub.waitFor(() => sub.messages.some((m) => m.topic === 'vigil/yard/away/config/state'), 60_000);
    expect((await agent.stop('SIGTERM')).code).toBe(0);

    const doc = await signBody(work, key.file, 'group:dock', 7, {
      models: { det: { path: model } },
      cameras: [cam('one'), cam('two')],
    });
    // The operator pushes while the box is away: it is listed as waiting, the push times out.
    const out = await runCli(['fleet', 'push', '--mqtt', broker.url, '--timeout', '3', doc], {}, 30_000);
    expect(out.code).toBe(1);
    expect(out.output).toMatch(/yard\/away\s+WAITING/);
    expect(out.output).toMatch(/timed out: the document stays retained on vigil\/fleet\/dock\/config/);

    const back = Date.now();
    agent = run(box.file);
    await sub.waitFor(
      () => configResults(sub.messages, 'yard', 'away').some((r) => r.revision === 7),
      60_000,
    );
    expect(configResults(sub.messages, 'yard', 'away').at(-1)).toMatchObject({
      status: 'applied',
      changed: ['cameras.two: added'],
    });
    await sub.waitFor(() => streaming('away', 'two', back), 30_000);
    await agent.stop('SIGTERM');
  }, 120_000);

  it('kill -9 during an apply leaves the old or the new config whole, and the box finishes the job', async () => {
    const box = boxCfg('crash', 'crashers');
    const store = new ConfigStore(box.dataDir);
    let agent = run(box.file);
    await sub.waitFor(() => streaming('crash', 'one'), 60_000);
    const doc = await signBody(work, key.file, 'device:yard/crash', 9, {
      models: { det: { path: model } },
      cameras: [cam('one'), cam('two')],
    });
    const pushing = runCli(['fleet', 'push', '--mqtt', broker.url, '--timeout', '90', doc], {}, 120_000);
    // Mid-apply: the new camera is started and being health-checked, nothing persisted yet.
    await agent.waitForOutput(/fleet: apply step .*step=health/, 60_000);
    agent.child.kill('SIGKILL');
    await agent.exited;
    // On disk: no last-known-good yet (the bootstrap file is the config), and the attempt is recorded.
    expect(store.load()).toBeUndefined();
    expect(store.loadAttempt()).toMatchObject({ revision: 9, outcome: 'applying', tries: 1 });
    expect(existsSync(path.join(store.dir, 'current.json.tmp-' + agent.child.pid))).toBe(false);

    agent = run(box.file);
    // It starts from the old config (one camera), then the retained document is applied again.
    await agent.waitForOutput(/agent running .*cameras=1/, 60_000);
    const out = await pushing;
    expect(out.output).toMatch(/yard\/crash applied/);
    const stored = store.load()!;
    expect(stored.revision).toBe(9);
    expect(stored.managed.cameras.map((c) => c.id)).toEqual(['one', 'two']);
    expect(readFileSync(path.join(store.dir, 'revision'), 'utf8').trim()).toBe('9');
    expect(store.loadAttempt()).toMatchObject({ revision: 9, outcome: 'applied', tries: 2 });

    // Killed again now, it comes back on the new config straight away.
    agent.child.kill('SIGKILL');
    await agent.exited;
    agent = run(box.file);
    await agent.waitForOutput(/using the persisted fleet config .*revision=9/, 60_000);
    await agent.waitForOutput(/agent running .*cameras=2/, 60_000);
  }, 150_000);
});
