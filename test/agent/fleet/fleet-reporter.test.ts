import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/logger.js';
import { MqttConfig, OutboxConfig, type VigilConfig, type VigilConfigInput } from '../../../config/schema.js';
import type { StoredConfig } from '../../../agent/fleet/config-store.js';
import { FleetBody } from '../../../agent/fleet/fleet-document.js';
import type { FleetHost } from '../../../agent/fleet/fleet-host.js';
import { ConfigResultPayload, FleetStatePayload } from '../../../agent/fleet/fleet-payloads.js';
import { FleetReporter, type Running } from '../../../agent/fleet/fleet-reporter.js';
import { fleetTopics } from '../../../agent/fleet/fleet-topics.js';
import type { ManagedConfig } from '../../../agent/fleet/managed-config.js';
import { MqttLink } from '../../../agent/mqtt/mqtt-link.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import type { OutboxRow } from '../../../agent/outbox/outbox-types.js';
import { collect, startMosquitto } from '../../support/mosquitto.js';

// The fleet service's reports (docs/fleet.md "Applying" step 6, docs/mqtt.md, docs/http.md `fleet`):
// retained `config/result` and `config/state` through a real SQLite outbox, and the status page's view.

const root = mkdtempSync(path.join(tmpdir(), 'vigil-fleet-reporter-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fileInput: VigilConfigInput = {
  site: 'yard',
  device: 'box1',
  dataDir: root,
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'box' },
  http: { enabled: false },
  logLevel: 'info',
  models: { det: { path: '/m/det.onnx' } },
  cameras: [{ id: 'dock', source: '/sim/dock', model: 'det' }],
};

let outbox: Outbox;
let n = 0;
const lastPushFile = path.join(root, 'config', 'last-push.json');
beforeEach(() => {
  outbox = Outbox.open(path.join(root, `outbox-${++n}.db`), OutboxConfig.parse({ synchronous: 'OFF' }));
  rmSync(lastPushFile, { force: true }); // each test starts as a box that never had a push
});
afterEach(() => outbox.close());

/** What the reporter uses of the agent: its config, its outbox and (here absent) its MQTT link. */
function host(cfg: VigilConfig = validateConfig(fileInput), link?: FleetHost['link']): FleetHost {
  return { config: cfg, outbox, link, log: silentLogger } as unknown as FleetHost;
}
const reporter = (h = host()) =>
  new FleetReporter(h, fleetTopics('vigil'), ['north', 'dock-side'], ['k1', 'k2']);
const rows = (): OutboxRow[] => outbox.next(100, new Set());
const json = (r: OutboxRow) => JSON.parse(r.payload.toString('utf8')) as Record<string, unknown>;

/** Managed sections as a pushed document yields them (parsed by the real FleetBody). */
const managedOf = (extra: Record<string, unknown>): ManagedConfig =>
  FleetBody.parse({
    models: { det: { path: '/m/det.onnx' } },
    cameras: [{ id: 'dock', source: '/sim/dock', model: 'det' }],
    ...extra,
  }) as ManagedConfig;
const stored = (revision: number, managed: ManagedConfig): StoredConfig => ({
  format: 1,
  revision,
  digest: 'd',
  target: 'group:north',
  appliedAt: 1_700_000_000_123,
  managed,
  document: {},
});

describe('FleetReporter.result', () => {
  it('a retained result on <base>/<site>/<device>/config/result, priority 2, with the running revision', () => {
    const r = reporter();
    const before = Date.now();
    r.result(
      {
        revision: 12,
        status: 'applied',
        errors: [],
        changed: ['cameras.dock: fps'],
        restartRequired: ['mqtt'],
        durationMs: 420,
      },
      { revision: 12, source: 'fleet' },
    );
    const [row, ...more] = rows();
    expect(more).toEqual([]);
    expect(row).toMatchObject({ topic: 'vigil/yard/box1/config/result', retain: true, priority: 2 });
    const p = ConfigResultPayload.parse(json(row!));
    expect(p).toEqual({
      id: row!.id,
      site: 'yard',
      device: 'box1',
      revision: 12,
      status: 'applied',
      errors: [],
      changed: ['cameras.dock: fps'],
      restartRequired: ['mqtt'],
      running: 12,
      durationMs: 420,
      ts: p.ts,
    });
    expect(p.ts).toBeGreaterThanOrEqual(before);
    expect(r.lastPush).toEqual({ at: expect.any(Number) as number, status: 'applied', revision: 12 });
  });

  it('a refusal reports the revision the box still runs, and an unreadable document a null revision', () => {
    const r = reporter();
    r.result(
      { revision: 13, status: 'rejected', errors: ['stale: revision 13 is not above 14'], changed: [] },
      { revision: 14, source: 'fleet' },
    );
    r.result(
      { revision: null, status: 'rejected', errors: ['not-json: x'], changed: [] },
      { revision: 14, source: 'fleet' },
    );
    // Every result is kept (a push waits for its own revision's), in order.
    const [a, b] = rows().map(json);
    expect(a).toMatchObject({ revision: 13, status: 'rejected', running: 14 });
    expect(b).toMatchObject({ revision: null, status: 'rejected', running: 14, errors: ['not-json: x'] });
    expect(b).not.toHaveProperty('durationMs');
    expect(r.lastPush).toMatchObject({ status: 'rejected', revision: null, message: 'not-json: x' });
  });

  it('follows the site and device of the host and the base topic it is given', () => {
    const cfg = validateConfig({ ...fileInput, site: 'dock', device: 'cam-7' });
    const r = new FleetReporter(host(cfg), fleetTopics('acme/v'), [], []);
    r.result({ revision: 1, status: 'applied', errors: [], changed: [] }, { revision: 1, source: 'fleet' });
    r.state({ revision: 1, source: 'fleet' });
    expect(rows().map((x) => [x.topic, json(x).site, json(x).device])).toEqual([
      ['acme/v/dock/cam-7/config/result', 'dock', 'cam-7'],
      ['acme/v/dock/cam-7/config/state', 'dock', 'cam-7'],
    ]);
  });
});

describe('FleetReporter.state', () => {
  it('a retained latest-value state: running revision, source, groups and trusted key ids', () => {
    const r = reporter();
    r.state({ revision: 0, source: 'file' });
    const [row] = rows();
    expect(row).toMatchObject({ topic: 'vigil/yard/box1/config/state', retain: true, priority: 1 });
    const p = FleetStatePayload.parse(json(row!));
    expect(p).toEqual({
      site: 'yard',
      device: 'box1',
      groups: ['north', 'dock-side'],
      revision: 0,
      source: 'file',
      keyIds: ['k1', 'k2'],
      ts: p.ts,
    });
    // A newer state replaces one still waiting in the outbox.
    r.state({ revision: 5, source: 'fleet', stored: stored(5, managedOf({})) });
    const left = rows();
    expect(left).toHaveLength(1);
    expect(json(left[0]!)).toMatchObject({
      revision: 5,
      source: 'fleet',
      target: 'group:north',
      appliedAt: 1_700_000_000_123,
    });
    expect(json(left[0]!)).not.toHaveProperty('restartRequired');
    // Results are not latest-value rows: a state does not replace one.
    r.result({ revision: 6, status: 'applied', errors: [], changed: [] }, { revision: 6, source: 'fleet' });
    r.state({ revision: 6, source: 'fleet' });
    expect(rows().map((x) => x.topic)).toEqual([
      'vigil/yard/box1/config/result',
      'vigil/yard/box1/config/state',
    ]);
  });

  it('restartRequired: persisted transport sections that differ from what this process started with', () => {
    const started = validateConfig(fileInput);
    const h = host(started);
    const r = reporter(h);
    // A document repeating the file's sections (written in another key order) needs no restart.
    const same = managedOf({
      mqtt: { username: 'box', url: 'mqtt://127.0.0.1:1883' },
      http: { enabled: false },
      logLevel: 'info',
    });
    r.state({ revision: 3, source: 'fleet', stored: stored(3, same) });
    expect(json(rows().at(-1)!)).not.toHaveProperty('restartRequired');

    const changed = managedOf({
      mqtt: { url: 'mqtts://fleet:8883', username: 'box' },
      outbox: { maxRows: 1000 },
      logLevel: 'debug',
    });
    // The apply switches the host's config; the process still runs on what it started with.
    h.config = validateConfig({ ...fileInput, ...changed } as VigilConfigInput);
    r.state({ revision: 4, source: 'fleet', stored: stored(4, changed) });
    expect(FleetStatePayload.parse(json(rows().at(-1)!)).restartRequired).toEqual([
      'mqtt',
      'outbox',
      'logLevel',
    ]);
    // Sections the stored config does not name are never pending.
    r.state({ revision: 4, source: 'fleet', stored: stored(4, managedOf({ http: { enabled: false } })) });
    expect(json(rows().at(-1)!)).not.toHaveProperty('restartRequired');
    r.state({ revision: 4, source: 'fleet', stored: stored(4, managedOf({ http: { port: 9000 } })) });
    expect(json(rows().at(-1)!).restartRequired).toEqual(['http']);
  });
});

describe('FleetReporter.status', () => {
  it('for the status page: the revision only while a fleet config runs; the last push as docs/http.md shows', () => {
    const r = reporter();
    expect(r.status({ revision: 0, source: 'file' })).toEqual({ lastPush: null });
    expect(r.status({ revision: 7, source: 'fleet' })).toEqual({ revision: '7', lastPush: null });
    const before = Date.now();
    r.result(
      { revision: 8, status: 'rolled_back', errors: ['camera "dock": failed', 'second'], changed: [] },
      { revision: 7, source: 'fleet' },
    );
    const s = r.status({ revision: 7, source: 'fleet' }) as { lastPush: { at: number } };
    expect(s).toEqual({
      revision: '7',
      lastPush: { at: s.lastPush.at, result: 'rolled-back', revision: '8', message: 'camera "dock": failed' },
    });
    expect(s.lastPush.at).toBeGreaterThanOrEqual(before); // the time of the result, however slow the machine
    expect(s.lastPush.at).toBeLessThanOrEqual(Date.now());
    r.result(
      { revision: null, status: 'rejected', errors: ['not-json: x'], changed: [] },
      { revision: 7, source: 'file' },
    );
    expect(r.status({ revision: 7, source: 'file' })).toEqual({
      lastPush: { at: expect.any(Number) as number, result: 'rejected', message: 'not-json: x' },
    });
    r.result({ revision: 9, status: 'applied', errors: [], changed: [] }, { revision: 9, source: 'fleet' });
    expect((r.status({ revision: 9, source: 'fleet' }) as { lastPush: unknown }).lastPush).toEqual({
      at: expect.any(Number) as number,
      result: 'applied',
      revision: '9',
    });
    // Applied past a model that still fails: the page says so.
    const warnings = ['model "det": file not found: /m.onnx (still retried; camera dock waits for it)'];
    r.result(
      { revision: 10, status: 'applied', errors: [], changed: [], warnings },
      { revision: 10, source: 'fleet' },
    );
    expect((r.status({ revision: 10, source: 'fleet' }) as { lastPush: unknown }).lastPush).toMatchObject({
      result: 'applied',
      message: warnings[0],
    });
    expect(json(rows().at(-1)!).warnings).toEqual(warnings);
  });
});

describe('FleetReporter after a restart', () => {
  // The page said "none yet" after every restart, though the box had applied or refused pushes before.
  it('still knows how the last push ended (saved in <dataDir>/config/last-push.json)', () => {
    expect(reporter().lastPush).toBeNull();
    reporter().result(
      { revision: 8, status: 'rolled_back', errors: ['camera "dock": failed'], changed: [] },
      { revision: 7, source: 'fleet' },
    );
    const again = reporter(); // a new process on the same data dir
    expect(again.status({ revision: 7, source: 'fleet' })).toEqual({
      revision: '7',
      lastPush: {
        at: expect.any(Number) as number,
        result: 'rolled-back',
        revision: '8',
        message: 'camera "dock": failed',
      },
    });
    // A file it cannot read is no outcome, not a failure.
    writeFileSync(lastPushFile, '{"at": "yesterday"');
    expect(reporter().lastPush).toBeNull();
  });
});

describe('FleetReporter over a real MQTT link', () => {
  /** box1's link draining this file's outbox; `pollMs` (the link's own drain poll) when given. */
  const linkTo = (url: string, pollMs?: number) =>
    new MqttLink({
      cfg: MqttConfig.parse({ url }),
      statusTopic: 'vigil/yard/box1/status',
      outbox,
      log: silentLogger,
      version: '0.0.0',
      ...(pollMs !== undefined && { pollMs }),
    });

  it('results and states reach the broker retained at once (the link is woken, not left to its poll)', async () => {
    const broker = await startMosquitto();
    const link = linkTo(broker.url, 60_000);
    try {
      link.start();
      const live = await collect(broker.url, 'vigil/yard/box1/config/#');
      // Connected first (a row queued before would go with the connect's drain, woken or not).
      await vi.waitFor(() => expect(link.state.state).toBe('connected'), 30_000);
      const r = reporter(host(validateConfig({ ...fileInput, mqtt: { url: broker.url } }), link));
      const running: Running = { revision: 21, source: 'fleet' };
      // The link's poll is a minute away: what arrives within 20 s was sent because the link was woken.
      r.result({ revision: 21, status: 'applied', errors: [], changed: ['cameras.dock: added'] }, running);
      await live.waitFor((m) => m.some((x) => x.topic.endsWith('/config/result')), 20_000);
      r.state(running);
      await live.waitFor((m) => m.some((x) => x.topic.endsWith('/config/state')), 20_000);
      await live.close();
      // Retained: a push started later still sees both.
      const late = await collect(broker.url, 'vigil/yard/box1/config/#');
      await late.waitFor((m) => m.length >= 2, 20_000);
      expect(late.messages.every((m) => m.retain)).toBe(true);
      expect(late.messages.map((m) => JSON.parse(m.payload.toString()).revision)).toEqual([21, 21]);
      await late.close();
    } finally {
      await link.stop();
      await broker.stop();
    }
  });

  // Found pushing to real agents through a broker that restarted without its retained messages (its
  // persistence could not be written): `vigil fleet push` knew 1 box of 3 (the one that reconnected within
  // its settle time), reported "1 boxes, 1 applied" and exited 0.
  it('the state is published again at every connection: a broker that lost its retained messages learns it', async () => {
    const broker = await startMosquitto(); // no persistence: a restart forgets retained messages
    const link = linkTo(broker.url);
    const r = reporter(host(validateConfig({ ...fileInput, mqtt: { url: broker.url } }), link));
    const off = r.restateOnConnect(() => ({ revision: 33, source: 'fleet' }));
    const retainedState = async () => {
      const c = await collect(broker.url, 'vigil/yard/box1/config/state');
      await c.waitFor((m) => m.length >= 1, 30_000);
      await c.close();
      return c.messages[0]!;
    };
    try {
      r.state({ revision: 33, source: 'fleet' });
      link.start();
      expect(JSON.parse((await retainedState()).payload.toString())).toMatchObject({ revision: 33 });
      await broker.stop();
      await vi.waitFor(() => expect(link.state.state).not.toBe('connected'), 30_000);
      await broker.start();
      // Reconnected and every row acknowledged: what the broker holds now is retained, not in flight.
      await vi.waitFor(() => expect(link.counters().connects).toBe(2), 30_000);
      await vi.waitFor(() => expect(rows()).toEqual([]), 30_000);
      const again = await retainedState();
      expect(again.retain).toBe(true);
      expect(JSON.parse(again.payload.toString())).toMatchObject({ revision: 33, source: 'fleet' });
    } finally {
      off();
      await link.stop();
      await broker.stop();
    }
  });
});
