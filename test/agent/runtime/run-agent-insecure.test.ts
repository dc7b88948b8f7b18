import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startAgent } from '../../support/agent-process.js';
import { startMosquitto, type Mosquitto } from '../../support/mosquitto.js';
import { lanAddress, startWireTap, type WireTap } from '../../support/wire-tap.js';

// `vigil run` with a broker password: warned at start when it crosses the network in clear, not when the
// broker is on this box. The broker is a real mosquitto that asks for the password; the "remote" one is
// the same broker reached through a relay on this machine's LAN address, which records the bytes sent.
const lan = lanAddress();
const password = 'pw-on-the-wire-81723';
let dir: string;
let broker: Mosquitto;
let tap: WireTap;

beforeAll(async () => {
  if (!lan) return;
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-insecure-run-'));
  broker = await startMosquitto({ dir: path.join(dir, 'broker'), users: { box: password } });
  tap = await startWireTap(lan, broker.port);
});

afterAll(async () => {
  await tap?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the agent (one disabled camera: no model to load) until it is connected, and returns its log. */
async function runUntilConnected(url: string, name: string): Promise<string> {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      site: 'yard',
      device: name,
      dataDir: path.join(dir, name),
      mqtt: { url, username: 'box', password: '${BROKER_PW}' },
      http: { enabled: false },
      models: { det: { path: '/m/det.onnx' } },
      cameras: [{ id: 'gate', source: 'rtsp://10.0.0.5/live', model: 'det', enabled: false }],
    }),
  );
  const agent = startAgent(['run', '--config', file], { BROKER_PW: password });
  try {
    await agent.waitForOutput(/INFO +connected /, 30_000);
  } finally {
    await agent.stop();
  }
  return agent.output();
}

describe.skipIf(!lan)('vigil run: a broker password in clear', () => {
  it('over mqtt:// to another host: one WARN line naming the field and host, not the password', async () => {
    const output = await runUntilConnected(`mqtt://${lan}:${tap.port}`, 'remote');
    const warns = output.split('\n').filter((l) => / WARN +insecure setting /.test(l));
    expect(warns).toHaveLength(1);
    expect(warns[0]).toContain('field=mqtt.password');
    expect(warns[0]).toContain(`the broker password goes to ${lan} in clear (mqtt:// has no TLS)`);
    expect(output).not.toContain(password);
    // What the warning says: the CONNECT crossed the wire with the password as written.
    expect(tap.sent().includes(Buffer.from(password))).toBe(true);
  });

  it('to a broker on this box (127.0.0.1): no warning', async () => {
    const output = await runUntilConnected(broker.url, 'local');
    expect(output).not.toContain('insecure setting');
  });
});
