import { logLines } from '../../support/log-lines.js';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import type { VigilConfigInput } from '../../../config/schema.js';
import {
  ConfigStore,
  preferPersisted,
  startConfig,
  type AttemptRecord,
  type StoredConfig,
} from '../../../agent/fleet/config-store.js';
import type { ManagedConfig } from '../../../agent/fleet/managed-config.js';

// The box's fleet files in <dataDir>/config/ and the choice of the config to start with (docs/fleet.md
// "Power cuts and crashes", "At start"), on real files in a temp dir and the real config schema.

const root = mkdtempSync(path.join(tmpdir(), 'vigil-config-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(root, `box${++n}`);

const modelA = path.join(root, 'a.onnx');
const modelB = path.join(root, 'b.onnx');
writeFileSync(modelA, 'a');
writeFileSync(modelB, 'b');

function fileConfig(dataDir: string, over: Partial<VigilConfigInput> = {}) {
  return validateConfig({
    site: 'yard',
    device: 'box1',
    dataDir,
    mqtt: { url: 'mqtt://file-broker:1883' },
    http: { enabled: false },
    models: { det: { path: modelA } },
    cameras: [{ id: 'dock', source: '/sim/dock', model: 'det', fps: 5 }],
    fleet: { keys: ['MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE='], revision: 10 },
    ...over,
  } as VigilConfigInput);
}

const managed = (over: Partial<ManagedConfig> = {}): ManagedConfig =>
  ({
    models: { det2: { path: modelB } },
    cameras: [
      { id: 'dock', source: '/sim/dock', model: 'det2', fps: 2 },
      { id: 'gate', source: '/sim/gate', model: 'det2' },
    ],
    ...over,
  }) as ManagedConfig;

const record = (revision: number, m: ManagedConfig = managed()): StoredConfig => ({
  format: 1,
  revision,
  digest: 'd'.repeat(64),
  target: 'group:north',
  appliedAt: 1_700_000_000_000,
  managed: m,
  document: { revision, target: 'group:north' },
});

const capture = () => logLines('debug');

describe('ConfigStore', () => {
  it('lives in <dataDir>/config; nothing stored yet reads as undefined', () => {
    const dataDir = freshDir();
    const store = new ConfigStore(dataDir);
    expect(store.dir).toBe(path.join(dataDir, 'config'));
    expect(store.currentFile).toBe(path.join(dataDir, 'config', 'current.json'));
    expect(store.load()).toBeUndefined();
    expect(store.loadAttempt()).toBeUndefined();
    expect(existsSync(store.dir)).toBe(false); // reading creates nothing
  });

  it('save writes current.json whole and a plain-text revision beside it; load reads it back', () => {
    const store = new ConfigStore(freshDir());
    store.save(record(11));
    expect(store.load()).toEqual(record(11));
    expect(readFileSync(path.join(store.dir, 'revision'), 'utf8')).toBe('11\n');
    expect(JSON.parse(readFileSync(store.currentFile, 'utf8'))).toEqual(record(11));
    store.save(record(12, managed({ logLevel: 'debug' })));
    expect(store.load()).toEqual(record(12, managed({ logLevel: 'debug' })));
    expect(readFileSync(path.join(store.dir, 'revision'), 'utf8')).toBe('12\n');
    expect(readdirSync(store.dir).sort()).toEqual(['current.json', 'revision']);
  });

  it('the attempt record round-trips, and is separate from the last-known-good config', () => {
    const store = new ConfigStore(freshDir());
    const a: AttemptRecord = { revision: 13, digest: 'e'.repeat(64), tries: 2, outcome: 'applying', at: 5 };
    store.saveAttempt(a);
    expect(store.loadAttempt()).toEqual(a);
    expect(store.load()).toBeUndefined();
    store.saveAttempt({ ...a, outcome: 'rolled_back' });
    expect(store.loadAttempt()).toEqual({ ...a, outcome: 'rolled_back' });
  });

  it('removes the temporary files a crash left behind, and nothing else', () => {
    const store = new ConfigStore(freshDir());
    mkdirSync(store.dir, { recursive: true });
    for (const f of [
      'current.json.tmp-4242',
      'attempt.json.tmp-7',
      'revision.tmp-1',
      'notes.tmp-x',
      'keep.txt',
    ])
      writeFileSync(path.join(store.dir, f), 'x');
    store.saveAttempt({ revision: 1, digest: 'x', tries: 1, outcome: 'applying', at: 0 });
    expect(readdirSync(store.dir).sort()).toEqual(['attempt.json', 'keep.txt', 'notes.tmp-x']);
    writeFileSync(path.join(store.dir, 'current.json.tmp-99'), '{"half');
    store.save(record(3));
    expect(readdirSync(store.dir).sort()).toEqual([
      'attempt.json',
      'current.json',
      'keep.txt',
      'notes.tmp-x',
      'revision',
    ]);
  });

  it('load throws, naming the file, on a record that is not one', () => {
    const store = new ConfigStore(freshDir());
    mkdirSync(store.dir, { recursive: true });
    const bad: [unknown, RegExp][] = [
      [{ ...record(3), format: 2 }, /current\.json: /],
      [{ ...record(3), revision: 0 }, /current\.json: /],
      [{ ...record(3), managed: { models: {} } }, /current\.json: expected models and cameras/],
      [{ ...record(3), extra: 1 }, /current\.json: /],
      [(({ digest: _d, ...r }) => r)(record(3)), /current\.json: /],
    ];
    for (const [value, want] of bad) {
      writeFileSync(store.currentFile, JSON.stringify(value));
      expect(() => store.load()).toThrow(want);
    }
    writeFileSync(store.currentFile, '{"format": 1, "revi');
    expect(() => store.load()).toThrow();
  });

  it('an unusable attempt record reads as none (it only limits retries)', () => {
    const store = new ConfigStore(freshDir());
    mkdirSync(store.dir, { recursive: true });
    const file = path.join(store.dir, 'attempt.json');
    for (const text of [
      JSON.stringify({ revision: 1, digest: 'x', tries: 0, outcome: 'applying', at: 0 }),
      JSON.stringify({ revision: 1, digest: 'x', tries: 1, outcome: 'maybe', at: 0 }),
      'null',
      '',
      '{"revision": 1, "dig',
    ]) {
      writeFileSync(file, text);
      expect(store.loadAttempt(), text).toBeUndefined();
    }
    // and the next attempt is recorded over it
    store.saveAttempt({ revision: 2, digest: 'y', tries: 1, outcome: 'applying', at: 1 });
    expect(store.loadAttempt()?.revision).toBe(2);
  });
});

describe('startConfig and preferPersisted', () => {
  it('without a fleet section the file is used, whatever is stored', () => {
    const dataDir = freshDir();
    new ConfigStore(dataDir).save(record(99));
    const file = fileConfig(dataDir, { fleet: undefined });
    expect(startConfig(file)).toEqual({ config: file, source: 'file', revision: 0 });
  });

  it('nothing stored: the file, at its own fleet.revision', () => {
    const file = fileConfig(freshDir());
    const s = startConfig(file);
    expect(s).toEqual({ config: file, source: 'file', revision: 10 });
    expect(preferPersisted(file)).toBe(file);
  });

  it('a stored config not above the file revision loses to the file (a local edit wins)', () => {
    const dataDir = freshDir();
    new ConfigStore(dataDir).save(record(10));
    const file = fileConfig(dataDir);
    expect(startConfig(file).source).toBe('file');
    new ConfigStore(dataDir).save(record(9));
    expect(startConfig(file).source).toBe('file');
  });

  it('a stored config above it wins: its models, cameras and sections over the box identity', () => {
    const dataDir = freshDir();
    const m = managed({ mqtt: { url: 'mqtt://fleet-broker:1883' } as ManagedConfig['mqtt'] });
    new ConfigStore(dataDir).save(record(11, m));
    const file = fileConfig(dataDir);
    const { lines, log } = capture();
    const s = startConfig(file, log);
    expect(s.source).toBe('fleet');
    expect(s.revision).toBe(11);
    expect(s.stored).toEqual(record(11, m));
    expect(Object.keys(s.config.models)).toEqual(['det2']);
    expect(s.config.cameras.map((c) => [c.id, c.model, c.fps])).toEqual([
      ['dock', 'det2', 2],
      ['gate', 'det2', undefined],
    ]);
    expect(s.config.cameras[1]).toMatchObject({ enabled: true, stallTimeoutS: 10 }); // validated
    expect(s.config.mqtt?.url).toBe('mqtt://fleet-broker:1883');
    expect(s.config.http).toEqual(file.http); // not named by the fleet: the file's
    expect([s.config.site, s.config.device, s.config.dataDir]).toEqual(['yard', 'box1', dataDir]);
    expect(s.config.fleet).toEqual({ ...file.fleet, revision: 11 });
    expect(file.fleet!.revision).toBe(10); // the file's config is not changed
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);

    const p = capture();
    expect(preferPersisted(file, p.log)).toEqual(s.config);
    expect(p.lines).toMatchObject([{ level: 'info', msg: 'using the persisted fleet config', revision: 11 }]);
  });

  it('a stored ${VAR} is expanded from the environment of this start; one it lacks is named, the file used', () => {
    const dataDir = freshDir();
    const m = managed({
      mqtt: { url: 'mqtt://fleet-broker:1883', password: '${FLEET_TEST_MQTT_PASS}' } as ManagedConfig['mqtt'],
    });
    new ConfigStore(dataDir).save(record(13, m));
    const file = fileConfig(dataDir);
    process.env.FLEET_TEST_MQTT_PASS = 'rotated-since-the-push';
    try {
      expect(startConfig(file).config.mqtt?.password).toBe('rotated-since-the-push');
    } finally {
      delete process.env.FLEET_TEST_MQTT_PASS;
    }
    const { lines, log } = capture();
    expect(startConfig(file, log)).toEqual({ config: file, source: 'file', revision: 10 });
    expect(lines).toMatchObject([
      {
        level: 'error',
        msg: 'persisted fleet config not usable, starting from the config file',
        reason:
          'invalid config: mqtt.password: environment variable FLEET_TEST_MQTT_PASS is not set (set it, or write ${FLEET_TEST_MQTT_PASS:-default})',
      },
    ]);
  });

  it('a stored config whose model file is gone is skipped with an error, and the file is used', () => {
    const dataDir = freshDir();
    const gone = path.join(root, 'gone.onnx');
    new ConfigStore(dataDir).save(
      record(
        12,
        managed({
          models: { det2: { path: modelB }, old: { path: gone } } as never,
          cameras: [
            { id: 'dock', source: '/sim/dock', model: 'det2' },
            { id: 'gate', source: '/sim/gate', model: 'old' },
          ] as never,
        }),
      ),
    );
    const file = fileConfig(dataDir);
    const { lines, log } = capture();
    expect(startConfig(file, log)).toEqual({ config: file, source: 'file', revision: 10 });
    expect(lines).toMatchObject([
      {
        level: 'error',
        msg: 'persisted fleet config not usable, starting from the config file',
        reason: `model file(s) missing: old (${gone})`,
      },
    ]);
    const p = capture();
    expect(preferPersisted(file, p.log)).toBe(file);
    expect(p.lines.map((l) => l.level)).toEqual(['error']);
  });

  it('a stored config that is unreadable or invalid over this file is logged, and the file is used', () => {
    const dataDir = freshDir();
    const store = new ConfigStore(dataDir);
    const file = fileConfig(dataDir);
    store.save(
      record(12, managed({ cameras: [{ id: 'dock', source: '/sim/dock', model: 'nope' }] as never })),
    );
    let c = capture();
    expect(startConfig(file, c.log).source).toBe('file');
    expect(c.lines[0]).toMatchObject({
      level: 'error',
      reason: expect.stringContaining('unknown model "nope"'),
    });
    writeFileSync(store.currentFile, '{"format":');
    c = capture();
    expect(startConfig(file, c.log)).toEqual({ config: file, source: 'file', revision: 10 });
    expect(c.lines.map((l) => l.level)).toEqual(['error']);
  });
  it('a truncated or empty current.json (a disk that lied about fsync) is refused naming the file', () => {
    const dataDir = freshDir();
    const store = new ConfigStore(dataDir);
    const file = fileConfig(dataDir);
    store.save(record(12));
    const whole = readFileSync(store.currentFile, 'utf8');
    for (const text of [whole.slice(0, whole.length >> 1), '', '\0\0\0\0']) {
      writeFileSync(store.currentFile, text);
      expect(() => store.load(), JSON.stringify(text)).toThrow(
        `${store.currentFile}: not valid JSON (${Buffer.byteLength(text)} bytes)`,
      );
      const c = capture();
      expect(startConfig(file, c.log)).toEqual({ config: file, source: 'file', revision: 10 });
      expect(c.lines).toMatchObject([
        { level: 'error', reason: expect.stringContaining(`${store.currentFile}: not valid JSON`) },
      ]);
    }
  });
});
