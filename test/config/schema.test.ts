import path from 'node:path';
import { defaultPm25Levels } from '../../config/pm25-levels-schema.js';
import { describe, expect, it } from 'vitest';
import { readConfigFile } from '../../config/load.js';
import { ModelConfig, MqttConfig, OutboxConfig, SourceUrl, VigilConfig } from '../../config/schema.js';
import { repoRoot } from '../support/shared.js';
import { base, problems, withCamera } from './minimal-config.js';

// Bounds and cross-field checks: schema-bounds.test.ts; the documented examples: schema-doc-examples.test.ts.

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
