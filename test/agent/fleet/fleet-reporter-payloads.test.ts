import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import type { VigilConfigInput } from '../../../config/schema.js';
import { ConfigResultPayload, FleetStatePayload } from '../../../agent/fleet/fleet-payloads.js';
import { FleetReporter } from '../../../agent/fleet/fleet-reporter.js';
import { fleetTopics } from '../../../agent/fleet/fleet-topics.js';
import {
  fileInput,
  host,
  json,
  managedOf,
  reporter,
  rows,
  stored,
  useReporterOutbox,
} from './fleet-reporter-fixture.js';

// The fleet service's reports (docs/fleet.md "Applying" step 6, docs/mqtt.md): retained `config/result` and
// `config/state` rows in a real SQLite outbox. The status page's view: fleet-reporter-status.test.ts; over
// a real broker: fleet-reporter-mqtt.test.ts.

useReporterOutbox();

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
