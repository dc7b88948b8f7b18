import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startAgent, type AgentProcess } from '../support/agent-process.js';
import { configResults, fleetKey, writeBoxConfig } from '../support/fleet.js';
import { collect, startMosquitto, type Collector, type Mosquitto } from '../support/mosquitto.js';
import { hasShared, sharedPath } from '../support/shared.js';

// Credentials in fleet pushes (docs/fleet.md "Credentials"), with the real CLI, a real agent and a real
// mosquitto that asks for passwords: a signed document is retained in clear, so it carries `${VAR}`
// references that each box fills in from its own environment, never the secrets themselves.
const clip = sharedPath('media', 'vtest.avi');
const model = sharedPath('models', 'yolo11n-coco-int8-320.onnx');
const cam = { id: 'a', source: clip, model: 'det', fps: 2, loop: true };
const boxSecret = 'box2-password-from-its-env';
const opsAuth = { username: 'ops', password: 'ops-password' };

describe.skipIf(!hasShared)('secrets in fleet pushes', () => {
  let broker: Mosquitto;
  let sub: Collector;
  let work: string;
  let key: { file: string; publicBase64: string };
  let agent: AgentProcess | undefined;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'vigil-fleet-secrets-'));
    broker = await startMosquitto({
      dir: path.join(work, 'broker'),
      users: { box1: 'box1-password', box2: boxSecret, [opsAuth.username]: opsAuth.password },
    });
    sub = await collect(broker.url, 'vigil/#', { extra: opsAuth });
    key = await fleetKey(work);
  }, 60_000);
  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await sub?.close();
    await broker?.stop();
  });

  /** `vigil fleet sign` run with the operator's environment; the document file, or the failed run. */
  async function sign(revision: number, body: object, env: Record<string, string>, ...flags: string[]) {
    const yamlFile = path.join(work, `body-${revision}.yaml`);
    writeFileSync(yamlFile, stringify(body));
    const args = ['fleet', 'sign', '--key', key.file, '-t', 'device:yard/box1', '-r', String(revision)];
    const out = await runCli([...args, ...flags, yamlFile], env);
    const docFile = path.join(work, `doc-${revision}.json`);
    writeFileSync(docFile, out.output.slice(Math.max(0, out.output.indexOf('{'))));
    return { ...out, docFile };
  }
  const push = (doc: string) =>
    runCli(
      ['fleet', 'push', '--mqtt', broker.url, '--username', opsAuth.username, '--timeout', '40', doc],
      { VIGIL_MQTT_PASSWORD: opsAuth.password },
      60_000,
    );
  const retainedDocument = () =>
    sub.messages
      .filter((m) => m.topic === 'vigil/yard/box1/config/set')
      .at(-1)!
      .payload.toString();

  it('refuses to sign a password, token or camera password written in the body, unless told to', async () => {
    const body = {
      models: { det: { path: model } },
      cameras: [{ ...cam, id: 'ipcam', source: 'rtsp://admin:hunter2@10.0.0.5/stream' }],
      mqtt: { url: broker.url, username: 'box2', password: boxSecret },
      http: { enabled: false, auth: { token: '0123456789abcdef0123' } },
    };
    const refused = await sign(1, body, {});
    expect(refused.code).toBe(2);
    expect(refused.output).toContain(
      'cameras[0].source: a password in the URL; mqtt.password: a literal password; http.auth.token: a literal token',
    );
    expect(refused.output).not.toMatch(/hunter2|0123456789abcdef|box2-password/);
    expect(refused.output).not.toContain('"signature"');

    // Signed for a box that is not there: its retained document must not reach box1 below.
    const allowed = await sign(1, body, {}, '--allow-literal-secrets', '-t', 'device:yard/nobody');
    expect(allowed.code).toBe(0);
    expect(allowed.output).toMatch(/^warning: .*readable by every subscriber of the fleet topic/m);
    // Such a document is still pushed (old ones keep working), with the warning again.
    const pushed = await runCli(
      [
        'fleet',
        'push',
        '--mqtt',
        broker.url,
        '--username',
        opsAuth.username,
        '--timeout',
        '1',
        allowed.docFile,
      ],
      { VIGIL_MQTT_PASSWORD: opsAuth.password },
    );
    expect(pushed.output).toContain(
      'warning: secrets written in the document, readable by every subscriber of the fleet topic: cameras[0].source',
    );
  }, 60_000);

  it('the box fills in ${VAR} from its own environment; the retained document and its disk hold only references', async () => {
    const box = writeBoxConfig({
      site: 'yard',
      device: 'box1',
      mqtt: { url: broker.url, username: 'box1', password: '${BOX1_MQTT_PASSWORD}' },
      models: { det: { path: model } },
      cameras: [cam],
      fleet: { keys: [key.publicBase64], groups: ['north'], healthDeadlineS: 8 },
    });
    const env = { BOX1_MQTT_PASSWORD: 'box1-password', BOX2_MQTT_PASSWORD: boxSecret };
    agent = startAgent(['run', '--config', box.file], env);
    await agent.waitForOutput(/fleet: following documents/, 60_000);

    // The operator's environment has other values: they must not end up in the document.
    const body = {
      models: { det: { path: model } },
      cameras: [cam],
      mqtt: { url: broker.url, username: 'box2', password: '${BOX2_MQTT_PASSWORD}' },
    };
    const signed = await sign(2, body, { BOX2_MQTT_PASSWORD: 'operator-value' });
    expect(signed.code).toBe(0);
    const pushed = await push(signed.docFile);
    // The new mqtt settings are proven by one connection with them: the box's password, not "${…}".
    expect(pushed.output).toMatch(/revision 2: 1 box, 1 applied/);
    expect(pushed.code).toBe(0);
    expect(configResults(sub.messages, 'yard', 'box1').at(-1)).toMatchObject({
      revision: 2,
      status: 'applied',
      restartRequired: ['mqtt'],
    });
    expect(retainedDocument()).toContain('"password": "${BOX2_MQTT_PASSWORD}"');
    expect(retainedDocument()).not.toMatch(/operator-value|box2-password/);
    const current = path.join(box.dataDir, 'config', 'current.json');
    expect(readFileSync(current, 'utf8')).toContain('${BOX2_MQTT_PASSWORD}');
    expect(readFileSync(current, 'utf8')).not.toContain(boxSecret);
    expect(statSync(current).mode & 0o777).toBe(0o600);

    // At the restart the persisted reference is expanded again: the box logs in to the broker as box2.
    const isState = (m: { topic: string }) => m.topic === 'vigil/yard/box1/config/state';
    const statesBefore = sub.messages.filter(isState).length;
    await agent.stop();
    agent = startAgent(['run', '--config', box.file], env);
    await agent.waitForOutput(/using the persisted fleet config revision=2/, 60_000);
    await agent.waitForOutput(/INFO +connected /, 60_000);
    expect(broker.log()).toMatch(/as vigil-yard-box1 .*u'box2'/);
    // It runs what was persisted (expanded as the apply did): no restart is pending any more.
    await sub.waitFor((all) => all.filter(isState).length > statesBefore, 30_000);
    const state = JSON.parse(sub.messages.filter(isState).at(-1)!.payload.toString()) as object;
    expect(state).toMatchObject({ revision: 2, source: 'fleet' });
    expect(state).not.toHaveProperty('restartRequired');

    // A variable this box does not have: refused naming it, nothing tried, the box runs on revision 2.
    const lacking = await sign(3, { ...body, cameras: [{ ...cam, id: 'b', source: '${NOT_ON_BOX}' }] }, {});
    expect(lacking.code).toBe(0);
    const refused = await push(lacking.docFile);
    expect(refused.code).toBe(1);
    expect(configResults(sub.messages, 'yard', 'box1').at(-1)).toMatchObject({
      revision: 3,
      status: 'rejected',
      running: 2,
      errors: [
        "schema: this box's environment: config.cameras[0].source: environment variable NOT_ON_BOX is not set (set it, or write ${NOT_ON_BOX:-default})",
      ],
    });
    expect(agent.output()).not.toContain(boxSecret);
  }, 240_000);
});
