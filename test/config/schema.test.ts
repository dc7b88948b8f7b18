import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultPm25Levels } from '../../config/pm25-levels-schema.js';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, readConfigFile, validateConfig } from '../../config/load.js';
import {
  crossReferenceIssues,
  HttpAuthConfig,
  ModelConfig,
  MqttConfig,
  OutboxConfig,
  redactUrl,
  SourceUrl,
  VigilConfig,
} from '../../config/schema.js';
import { repoRoot } from '../support/shared.js';

const camera = { id: 'gate', source: 'rtsp://cam/stream', model: 'det' };
const base = { site: 'yard', device: 'box1', models: { det: { path: '/m/det.onnx' } }, cameras: [camera] };

/** The lines `vigil check-config` would print (empty when valid). */
function problems(input: unknown): string[] {
  try {
    validateConfig(input);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
}
const withCamera = (extra: Record<string, unknown>) => ({ ...base, cameras: [{ ...camera, ...extra }] });
const withModel = (extra: Record<string, unknown>) => ({
  ...base,
  models: { det: { path: '/m/det.onnx', ...extra } },
});

describe('VigilConfig defaults (docs/config.md)', () => {
  const cfg = VigilConfig.parse(base);

  it('fills the top level as documented', () => {
    expect(cfg.dataDir).toBe('./data');
    expect(cfg.logLevel).toBe('info');
    expect(cfg.mqtt).toBeUndefined();
    expect(cfg.drift).toBeUndefined();
    expect(cfg.fleet).toBeUndefined();
    expect(cfg.outbox).toEqual({
      maxRows: 200_000,
      maxBytes: 512 * 1024 * 1024,
      maxAgeHours: 72,
      minFreeMiB: 64,
      synchronous: 'FULL',
      drainRatePerS: 100,
    });
    expect(cfg.http).toEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 8080,
      uploadTimeoutS: 10,
      pm25Levels: defaultPm25Levels,
    });
  });

  it('fills a camera as documented', () => {
    expect(cfg.cameras[0]).toMatchObject({
      enabled: true,
      loop: false,
      realtime: true,
      hwaccel: 'none',
      stallTimeoutS: 10,
      connectTimeoutS: 20,
      failAfterAttempts: 5,
      zones: [],
      rules: [],
      priority: 1,
    });
    expect(cfg.cameras[0]!.fps).toBeUndefined();
    expect(cfg.cameras[0]!.proximity.margin).toEqual({ ratio: 0.25 });
    expect(cfg.cameras[0]!.tracking.enabled).toBe(true);
    expect(cfg.cameras[0]!.motion.enabled).toBe(false);
  });

  it('fills a model as documented', () => {
    expect(cfg.models.det).toEqual({
      path: '/m/det.onnx',
      providers: ['tensorrt', 'cuda', 'cpu'],
      intraOpThreads: 1,
      confidence: 0.25,
      iou: 0.45,
      classes: {},
      labels: {},
      onlyMapped: false,
    });
  });

  it('fills mqtt as documented', () => {
    const mqtt = MqttConfig.parse({ url: 'mqtt://broker:1883' });
    expect(mqtt).toEqual({
      url: 'mqtt://broker:1883',
      baseTopic: 'vigil',
      keepaliveS: 30,
      reconnectMaxS: 30,
      inflightWindow: 32,
      healthIntervalS: 30,
      homeAssistant: { enabled: false, prefix: 'homeassistant' },
    });
    expect(MqttConfig.parse({ url: 'mqtts://b', tls: {} }).tls).toEqual({ rejectUnauthorized: true });
  });

  it('does not share default objects between parses', () => {
    const a = VigilConfig.parse(base);
    a.outbox.maxRows = 1;
    a.cameras[0]!.zones.push({ id: 'z', polygon: [], confirmFrames: 2 });
    const b = VigilConfig.parse(base);
    expect(b.outbox.maxRows).toBe(200_000);
    expect(b.cameras[0]!.zones).toEqual([]);
  });

  it('gives each camera its own nested defaults, arrays inside them included', () => {
    // The PM2.5 example has every nested default (gates, prior, calibration; proximity, tracking, motion).
    const example = readConfigFile(path.join(repoRoot, 'config/examples/pm25-milan.yaml'));
    const cam = example.cameras![0]!;
    const twice = { ...example, cameras: [cam, { ...cam, id: `${cam.id}-2` }] };
    const [a, b] = VigilConfig.parse(twice).cameras;
    const shared = sharedObjects(a, b);
    expect(shared).toEqual([]);
    // And the check can see sharing: the same array in both inputs stays the same array.
    expect(sharedObjects({ x: [1] }, { x: [1] })).toEqual([]);
    const one = [1];
    expect(sharedObjects({ x: one }, { x: one })).toEqual(['x']);
  });
});

/** Paths of the objects and arrays that `a` and `b` hold by the same reference at the same place. */
function sharedObjects(a: unknown, b: unknown, at = ''): string[] {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return [];
  if (a === b) return [at];
  return Object.keys(a).flatMap((k) =>
    sharedObjects(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      at ? `${at}.${k}` : k,
    ),
  );
}

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

describe('SourceUrl', () => {
  it.each([
    'rtsp://cam/1',
    'rtsps://cam/1',
    'http://cam/mjpeg',
    'https://cam/mjpeg',
    'file:///clips/a.mp4',
    '/dev/video0',
    'clips/a.mp4',
    'C:/clips/a.mp4',
  ])('accepts %s', (source) => {
    expect(SourceUrl.safeParse(source).success).toBe(true);
  });

  it('refuses other schemes, naming them, and a broken URL without its password', () => {
    expect(problems(withCamera({ source: 'ftp://cam/x' }))).toEqual([
      'cameras[0].source: unsupported source scheme "ftp:" (expected rtsp://, rtsps://, http(s)://, file://, a path or /dev/video*)',
    ]);
    expect(problems(withCamera({ source: 'rtsp://admin:hunter2@[bad/x' }))).toEqual([
      'cameras[0].source: not a valid URL: rtsp://***@[bad/x',
    ]);
    expect(problems(withCamera({ source: '' }))[0]).toMatch(
      /^cameras\[0\]\.source: must be (at least|more than)/,
    );
  });
});

describe('redactUrl', () => {
  it('hides user and password up to the last "@" of the authority', () => {
    expect(redactUrl('rtsp://admin:secret@10.0.0.2:554/s')).toBe('rtsp://***@10.0.0.2:554/s');
    expect(redactUrl('rtsp://admin@10.0.0.2/s')).toBe('rtsp://***@10.0.0.2/s');
    expect(redactUrl('RTSP://a:b@c@host/x?y')).toBe('RTSP://***@host/x?y');
    expect(redactUrl('mqtts://u:p@broker:8883')).toBe('mqtts://***@broker:8883');
  });

  it('hides secret query parameters whatever their case and separator', () => {
    expect(redactUrl('http://cam/a?Password=x&PWD=y&user=admin')).toBe(
      'http://cam/a?Password=***&PWD=***&user=admin',
    );
    expect(redactUrl('http://cam/a?apikey=1;api_key=2&auth=3&secret=4&key=5&pass=6&passwd=7')).toBe(
      'http://cam/a?apikey=***;api_key=***&auth=***&secret=***&key=***&pass=***&passwd=***',
    );
  });

  it('hides the other names cameras, SRT and signed URLs give their secrets', () => {
    // Found on a real agent: a camera source with ?access_token=…&pw=… showed both values in /api/status
    // and in the log.
    expect(
      redactUrl('rtsp://cam/s?access_token=1&pw=2&authToken=3&api-key=4&X-Amz-Signature=5&sig=6&keep=7'),
    ).toBe(
      'rtsp://cam/s?access_token=***&pw=***&authToken=***&api-key=***&X-Amz-Signature=***&sig=***&keep=7',
    );
    expect(redactUrl('srt://cam:9000?mode=caller&passphrase=0123456789')).toBe(
      'srt://cam:9000?mode=caller&passphrase=***',
    );
    expect(redactUrl('https://s3/x.mp4?X-Amz-Credential=a%2Fb&X-Amz-Security-Token=c&X-Amz-Expires=60')).toBe(
      'https://s3/x.mp4?X-Amz-Credential=***&X-Amz-Security-Token=***&X-Amz-Expires=60',
    );
  });

  it('leaves strings without secrets alone', () => {
    for (const s of [
      'rtsp://10.0.0.2/s',
      '/dev/video0',
      'mail me at ops@example.com',
      'http://cam/a?monkey=1&keys=2',
      'http://cam/a?keyframes=1&passes=2&signal=3&author=4&tokens=5',
      '',
    ])
      expect(redactUrl(s)).toBe(s);
  });

  it('hides every URL of a longer text', () => {
    expect(redactUrl('a rtsp://u:p@h1/x b rtsp://u2:p2@h2/y?token=t c')).toBe(
      'a rtsp://***@h1/x b rtsp://***@h2/y?token=*** c',
    );
  });
});

describe('documented examples', () => {
  /** YAML blocks of a doc page, parsed. */
  const yamlBlocks = (file: string) =>
    [...readFileSync(path.join(repoRoot, 'docs', file), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map(
      (m) => parseYaml(m[1]!) as Record<string, unknown>,
    );

  it('docs/safety.md: the camera example parses with the documented rule defaults', () => {
    const [doc] = yamlBlocks('safety.md');
    const cameras = (doc!.cameras as Record<string, unknown>[]).map((c) => ({
      ...c,
      source: 'rtsp://cam/1',
    }));
    const cfg = VigilConfig.parse({ ...base, models: { forklift: { path: 'f.onnx' } }, cameras });
    const cam = cfg.cameras[0]!;
    expect(cam.priority).toBe(2);
    expect(cam.rules.map((r) => [r.id, r.labels])).toEqual([
      [undefined, ['person']],
      [undefined, ['person']],
      ['bay-crowd', ['person']],
      [undefined, ['forklift']],
    ]);
    expect(cam.motion).toMatchObject({ enabled: true, heartbeatFps: 1, width: 160 });
  });

  it('docs/drift.md: the config example is exactly the defaults, as `drift: {}` gives them', () => {
    const [doc] = yamlBlocks('drift.md');
    const written = VigilConfig.parse({ ...base, drift: doc!.drift }).drift;
    expect(VigilConfig.parse({ ...base, drift: {} }).drift).toEqual(written);
  });

  it.each(['config/demo.yaml', 'config/examples/site.yaml', 'config/examples/pm25-milan.yaml'])(
    '%s parses as written (before ${VAR} expansion of ids)',
    (file) => {
      const doc = parseYaml(readFileSync(path.join(repoRoot, file), 'utf8')) as Record<string, unknown>;
      // Values from the environment are checked after expansion (test/config/examples.test.ts); stand in for them.
      const text = JSON.stringify(doc).replace(
        /\$\{[A-Z_]+(?::-([^}]*))?\}/g,
        (_, d: string | undefined) => d ?? 'x',
      );
      const cfg = VigilConfig.parse(JSON.parse(text));
      for (const c of cfg.cameras) expect(Object.keys(cfg.models)).toContain(c.model);
    },
  );

  it('site.yaml overrides only what it sets', () => {
    const doc = parseYaml(readFileSync(path.join(repoRoot, 'config/examples/site.yaml'), 'utf8')) as object;
    const cfg = VigilConfig.parse(
      JSON.parse(JSON.stringify(doc).replace(/\$\{[A-Z_]+(?::-([^}]*))?\}/g, 'x')),
    );
    expect(cfg.outbox).toMatchObject({ maxRows: 500000, maxAgeHours: 168, maxBytes: 512 * 1024 * 1024 });
    expect(cfg.models.forklift!.classes.forklift).toEqual({ confidence: 0.4 });
    expect(cfg.drift).toMatchObject({ windowMinutes: 15, imageEvery: 2, imageStep: 4 });
  });
});

describe('OutboxConfig', () => {
  it('refuses non-positive bounds', () => {
    for (const key of ['maxRows', 'maxBytes', 'maxAgeHours', 'drainRatePerS']) {
      const r = OutboxConfig.safeParse({ [key]: 0 });
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.path).toEqual([key]);
    }
    expect(OutboxConfig.safeParse({ maxRows: 1.5 }).success).toBe(false);
  });
});

describe('ModelConfig', () => {
  it('takes an input size as two positive ints', () => {
    expect(ModelConfig.parse({ path: 'x', inputSize: [640, 384] }).inputSize).toEqual([640, 384]);
    expect(ModelConfig.safeParse({ path: 'x', inputSize: [640] }).success).toBe(false);
    expect(ModelConfig.safeParse({ path: 'x', inputSize: [640, 0] }).success).toBe(false);
  });
});
