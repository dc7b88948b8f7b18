import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../support/agent-process.js';

function configFile(lines: string[]): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'vigil-check-')), 'site.yaml');
  writeFileSync(
    file,
    ['site: yard', 'device: box', 'models: { det: { path: /m/det.onnx } }', ...lines, ''].join('\n'),
  );
  return file;
}

const warnings = (output: string) => output.split('\n').filter((l) => l.startsWith('  warning:'));

describe('vigil check-config: settings that send secrets in clear or accept any broker', () => {
  it('warns about each one by field, exit code 0, never printing the secret', async () => {
    const file = configFile([
      'mqtt: { url: "mqtt://broker.lan:1883", username: box, password: "${PW}" }',
      'http: { auth: { token: "${TOKEN}" } }',
      'cameras:',
      '  - { id: gate, source: "http://admin:campass@10.0.0.5/mjpeg", model: det }',
      '  - { id: dock, source: "rtsp://10.0.0.6/live?token=k3y", model: det }',
    ]);
    const { code, output } = await runCli(['check-config', file], {
      PW: 'hunter2',
      TOKEN: 'tok-secret-0123456789',
    });
    expect(code).toBe(0);
    expect(warnings(output).slice(0, 4)).toEqual([
      '  warning: mqtt.password: the broker password goes to broker.lan in clear (mqtt:// has no TLS): anyone on the network between can read it; use mqtts:// (mqtt.tls), or a broker on this box',
      '  warning: http.auth: the login (token) crosses the network in clear: the status page is plain HTTP on 0.0.0.0:8080; put a TLS reverse proxy in front (with http.host: 127.0.0.1), or keep the page on a closed LAN',
      '  warning: cameras[0].source: camera gate: the credentials in its source (user and password) go to 10.0.0.5 in clear (http:// has no TLS); use https:// if the camera offers it, or keep it on a closed LAN',
      '  warning: cameras[1].source: camera dock: the credentials in its source (token parameter) go to 10.0.0.6 in clear (rtsp:// has no TLS); use rtsps:// if the camera offers it, or keep it on a closed LAN',
    ]);
    for (const secret of ['hunter2', 'tok-secret', 'campass', 'k3y']) expect(output).not.toContain(secret);
  });

  it('mqtt.tls.rejectUnauthorized: false is named', async () => {
    const file = configFile([
      'mqtt: { url: "mqtts://broker.lan:8883", tls: { rejectUnauthorized: false } }',
      'cameras: [{ id: gate, source: "rtsp://10.0.0.5/live", model: det }]',
    ]);
    const { code, output } = await runCli(['check-config', file]);
    expect(code).toBe(0);
    expect(warnings(output)[0]).toBe(
      "  warning: mqtt.tls.rejectUnauthorized: false: any certificate is taken as broker.lan's, so a machine in between can pose as the broker and read what this box sends; set mqtt.tls.ca to the CA that signed the broker's certificate instead",
    );
  });

  it('the same settings towards this box itself (loopback) are fine: no warning', async () => {
    const file = configFile([
      'mqtt: { url: "mqtts://localhost:8883", password: pw, tls: { rejectUnauthorized: false } }',
      'http: { host: 127.0.0.1, auth: { token: "0123456789abcdef0" } }',
      'cameras: [{ id: gate, source: "http://admin:pw@[::1]:8080/mjpeg?token=t", model: det }]',
    ]);
    const { code, output } = await runCli(['check-config', file]);
    expect(code).toBe(0);
    // Only the model file, which is not on this machine.
    expect(warnings(output)).toEqual([
      '  warning: model det: no file /m/det.onnx on this machine',
      '  warning: (run `vigil doctor` on the box itself to check models, cameras and broker)',
    ]);
  });
});
