import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { MqttConfig, OutboxConfig } from '../../../config/schema.js';
import { MqttLink, type LinkState } from '../../../agent/mqtt/mqtt-link.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import { startMosquitto, type Mosquitto } from '../../support/mosquitto.js';
import { TestPki } from '../../support/test-pki.js';
import { checkBroker } from '../../../agent/doctor/broker-check.js';
import { doctorConfig } from '../doctor/config.js';

// A real mosquitto TLS listener that requires a client certificate, with certificates made by openssl.
let dir: string;
let broker: Mosquitto;
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-tls-'));
  const pki = new TestPki(dir).ca('ca').ca('other-ca').cert('server', 'ca', '127.0.0.1');
  pki.cert('client', 'ca', 'vigil-client');
  broker = await startMosquitto({
    dir: path.join(dir, 'broker'),
    config: pki.listener('ca', 'server', true),
  });
});

afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(
  tls: MqttConfig['tls'],
): Promise<{ state: LinkState; outbox: Outbox; link: MqttLink }> {
  const outbox = Outbox.open(path.join(dir, `outbox-${Math.random()}.db`), OutboxConfig.parse({}));
  const link = new MqttLink({
    cfg: MqttConfig.parse({ url: `mqtts://127.0.0.1:${broker.port}`, tls }),
    statusTopic: 'vigil/s/d/status',
    outbox,
    log: silentLogger,
    version: 't',
    reconnect: { minMs: 50, maxMs: 200 },
  });
  link.start();
  const state = await firstValueFrom(
    link.state$.pipe(filter((s) => s.state === 'connected' || s.lastError !== undefined)),
  );
  return { state, outbox, link };
}

describe('MqttLink over TLS (CA and client certificate)', () => {
  it('connects with the CA, a client certificate and key, and delivers', async () => {
    const { state, outbox, link } = await connect({
      ca: file('ca.crt'),
      cert: file('client.crt'),
      key: file('client.key'),
      rejectUnauthorized: true,
    });
    expect(state.state).toBe('connected');
    outbox.enqueue({ topic: 'vigil/s/d/x', priority: 1, build: () => ({ ok: true }) });
    link.notify();
    while (outbox.depth().rows > 0) await new Promise((r) => setTimeout(r, 20));
    expect(link.counters().acked).toBe(1);
    await link.stop();
    outbox.close();
  });

  it('reports, rather than hides, a broker certificate from an unknown CA and a missing client certificate', async () => {
    const wrongCa = await connect({
      ca: file('other-ca.crt'),
      cert: file('client.crt'),
      key: file('client.key'),
      rejectUnauthorized: true,
    });
    expect(wrongCa.state.state).not.toBe('connected');
    // In the config's words: which CA file did not sign the broker's certificate.
    expect(wrongCa.state.lastError?.message).toBe(
      "TLS: the broker's certificate is not trusted (self-signed certificate in certificate chain): " +
        `no CA in mqtt.tls.ca (${file('other-ca.crt')}) signed it`,
    );
    await wrongCa.link.stop();
    wrongCa.outbox.close();

    const noClientCert = await connect({ ca: file('ca.crt'), rejectUnauthorized: true });
    expect(noClientCert.state.state).not.toBe('connected');
    expect(noClientCert.state.lastError?.message).toBe(
      'TLS: the broker requires a client certificate: set mqtt.tls.cert and mqtt.tls.key',
    );
    await noClientCert.link.stop();
    noClientCert.outbox.close();
  });

  it('vigil doctor names the TLS field at fault: a key not of the certificate, a client certificate of another CA', async () => {
    const check = (tls: { ca: string; cert: string; key: string }) =>
      checkBroker(doctorConfig({ mqtt: { url: `mqtts://127.0.0.1:${broker.port}`, tls } }));
    const mismatch = await check({ ca: file('ca.crt'), cert: file('client.crt'), key: file('server.key') });
    expect(mismatch).toMatchObject({
      verdict: 'fail',
      detail: `TLS: the key in mqtt.tls.key (${file('server.key')}) does not belong to the certificate in mqtt.tls.cert (${file('client.crt')})`,
    });
    const foreign = await check({
      ca: file('ca.crt'),
      cert: file('other-ca.crt'),
      key: file('other-ca.key'),
    });
    expect(foreign).toMatchObject({
      verdict: 'fail',
      detail: `TLS: the broker refused the TLS handshake (tlsv1 alert unknown ca): check the client certificate in mqtt.tls.cert (${file('other-ca.crt')})`,
    });
    const good = await check({ ca: file('ca.crt'), cert: file('client.crt'), key: file('client.key') });
    expect(good.verdict).toBe('pass');
  });
});
