import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CheckResult } from '../../../agent/doctor/check.js';
import { runCli } from '../../support/agent-process.js';
import { startMosquitto, type Mosquitto } from '../../support/mosquitto.js';
import { lanAddress, startWireTap, type WireTap } from '../../support/wire-tap.js';

// `vigil doctor` on a config whose broker login works but crosses the network in clear: the broker line
// passes (the login is right), and a `security` line says the password went as written.
const lan = lanAddress();
const password = 'doctor-pw-55120';
let dir: string;
let broker: Mosquitto;
let tap: WireTap;

beforeAll(async () => {
  if (!lan) return;
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-doctor-security-'));
  broker = await startMosquitto({ dir: path.join(dir, 'broker'), users: { box: password } });
  tap = await startWireTap(lan, broker.port);
});

afterAll(async () => {
  await tap?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function doctor(url: string, extra: Record<string, unknown> = {}): Promise<CheckResult[]> {
  const file = path.join(dir, `doctor-${Math.random().toString(16).slice(2, 8)}.yaml`);
  writeFileSync(
    file,
    stringify({
      site: 'yard',
      device: 'box1',
      dataDir: path.join(dir, 'data'),
      mqtt: { url, username: 'box', password: '${BROKER_PW}' },
      models: { det: { path: '/m/det.onnx' } },
      cameras: [{ id: 'gate', source: 'rtsp://10.0.0.5/live', model: 'det', enabled: false }],
      ...extra,
    }),
  );
  const { output } = await runCli(['doctor', '--json', file], { BROKER_PW: password });
  expect(output).not.toContain(password);
  return JSON.parse(output.slice(output.indexOf('\n[') + 1)) as CheckResult[];
}

describe.skipIf(!lan)('vigil doctor: the security line', () => {
  it('a password over mqtt:// to another host: broker PASS, security WARN naming the field', async () => {
    const results = await doctor(`mqtt://${lan}:${tap.port}`, {
      http: { host: '0.0.0.0', auth: { token: 'a'.repeat(24) } },
    });
    expect(results.find((r) => r.check === 'broker')).toMatchObject({
      verdict: 'pass',
      detail: expect.stringMatching(/^connected as box and published/),
    });
    expect(results.filter((r) => r.check === 'security')).toEqual([
      {
        check: 'security',
        subject: 'mqtt.password',
        verdict: 'warn',
        detail: `the broker password goes to ${lan} in clear (mqtt:// has no TLS): anyone on the network between can read it; use mqtts:// (mqtt.tls), or a broker on this box`,
      },
      {
        check: 'security',
        subject: 'http.auth',
        verdict: 'warn',
        detail: expect.stringContaining('the login (token) crosses the network in clear'),
      },
    ]);
    expect(tap.sent().includes(Buffer.from(password))).toBe(true);
  });

  it('the same broker on 127.0.0.1 and the page on loopback: security passes', async () => {
    const results = await doctor(broker.url, {
      http: { host: '127.0.0.1', auth: { token: 'a'.repeat(24) } },
    });
    expect(results.find((r) => r.check === 'broker')?.verdict).toBe('pass');
    expect(results.filter((r) => r.check === 'security')).toEqual([
      {
        check: 'security',
        verdict: 'pass',
        detail: 'no secret sent in clear, no broker certificate taken unchecked',
      },
    ]);
  });
});
