import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBroker, DoctorProbePayload } from '../../../agent/doctor/broker-check.js';
import { collect, startMosquitto, type Mosquitto } from '../../support/mosquitto.js';
import { doctorConfig } from './config.js';

describe('broker check against a real mosquitto', () => {
  let open: Mosquitto;
  let locked: Mosquitto;

  beforeAll(async () => {
    open = await startMosquitto();
    // A second broker as a site runs one: logins required, and an ACL that lets box1 write its own tree.
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-acl-'));
    execFileSync('/usr/bin/mosquitto_passwd', ['-b', '-c', path.join(dir, 'passwd'), 'box1', 's3cret']);
    execFileSync('/usr/bin/mosquitto_passwd', ['-b', path.join(dir, 'passwd'), 'viewer', 'look']);
    writeFileSync(
      path.join(dir, 'acl'),
      'user box1\ntopic write vigil/yard/box1/#\n\nuser viewer\ntopic read vigil/#\n',
    );
    locked = await startMosquitto({
      dir,
      config: ['allow_anonymous false', `password_file ${dir}/passwd`, `acl_file ${dir}/acl`],
    });
  });
  afterAll(async () => {
    await open?.stop();
    await locked?.stop();
  });

  const mqtt = (url: string, extra: object = {}) => doctorConfig({ mqtt: { url, ...extra } });

  it('passes: connects and publishes to the device’s doctor topic (QoS 1, not retained, docs/mqtt.md)', async () => {
    const sub = await collect(open.url, 'vigil/yard/box1/doctor', { qos: 1 });
    expect(await checkBroker(mqtt(open.url))).toMatchObject({
      check: 'broker',
      subject: open.url,
      verdict: 'pass',
      detail: expect.stringMatching(
        /^connected anonymously and published to vigil\/yard\/box1\/doctor in \d+ ms$/,
      ),
    });
    try {
      await sub.waitFor((m) => m.length === 1);
      expect(sub.messages[0]).toMatchObject({ qos: 1 });
      const payload: unknown = JSON.parse(sub.messages[0]!.payload.toString('utf8'));
      expect(DoctorProbePayload.safeParse(payload).success).toBe(true);
    } finally {
      await sub.close();
    }
    // Not retained: a later subscriber gets the marker published after it, and nothing before it.
    const later = await collect(open.url, 'vigil/yard/box1/#');
    try {
      await later.client.publishAsync('vigil/yard/box1/marker', 'm', { qos: 1 });
      await later.waitFor((m) => m.length >= 1);
      expect(later.messages.map((m) => m.topic)).toEqual(['vigil/yard/box1/marker']);
    } finally {
      await later.close();
    }
  });

  it('passes with the right login and ACL', async () => {
    const r = await checkBroker(mqtt(locked.url, { username: 'box1', password: 's3cret' }));
    expect(r).toMatchObject({
      verdict: 'pass',
      detail: expect.stringMatching(/^connected as box1 and published/),
    });
  });

  it('names the user of a URL with credentials, not "anonymously"', async () => {
    const r = await checkBroker(mqtt(locked.url.replace('mqtt://', 'mqtt://box1:s3cret@')));
    expect(r).toMatchObject({
      subject: `mqtt://***@127.0.0.1:${locked.port}`,
      verdict: 'pass',
      detail: expect.stringMatching(/^connected as box1 and published/),
    });
  });

  it('fails a wrong password with the broker’s reason', async () => {
    const r = await checkBroker(mqtt(locked.url, { username: 'box1', password: 'wrong' }));
    expect(r).toMatchObject({
      verdict: 'fail',
      detail: expect.stringMatching(/^refused: Not authorized \(reason code 135/),
    });
  });

  it('fails a login the ACL does not let write the device’s topics', async () => {
    const r = await checkBroker(mqtt(locked.url, { username: 'viewer', password: 'look' }));
    expect(r).toMatchObject({
      verdict: 'fail',
      detail:
        'connected as viewer, but publishing to vigil/yard/box1/doctor was refused: Publish error: Not authorized',
    });
  });

  it('fails when no broker listens, and hides credentials in the subject', async () => {
    const port = open.port;
    await open.stop();
    const r = await checkBroker(mqtt(`mqtt://user:pw@127.0.0.1:${port}`));
    await open.start();
    expect(r).toMatchObject({
      subject: `mqtt://***@127.0.0.1:${port}`,
      verdict: 'fail',
      detail: `connect ECONNREFUSED 127.0.0.1:${port} (is the broker running?)`,
    });
  });

  it('fails when a TLS file is missing', async () => {
    const r = await checkBroker(mqtt('mqtts://127.0.0.1:8883', { tls: { ca: '/nonexistent/ca.pem' } }));
    expect(r).toMatchObject({
      verdict: 'fail',
      detail: 'mqtt.tls.ca: cannot read /nonexistent/ca.pem: no such file',
    });
  });

  it('skips without a broker in the config', async () => {
    expect((await checkBroker(doctorConfig())).verdict).toBe('skip');
  });
});
