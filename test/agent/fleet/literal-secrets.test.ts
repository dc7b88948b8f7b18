import { describe, expect, it } from 'vitest';
import { literalSecrets } from '../../../agent/fleet/literal-secrets.js';

// What `vigil fleet sign` refuses to put in a document retained in clear (docs/fleet.md "Credentials").
describe('literalSecrets', () => {
  it('accepts references, a user without a password, and URLs without secrets', () => {
    expect(
      literalSecrets({
        cameras: [
          { id: 'a', source: 'rtsp://cam:${CAM_PASSWORD}@10.0.0.5/s' },
          { id: 'b', source: 'rtsp://${CAM_USERINFO}@10.0.0.6/s' },
          { id: 'c', source: 'rtsp://admin@10.0.0.7/s?channel=1' },
          { id: 'd', source: 'http://10.0.0.8/snap?token=${SNAP_TOKEN}' },
        ],
        mqtt: { url: 'mqtts://broker:8883', username: 'box', password: '${MQTT_PASSWORD}' },
        http: { auth: { token: '${VIGIL_HTTP_TOKEN}' } },
      }),
    ).toEqual([]);
  });

  it('names each field written with a secret, never the value; a default counts as written', () => {
    const found = literalSecrets({
      models: { det: { url: 'https://models.example/m.onnx?X-Amz-Signature=abc', sha256: 'f'.repeat(64) } },
      cameras: [
        { id: 'a', source: 'rtsp://cam:p@ss:word@10.0.0.5/s' },
        { id: 'b', source: 'rtsp://10.0.0.6/s?user=admin&password=hunter2' },
      ],
      mqtt: { url: 'mqtt://box:pw@broker:1883', password: '${MQTT_PASSWORD:-hunter2}' },
      http: { auth: { user: 'ops', passwordHash: 'scrypt:16384:8:1:c2FsdA==:a2V5' } },
    });
    expect(found).toEqual([
      'models.det.url: a "X-Amz-Signature" value in the URL',
      'cameras[0].source: a password in the URL',
      'cameras[1].source: a "password" value in the URL',
      'mqtt.url: a password in the URL',
      'mqtt.password: a literal password',
      'http.auth.passwordHash: a literal passwordHash',
    ]);
    expect(found.join()).not.toMatch(/hunter2|p@ss|abc|scrypt/);
  });
});
