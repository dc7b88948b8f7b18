import { describe, expect, it } from 'vitest';
import { insecureSettings, isLoopbackHost } from '../../config/insecure-settings.js';
import { validateConfig } from '../../config/load.js';
import { base, camera } from './minimal-config.js';

const fieldsOf = (input: Record<string, unknown>) =>
  insecureSettings(validateConfig({ ...base, ...input })).map((s) => s.field);

describe('insecureSettings', () => {
  it('loopback hosts: localhost, 127.0.0.0/8, ::1 and its IPv4-mapped forms; nothing else', () => {
    for (const h of ['localhost', 'LocalHost', '127.0.0.1', '127.3.2.1', '::1', '[::1]', '[::ffff:7f00:1]'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.0.2.2', 'broker.lan', 'localhost.evil.example', '128.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('an MQTT password over mqtt:// or ws:// to another host, in the field or in the URL', () => {
    expect(fieldsOf({ mqtt: { url: 'mqtt://broker.lan:1883', username: 'u', password: 'p' } })).toEqual([
      'mqtt.password',
    ]);
    expect(fieldsOf({ mqtt: { url: 'ws://u:p@broker.lan/mqtt' } })).toEqual(['mqtt.url']);
    expect(fieldsOf({ mqtt: { url: 'tcp://10.1.1.1', password: 'p' } })).toEqual(['mqtt.password']);
    // TLS, no password, or a broker on this box: nothing to say.
    expect(fieldsOf({ mqtt: { url: 'mqtts://broker.lan', password: 'p' } })).toEqual([]);
    expect(fieldsOf({ mqtt: { url: 'mqtt://broker.lan', username: 'u' } })).toEqual([]);
    for (const url of ['mqtt://127.0.0.1:1883', 'mqtt://localhost', 'mqtt://[::1]:1883'])
      expect(fieldsOf({ mqtt: { url, password: 'p' } }), url).toEqual([]);
  });

  it('rejectUnauthorized: false, except towards a broker on this box', () => {
    const tls = { rejectUnauthorized: false };
    expect(fieldsOf({ mqtt: { url: 'mqtts://broker.lan', tls } })).toEqual(['mqtt.tls.rejectUnauthorized']);
    expect(fieldsOf({ mqtt: { url: 'mqtts://localhost', tls } })).toEqual([]);
    expect(fieldsOf({ mqtt: { url: 'mqtts://broker.lan', tls: {} } })).toEqual([]);
  });

  it('status page auth on a host other than loopback (the page is plain HTTP)', () => {
    const auth = { token: 'x'.repeat(24) };
    expect(fieldsOf({ http: { auth } })).toEqual(['http.auth']);
    expect(fieldsOf({ http: { host: '::', auth } })).toEqual(['http.auth']);
    expect(fieldsOf({ http: { host: '127.0.0.1', auth } })).toEqual([]);
    expect(fieldsOf({ http: { enabled: false, auth } })).toEqual([]);
    expect(fieldsOf({ http: {} })).toEqual([]); // no credentials to leak
  });

  it('camera credentials that travel in clear: http:// user/password, secret query parameters', () => {
    const sources = (...s: string[]) => ({
      cameras: s.map((source, i) => ({ ...camera, id: `c${i}`, source })),
    });
    expect(
      fieldsOf(
        sources(
          'http://admin:pw@10.0.0.5/mjpeg',
          'rtsp://10.0.0.6/live?token=abc',
          'rtsp://admin:pw@10.0.0.7/live', // Digest: the password itself is not sent
          'https://admin:pw@10.0.0.8/mjpeg',
          'http://admin@10.0.0.9/mjpeg', // a user alone is no secret
          'http://admin:pw@127.0.0.1:8554/mjpeg',
        ),
      ),
    ).toEqual(['cameras[0].source', 'cameras[1].source']);
    expect(fieldsOf({ cameras: [{ ...camera, source: 'http://a:pw@10.0.0.5/', enabled: false }] })).toEqual(
      [],
    );
  });

  it('names the field and the host, never the secret', () => {
    const all = insecureSettings(
      validateConfig({
        ...base,
        mqtt: { url: 'mqtt://broker.lan', password: 'hunter2' },
        http: { auth: { token: 'tok-secret-0123456789' } },
        cameras: [{ ...camera, source: 'http://admin:campass@10.0.0.5/mjpeg?api_key=k3y' }],
      }),
    );
    const text = JSON.stringify(all);
    for (const secret of ['hunter2', 'tok-secret', 'campass', 'k3y']) expect(text).not.toContain(secret);
    expect(all.map((s) => s.why)).toEqual([
      expect.stringContaining('goes to broker.lan in clear (mqtt:// has no TLS)'),
      expect.stringContaining('the login (token) crosses the network in clear'),
      expect.stringContaining('(user and password, api_key parameter) go to 10.0.0.5 in clear'),
    ]);
  });
});
