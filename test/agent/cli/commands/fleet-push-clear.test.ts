import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetPrivateKey, generateFleetKey, signDocument } from '../../../../agent/fleet/fleet-signature.js';
import { runCli } from '../../../support/agent-process.js';
import { collect, startMosquitto, type Mosquitto } from '../../../support/mosquitto.js';
import { lanAddress, startWireTap, type WireTap } from '../../../support/wire-tap.js';

// `vigil fleet push` to a plain mqtt:// broker that asks for a password: said aloud when the password
// crosses the network in clear, and TLS flags that a plain URL would ignore are refused.
const lan = lanAddress();
const password = 'push-pw-33091';
let dir: string;
let broker: Mosquitto;
let tap: WireTap | undefined;
let doc: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-push-clear-'));
  broker = await startMosquitto({ dir: path.join(dir, 'broker'), users: { operator: password } });
  if (lan) tap = await startWireTap(lan, broker.port);
  doc = path.join(dir, 'doc.json');
  const body = {
    models: { det: { path: '/opt/models/det.onnx' } },
    cameras: [{ id: 'gate', source: 'rtsp://10.0.0.5/stream', model: 'det' }],
  };
  const key = fleetPrivateKey(generateFleetKey().privatePem);
  writeFileSync(doc, JSON.stringify(signDocument({ revision: 4, target: 'group:north', config: body }, key)));
});

afterAll(async () => {
  await tap?.close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const push = (url: string, ...args: string[]) =>
  runCli(['fleet', 'push', '--mqtt', url, '--username', 'operator', '--timeout', '1', ...args, doc], {
    VIGIL_MQTT_PASSWORD: password,
  });

describe('vigil fleet push: a password in clear', () => {
  it.skipIf(!lan)('to another host over mqtt://: a warning on stderr, and the push goes on', async () => {
    const { code, output } = await push(`mqtt://${lan}:${tap!.port}`);
    expect(output).toContain(
      `vigil fleet: warning: the broker password goes to ${lan} in clear (mqtt:// has no TLS)`,
    );
    // Logged in (the broker wants the password) and published; no box answers within 1 s.
    expect(output).toContain('timed out: the document stays retained on vigil/fleet/north/config');
    expect(code).toBe(1);
    expect(output).not.toContain(password);
    expect(tap!.sent().includes(Buffer.from(password))).toBe(true);
  });

  it('to a broker on this box: no warning', async () => {
    const { code, output } = await push(broker.url);
    expect(output).toContain('timed out: the document stays retained');
    expect(output).not.toContain('warning');
    expect(code).toBe(1);
  });

  it('--tls-ca with an mqtt:// URL: exit 2 before connecting (the CA would be ignored), nothing published', async () => {
    writeFileSync(path.join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const { code, output } = await push(
      `mqtt://127.0.0.1:${broker.port}`,
      '--base-topic',
      'tlsflag',
      '--tls-ca',
      path.join(dir, 'ca.crt'),
    );
    expect(output.trim()).toBe('vigil fleet: --tls-ca: set, but --mqtt is mqtt:// (no TLS): use mqtts://');
    expect(code).toBe(2);
    // A retained document would reach a new subscriber before a marker published after it subscribed.
    const login = { username: 'operator', password };
    const sub = await collect(broker.url, 'tlsflag/#', { extra: login });
    const marker = await mqtt.connectAsync(broker.url, login);
    try {
      await marker.publishAsync('tlsflag/marker', 'm', { qos: 1 });
      await sub.waitFor((m) => m.length > 0);
      expect(sub.messages.map((m) => m.topic)).toEqual(['tlsflag/marker']);
    } finally {
      await marker.endAsync();
      await sub.close();
    }
  });
});
