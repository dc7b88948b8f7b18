import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, loadConfig, validateConfig } from '../../config/load.js';
import { repoRoot } from '../support/shared.js';

const base = {
  site: 'yard',
  device: 'box1',
  models: { det: { path: '/models/det.onnx' } },
  cameras: [{ id: 'gate', source: 'rtsp://cam/stream', model: 'det' }],
};

function problems(input: unknown): string[] {
  try {
    validateConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
  return [];
}

function writeYaml(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-config-'));
  const file = path.join(dir, 'vigil.yaml');
  writeFileSync(file, text);
  return file;
}

describe('config validation', () => {
  it('fills defaults for a minimal config', () => {
    const cfg = validateConfig(base);
    expect(cfg.cameras[0]).toMatchObject({ enabled: true, hwaccel: 'none', stallTimeoutS: 10 });
    expect(cfg.models.det).toMatchObject({
      providers: ['tensorrt', 'cuda', 'cpu'],
      confidence: 0.25,
      iou: 0.45,
    });
    expect(cfg.outbox.synchronous).toBe('FULL');
  });

  it('names the path, what was expected and what it got', () => {
    const input = { ...base, cameras: [{ ...base.cameras[0], fps: 'ten' }] };
    expect(problems(input)).toEqual(['cameras[0].fps: expected number, got "ten"']);
  });

  it('refuses unknown fields, unknown models, duplicate ids and bad schemes', () => {
    const input = {
      ...base,
      colour: 'blue',
      cameras: [
        { id: 'gate', source: 'rtsp://cam/stream', model: 'nope' },
        { id: 'gate', source: 'ftp://cam/x', model: 'det' },
      ],
    };
    const lines = problems(input);
    expect(lines).toContain('(root): unknown field "colour"');
    expect(lines).toContain(
      'cameras[1].source: unsupported source scheme "ftp:" (expected rtsp://, rtsps://, http(s)://, file://, a path or /dev/video*)',
    );
    expect(lines).toContain('cameras[0].model: unknown model "nope" (defined: det)');
    expect(lines).toContain('cameras[1].id: duplicate camera id "gate"');
  });

  it('never shows a secret it complains about: URL credentials and secret fields are hidden', () => {
    // Found by running check-config on a site file with mistakes: every one of these printed the secret.
    const input = {
      ...base,
      mqtt: { url: 'http://vigil:BrokerPw1@10.0.0.5:1883', username: 'vigil', password: 12345678 },
      http: { auth: { token: 'shorttok99', user: 'admin', passwordHash: 'plainpassword' } },
    };
    const lines = problems(input);
    expect(lines).toEqual([
      'mqtt.url: expected mqtt://, mqtts://, ws:// or wss:// and the broker (mqtt://host:1883), got "http://***@10.0.0.5:1883"',
      'mqtt.password: expected string, got a number (value hidden)',
      'http.auth.token: an HTTP token needs at least 16 characters, got a string (value hidden)',
      'http.auth.passwordHash: expected scrypt:N:r:p:salt:key, got a string (value hidden)',
    ]);
    for (const secret of ['BrokerPw1', '12345678', 'shorttok99', 'plainpassword'])
      expect(lines.join('\n')).not.toContain(secret);
  });

  it('refuses TLS settings with a plain broker URL: they would be ignored and the password sent in clear', () => {
    const tls = { ca: '/etc/vigil/ca.pem' };
    expect(problems({ ...base, mqtt: { url: 'mqtt://broker:8883', password: 'pw', tls } })).toEqual([
      'mqtt.tls: set, but mqtt.url is mqtt:// (no TLS): use mqtts:// (or wss://), or remove tls',
    ]);
    expect(problems({ ...base, mqtt: { url: 'ws://broker:9001/mqtt', tls } })).toHaveLength(1);
    for (const url of ['mqtts://broker:8883', 'ssl://broker:8883', 'wss://broker/mqtt'])
      expect(problems({ ...base, mqtt: { url, tls } })).toEqual([]);
  });

  it('reports an enum mismatch with the allowed values', () => {
    const input = { ...base, models: { det: { path: 'x.onnx', providers: ['gpu'] } } };
    expect(problems(input)).toEqual([
      'models.det.providers[0]: expected one of "tensorrt", "cuda", "cpu", got "gpu"',
    ]);
  });
});

describe('config files and quick flags', () => {
  it('resolves paths against the file and expands ${VAR:-default}', () => {
    process.env.VIGIL_TEST_SITE = 'north';
    const file = writeYaml(
      [
        'site: ${VIGIL_TEST_SITE}',
        'device: ${VIGIL_TEST_UNSET:-box7}',
        'models:',
        '  det: { path: models/det.onnx }',
        'cameras:',
        '  - { id: a, source: clips/a.mp4, model: det }',
        '  - { id: b, source: "rtsp://u:p@cam/1", model: det }',
        'mqtt:',
        '  url: mqtts://broker:8883',
        '  tls: { ca: certs/ca.pem, cert: /etc/vigil/box.pem, key: certs/box.key }',
      ].join('\n'),
    );
    const cfg = loadConfig(file);
    const dir = path.dirname(file);
    expect(cfg.site).toBe('north');
    expect(cfg.device).toBe('box7');
    expect(cfg.models.det!.path).toBe(path.join(dir, 'models/det.onnx'));
    expect(cfg.cameras[0]!.source).toBe(path.join(dir, 'clips/a.mp4'));
    expect(cfg.cameras[1]!.source).toBe('rtsp://u:p@cam/1');
    // TLS files too: a service started from / must find the certificates kept beside its config.
    expect(cfg.mqtt!.tls).toEqual({
      ca: path.join(dir, 'certs/ca.pem'),
      cert: '/etc/vigil/box.pem',
      key: path.join(dir, 'certs/box.key'),
      rejectUnauthorized: true,
    });
  });

  it("resolves a camera's PM2.5 reference CSV against the file, and leaves an absolute one", () => {
    const example = parse(readFileSync(path.join(repoRoot, 'config/examples/pm25-milan.yaml'), 'utf8')) as {
      cameras: { pm25: object }[];
    };
    const pm25 = example.cameras[0]!.pm25;
    const camera = (id: string, referenceCsv: string) => ({
      id,
      source: 'rtsp://cam/1',
      model: 'det',
      pm25: { ...pm25, referenceCsv },
    });
    const file = writeYaml(
      stringify({ ...base, cameras: [camera('a', 'logs/pm25.csv'), camera('b', '/var/log/pm25.csv')] }),
    );
    const cfg = loadConfig(file);
    expect(cfg.cameras.map((c) => c.pm25!.referenceCsv)).toEqual([
      path.join(path.dirname(file), 'logs/pm25.csv'),
      '/var/log/pm25.csv',
    ]);
  });

  it('names every ${VAR} without a default that is not set, instead of expanding it to ""', () => {
    delete process.env.VIGIL_TEST_NO_PW;
    delete process.env.VIGIL_TEST_NO_HOST;
    process.env.VIGIL_TEST_EMPTY = '';
    const file = writeYaml(
      [
        'site: s${VIGIL_TEST_EMPTY}',
        'device: ${VIGIL_TEST_NO_HOST:-box7}',
        'mqtt: { url: "mqtt://127.0.0.1:1883", password: "${VIGIL_TEST_NO_PW}" }',
        'models:',
        '  det: { path: "/m/${VIGIL_TEST_NEVER_SET:-}det.onnx" }',
        'cameras:',
        '  - { id: a, source: "rtsp://u:${VIGIL_TEST_NO_PW}@${VIGIL_TEST_NO_HOST}/1", model: det }',
      ].join('\n'),
    );
    let err: unknown;
    try {
      loadConfig(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).lines).toEqual([
      'mqtt.password: environment variable VIGIL_TEST_NO_PW is not set (set it, or write ${VIGIL_TEST_NO_PW:-default})',
      'cameras[0].source: environment variable VIGIL_TEST_NO_PW is not set (set it, or write ${VIGIL_TEST_NO_PW:-default})',
      'cameras[0].source: environment variable VIGIL_TEST_NO_HOST is not set (set it, or write ${VIGIL_TEST_NO_HOST:-default})',
    ]);
    // Set (even to ""), or given a default (even an empty one): no problem.
    process.env.VIGIL_TEST_NO_PW = 'pw';
    process.env.VIGIL_TEST_NO_HOST = 'cam';
    const cfg = loadConfig(file);
    expect(cfg.site).toBe('s');
    expect(cfg.models.det!.path).toBe('/m/det.onnx');
    expect(cfg.cameras[0]!.source).toBe('rtsp://u:pw@cam/1');
    delete process.env.VIGIL_TEST_NO_PW;
    delete process.env.VIGIL_TEST_NO_HOST;
  });

  it('builds a one-camera config from flags alone', () => {
    const cfg = loadConfig(undefined, {
      source: 'rtsp://cam/1',
      model: '/m.onnx',
      mqtt: 'mqtt://127.0.0.1:1883',
      site: 's1',
      device: 'd1',
    });
    expect(cfg.cameras).toEqual([
      expect.objectContaining({ id: 'cam1', source: 'rtsp://cam/1', model: 'default' }),
    ]);
    expect(cfg.models.default!.path).toBe('/m.onnx');
    expect(cfg.mqtt!.url).toBe('mqtt://127.0.0.1:1883');
    expect([cfg.site, cfg.device]).toEqual(['s1', 'd1']);
  });

  it('lets flags override a file', () => {
    const file = writeYaml(JSON.stringify(base));
    const cfg = loadConfig(file, { source: '/tmp/x.mp4', model: '/other.onnx', http: '127.0.0.1:9999' });
    expect(cfg.cameras[0]!.source).toBe('/tmp/x.mp4');
    expect(cfg.models.det!.path).toBe('/other.onnx');
    expect(cfg.http).toMatchObject({ enabled: true, host: '127.0.0.1', port: 9999 });
  });

  it('gives one clear line for a YAML syntax error and for a missing file', () => {
    const file = writeYaml('site: [unclosed\n');
    expect(() => loadConfig(file)).toThrow(/YAML syntax at line \d+:\d+/);
    // Found with a mis-indented key: the position was said twice, the line ending in a colon.
    const indent = writeYaml('site: s\nmodels:\n  m:\n    path: x.onnx\n   confidence: 0.3\n');
    expect(() => loadConfig(indent)).toThrow(
      new ConfigError(['YAML syntax at line 5:1: All mapping items must start at the same column'], indent),
    );
    expect(() => loadConfig('/nonexistent/vigil.yaml')).toThrow(/cannot read config file/);
  });

  it('asks for a config or flags when given neither', () => {
    expect(() => loadConfig(undefined, {})).toThrow(/give --config FILE, or at least --source and --model/);
  });

  it('names the missing flag when only one of --source and --model is given without a file', () => {
    // --source alone said `cameras[0].model: unknown model "default" (defined: none)`.
    expect(() => loadConfig(undefined, { source: '/tmp/x.mp4' })).toThrow(
      new ConfigError(['--source needs --model (an ONNX detector) without a config file']),
    );
    expect(() => loadConfig(undefined, { model: '/m.onnx' })).toThrow(
      new ConfigError(['--model needs --source (a camera) without a config file']),
    );
  });
});
