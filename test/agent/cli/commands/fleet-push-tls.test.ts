import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetPrivateKey, generateFleetKey, signDocument } from '../../../../agent/fleet/fleet-signature.js';
import { runCli } from '../../../support/agent-process.js';
import { collect, startMosquitto, type Mosquitto } from '../../../support/mosquitto.js';
import { TestPki } from '../../../support/test-pki.js';

// `vigil fleet push` to a broker that, like the boxes' own, takes only TLS with a client certificate.
let dir: string;
let pki: TestPki;
let broker: Mosquitto;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-push-tls-'));
  pki = new TestPki(dir).ca('ca').cert('server', 'ca', '127.0.0.1').cert('operator', 'ca', 'operator');
  broker = await startMosquitto({
    dir: path.join(dir, 'broker'),
    config: pki.listener('ca', 'server', true),
  });
  url = `mqtts://127.0.0.1:${broker.port}`;
  const doc = signDocument(
    {
      revision: 3,
      target: 'group:north',
      config: {
        models: { det: { path: '/opt/models/det.onnx' } },
        cameras: [{ id: 'gate', source: 'rtsp://10.0.0.5/stream', model: 'det' }],
      },
    },
    fleetPrivateKey(generateFleetKey().privatePem),
  );
  writeFileSync(pki.file('doc.json'), JSON.stringify(doc));
});

afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('vigil fleet push over TLS', () => {
  it('takes the CA, client certificate and key as --tls-ca/--tls-cert/--tls-key and publishes', async () => {
    const tlsArgs = ['--tls-ca', pki.file('ca.crt'), '--tls-cert', pki.file('operator.crt')];
    const push = await runCli([
      'fleet',
      'push',
      '--mqtt',
      url,
      ...tlsArgs,
      '--tls-key',
      pki.file('operator.key'),
      '--timeout',
      '1',
      pki.file('doc.json'),
    ]);
    // No box answers: it timed out, but connected and left the document retained.
    expect(push.code).toBe(1);
    expect(push.output).toContain('timed out: the document stays retained on vigil/fleet/north/config');
    const tls = {
      ca: readFileSync(pki.file('ca.crt')),
      cert: readFileSync(pki.file('operator.crt')),
      key: readFileSync(pki.file('operator.key')),
    };
    const sub = await collect(url, 'vigil/fleet/#', { extra: tls });
    try {
      await sub.waitFor((m) => m.length === 1);
      expect(sub.messages[0]).toMatchObject({ topic: 'vigil/fleet/north/config', retain: true });
      expect(sub.messages[0]!.payload).toEqual(readFileSync(pki.file('doc.json')));
    } finally {
      await sub.close();
    }
  });

  it('a TLS file that cannot be read: exit 2 naming the option and file, before connecting', async () => {
    const push = await runCli([
      'fleet',
      'push',
      '--mqtt',
      url,
      '--tls-ca',
      pki.file('nope.crt'),
      pki.file('doc.json'),
    ]);
    expect(push.code).toBe(2);
    expect(push.output.trim()).toBe(
      `vigil fleet: --tls-ca: cannot read ${pki.file('nope.crt')}: no such file`,
    );
  });

  it('a TLS file without PEM content: exit 2 naming the option and what it lacks, as mqtt.tls does', async () => {
    // The key given as the CA, and the certificate as the key: files that exist, of the wrong kind.
    writeFileSync(pki.file('notes.txt'), 'the CA is on the wiki\n');
    for (const [flag, file, lacks] of [
      ['--tls-ca', pki.file('operator.key'), 'PEM certificate (-----BEGIN CERTIFICATE-----)'],
      ['--tls-ca', pki.file('notes.txt'), 'PEM certificate (-----BEGIN CERTIFICATE-----)'],
      ['--tls-key', pki.file('operator.crt'), 'PEM private key (-----BEGIN PRIVATE KEY-----)'],
    ] as const) {
      const push = await runCli([
        'fleet',
        'push',
        '--mqtt',
        url,
        flag,
        file,
        '--timeout',
        '3',
        pki.file('doc.json'),
      ]);
      expect(push.code, `${flag} ${file}`).toBe(2);
      expect(push.output.trim()).toBe(`vigil fleet: ${flag}: ${file} holds no ${lacks}`);
    }
  });
});
