import { describe, expect, it } from 'vitest';
import { crossReferenceIssues, HttpAuthConfig } from '../../config/schema.js';
import { base, camera, problems, withCamera, withModel } from './minimal-config.js';

describe('VigilConfig bounds name the field', () => {
  it.each([
    [{ site: 'a b' }, 'site: site ids use letters, digits, _ and -, got "a b"'],
    [{ device: 'box/1' }, 'device: device ids use letters, digits, _ and -, got "box/1"'],
    [{ logLevel: 'trace' }, 'logLevel: expected one of "debug", "info", "warn", "error", got "trace"'],
    [{ cameras: [] }, 'cameras: must be at least 1 item, got an array of 0'],
    [{ http: { port: 65536 } }, 'http.port: must be at most 65535, got number 65536'],
    [
      { outbox: { synchronous: 'SOMETIMES' } },
      'outbox.synchronous: expected one of "OFF", "NORMAL", "FULL", "EXTRA", got "SOMETIMES"',
    ],
    [
      { mqtt: { url: 'amqp://b' } },
      'mqtt.url: expected mqtt://, mqtts://, ws:// or wss:// and the broker (mqtt://host:1883), got "amqp://b"',
    ],
    [
      { mqtt: { url: 'mqtt://b', inflightWindow: 1001 } },
      'mqtt.inflightWindow: must be at most 1000, got number 1001',
    ],
    [
      { mqtt: { url: 'mqtt://b', reconnectMaxS: 3601 } },
      'mqtt.reconnectMaxS: must be at most 3600, got number 3601',
    ],
    [
      { mqtt: { url: 'mqtt://b', maxPacketBytes: 1000 } },
      'mqtt.maxPacketBytes: must be at least 1024, got number 1000',
    ],
    [{ http: { uploadTimeoutS: 61 } }, 'http.uploadTimeoutS: must be at most 60, got number 61'],
  ])('%j', (patch, line) => {
    expect(problems({ ...base, ...patch })).toEqual([line]);
  });

  it('bounds camera fields', () => {
    expect(problems(withCamera({ fps: 121 }))).toEqual([
      'cameras[0].fps: must be at most 120, got number 121',
    ]);
    expect(problems(withCamera({ fps: 120 }))).toEqual([]);
    expect(problems(withCamera({ fps: 0 }))).toEqual(['cameras[0].fps: must be more than 0, got number 0']);
    expect(problems(withCamera({ id: 'x'.repeat(65) }))[0]).toMatch(
      /^cameras\[0\]\.id: camera ids use letters/,
    );
    expect(problems(withCamera({ id: 'x'.repeat(64) }))).toEqual([]);
    expect(problems(withCamera({ id: 'dock 1' }))).toEqual([
      'cameras[0].id: camera ids use letters, digits, _ and - (MQTT topic safe), got "dock 1"',
    ]);
    expect(problems(withCamera({ hwaccel: 'nvdec' }))).toEqual([
      'cameras[0].hwaccel: expected one of "none", "jetson", "cuda", "vaapi", got "nvdec"',
    ]);
    expect(problems(withCamera({ failAfterAttempts: 1.5 }))).toEqual([
      'cameras[0].failAfterAttempts: expected a whole number, got number 1.5',
    ]);
    expect(problems(withCamera({ stallTimeoutS: 0 }))[0]).toMatch(
      /^cameras\[0\]\.stallTimeoutS: must be (at least|more than)/,
    );
    expect(problems(withCamera({ priority: 101 }))[0]).toMatch(
      /^cameras\[0\]\.priority: must be (at most|less than)/,
    );
  });

  it('refuses a base topic or discovery prefix the agent could not publish under (run exited 1 unnamed)', () => {
    const withMqtt = (extra: Record<string, unknown>) => ({ ...base, mqtt: { url: 'mqtt://b', ...extra } });
    expect(problems(withMqtt({ baseTopic: 'acme/#' }))).toEqual([
      'mqtt.baseTopic: topic level "#" holds an MQTT wildcard or NUL',
    ]);
    expect(problems(withMqtt({ baseTopic: 'acme/' }))).toEqual([
      'mqtt.baseTopic: topic levels must not be empty (no leading, trailing or double "/")',
    ]);
    expect(problems(withMqtt({ baseTopic: '' }))).toHaveLength(1);
    expect(problems(withMqtt({ homeAssistant: { prefix: 'ha/+' } }))).toEqual([
      'mqtt.homeAssistant.prefix: topic level "+" holds an MQTT wildcard or NUL',
    ]);
    expect(problems(withMqtt({ baseTopic: 'acme/vigil', homeAssistant: { prefix: 'ha' } }))).toEqual([]);
  });

  it('refuses an empty dataDir and http.host (the run kept its outbox in the working dir, served on [::])', () => {
    expect(problems({ ...base, dataDir: '' })).toEqual(['dataDir: must be at least 1 character, got ""']);
    expect(problems({ ...base, http: { host: '' } })).toEqual([
      'http.host: must be at least 1 character, got ""',
    ]);
  });

  it('bounds model fields', () => {
    expect(problems(withModel({ confidence: 1.1 }))).toEqual([
      'models.det.confidence: must be at most 1, got number 1.1',
    ]);
    expect(problems(withModel({ iou: -0.1 }))[0]).toMatch(/^models\.det\.iou: must be (at least|more than)/);
    expect(problems(withModel({ sha256: 'abc' }))).toEqual(['models.det.sha256: 64 hex digits, got "abc"']);
    expect(problems(withModel({ sha256: 'aB'.repeat(32) }))).toEqual([]);
    expect(problems(withModel({ family: 'yolov11' }))).toEqual([
      'models.det.family: expected one of "yolov8", "yolov5", "end2end", "yolox", got "yolov11"',
    ]);
    expect(problems(withModel({ providers: [] }))[0]).toMatch(
      /^models\.det\.providers: must be (at least|more than)/,
    );
    expect(problems(withModel({ workers: 65 }))[0]).toMatch(
      /^models\.det\.workers: must be (at most|less than)/,
    );
    expect(problems(withModel({ classes: { truck: { confidence: 2 } } }))[0]).toMatch(
      /^models\.det\.classes\.truck\.confidence: must be at most 1/,
    );
    expect(problems(withModel({ tensorrt: { fp16: false, cache: '/x' } }))).toEqual([
      'models.det.tensorrt: unknown field "cache"',
    ]);
    expect(
      problems({ ...base, models: { 'a b': { path: 'x' } }, cameras: [{ ...camera, model: 'a b' }] })[0],
    ).toMatch(/^models\.a b: /);
  });

  it('refuses unknown fields at every level', () => {
    expect(problems({ ...base, logleve: 'debug' })).toEqual([
      '(root): unknown field "logleve" (did you mean "logLevel"?)',
    ]);
    // With the field a typo most likely meant: a swap, a letter off, the case.
    expect(problems(withCamera({ fsp: 5 }))).toEqual([
      'cameras[0]: unknown field "fsp" (did you mean "fps"?)',
    ]);
    expect(problems(withModel({ confidense: 0.5 }))).toEqual([
      'models.det: unknown field "confidense" (did you mean "confidence"?)',
    ]);
    expect(problems({ ...base, outbox: { maxrows: 5 } })).toEqual([
      'outbox: unknown field "maxrows" (did you mean "maxRows"?)',
    ]);
    // Nothing close: no guess.
    expect(problems(withCamera({ banana: 1 }))).toEqual(['cameras[0]: unknown field "banana"']);
  });

  it('checks http.auth as docs/config.md says (token ≥ 16 chars and/or user + scrypt hash)', () => {
    const auth = (a: unknown) => problems({ ...base, http: { auth: a } });
    expect(auth({ token: 'x'.repeat(15) })).toEqual([
      // A secret is never echoed back, not even a refused one.
      'http.auth.token: an HTTP token needs at least 16 characters, got a string (value hidden)',
    ]);
    expect(auth({ token: 'x'.repeat(16) })).toEqual([]);
    expect(auth({ user: 'ops' })).toHaveLength(1);
    // The path once, as for every other field (it used to read "http.auth: http.auth: …").
    expect(auth({ user: 'ops' })).toEqual(['http.auth: user and passwordHash go together']);
    expect(auth({})).toEqual(['http.auth: give a token, or a user and passwordHash']);
    expect(auth({ user: 'ops', passwordHash: 'scrypt:16384:8:1:c2FsdA==:a2V5' })).toEqual([]);
    expect(auth({ user: 'ops', passwordHash: 'bcrypt:x' })[0]).toMatch(
      /^http\.auth\.passwordHash: expected scrypt:N:r:p:salt:key/,
    );
    expect(HttpAuthConfig.safeParse({ passwordHash: 'scrypt:1:1:1:a:b' }).success).toBe(false);
  });
});

describe('cross-field checks', () => {
  it('refuses a camera naming a model that is not defined, listing the defined ones', () => {
    expect(problems(withCamera({ model: 'nope' }))).toEqual([
      'cameras[0].model: unknown model "nope" (defined: det)',
    ]);
    expect(crossReferenceIssues({ models: {}, cameras: [camera] })).toEqual([
      { path: ['cameras', 0, 'model'], message: 'unknown model "det" (defined: none)' },
    ]);
  });

  it('refuses duplicate camera ids at the second one only', () => {
    const input = { ...base, cameras: [camera, { ...camera }, { ...camera, id: 'other' }, { ...camera }] };
    expect(problems(input)).toEqual([
      'cameras[1].id: duplicate camera id "gate"',
      'cameras[3].id: duplicate camera id "gate"',
    ]);
  });

  it('includes a camera’s safety checks under its path', () => {
    const input = withCamera({
      zones: [
        {
          id: 'bay',
          polygon: [
            [0, 0],
            [9, 0],
            [9, 9],
          ],
        },
      ],
      rules: [{ zone: 'dock', type: 'enter' }],
    });
    expect(problems(input)).toEqual(['cameras[0].rules[0].zone: unknown zone "dock" (defined: bay)']);
  });

  it('still reports cross-field problems when another field is wrong', () => {
    const input = { ...base, site: 'a b', cameras: [{ ...camera, model: 'nope' }] };
    expect(problems(input)).toEqual([
      'site: site ids use letters, digits, _ and -, got "a b"',
      'cameras[0].model: unknown model "nope" (defined: det)',
    ]);
  });

  it('tolerates a loose, broken shape', () => {
    expect(crossReferenceIssues({ models: 'x', cameras: [null, 3, { id: 'a' }] })).toEqual([]);
    expect(crossReferenceIssues({})).toEqual([]);
  });
});
