import { describe, expect, it } from 'vitest';
import {
  attachStatusHooks,
  detachStatusHooks,
  readDrift,
  readFleet,
  readPm25,
  readPm25Calibration,
} from '../../../agent/web/status-hooks.js';
import { Pm25ReferenceTally } from '../../../agent/services/pm25-reference-tally.js';
import { CameraDrift, CameraPm25, FleetStatus } from '../../../agent/web/status-schema.js';
import { pm25Window } from '../../support/pm25-window.js';

const now = Date.parse('2026-11-30T12:00:00Z');
const hour = 3600_000;

/** A window of the roof camera as the PM2.5 service publishes it. */
const window = (...args: Tail<Parameters<typeof pm25Window>>) => pm25Window('roof', ...args);
type Tail<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;

describe('status hooks: PM2.5, drift and fleet on the page without importing their services', () => {
  it('reads agent.pm25 as the PM2.5 service fills it: latest window, flags, the last 24 h oldest first', () => {
    const agent = {
      pm25: new Map([
        [
          'roof',
          [
            window(now - 30 * hour, 40), // older than 24 h: left out of the chart
            window(now - 2 * hour, 12),
            window(now - hour, null, { fog: 4 }),
            window(now - 5 * 60_000, 18.5, { night: 2 }),
          ],
        ],
      ]),
    };
    const pm = readPm25(agent, 'roof', now)!;
    expect(CameraPm25.parse(pm)).toEqual(pm);
    expect(pm.latest).toMatchObject({ ts: now - 5 * 60_000, pm25: 18.5, windowMinutes: 5, estimable: true });
    expect(pm.latest.flags).toEqual({ night: 2 });
    expect(pm.latest.interval95).toEqual([18.5 * 0.6, 18.5 * 1.6]);
    expect(pm.history.map((p) => p.pm25)).toEqual([12, null, 18.5]);
    // Its level (EPA by default; the config's http.pm25Levels otherwise) and the levels its 80 % band reaches.
    expect(pm.latest.level).toEqual({
      name: 'moderate',
      tone: 'warn',
      band80: { low: 'moderate', high: 'moderate' },
    });
    const site = [
      { name: 'fine', upTo: 15, tone: 'ok' as const },
      { name: 'not fine', tone: 'bad' as const },
    ];
    expect(readPm25(agent, 'roof', now, site)!.latest.level).toEqual({
      name: 'not fine',
      tone: 'bad',
      band80: { low: 'fine', high: 'not fine' },
    });
    expect(readPm25(agent, 'gate', now)).toBeUndefined();
    expect(readPm25({}, 'roof', now)).toBeUndefined();
  });

  it("says how far the site model has got, and what became of the sensor's readings", () => {
    const refit = '2026-11-30T11:00:00.000Z';
    const tally = new Pm25ReferenceTally('vigil/s/d/cameras/roof/pm25/reference');
    const agent = {
      pm25: new Map([
        ['roof', [window(now, 20, {}, { state: 'calibrating', samples: 7, lastRefit: refit })]],
        ['gate', [window(now, 9)]],
      ]),
      pm25References: new Map([['roof', tally]]),
    };
    const roof = () => readPm25(agent, 'roof', now)!;
    expect(roof().calibration).toEqual({ state: 'calibrating', samples: 7, lastRefit: Date.parse(refit) });
    expect(readPm25Calibration(agent, 'roof')).toEqual(roof().calibration);
    expect(roof().reference).toEqual({
      topic: 'vigil/s/d/cameras/roof/pm25/reference',
      csv: null,
      csvProblem: null,
      paired: 0,
      notPaired: 0,
      refused: 0,
      last: null,
    });
    tally.record({
      via: 'mqtt',
      receivedAt: now - 2000,
      ts: '2026-11-30T12:00:00+01:00',
      pm25: 21,
      outcome: 'paired',
    });
    tally.record({
      via: 'mqtt',
      receivedAt: now - 1000,
      ts: null,
      pm25: null,
      outcome: 'refused',
      reason: 'pm25: Required',
    });
    tally.record({
      via: 'csv',
      receivedAt: now,
      ts: '2026-11-30T13:00:00+01:00',
      pm25: 22.5,
      outcome: 'not-paired',
      reason: 'no frame that passed the gates',
    });
    expect(CameraPm25.parse(roof())).toEqual(roof());
    expect(roof().reference).toEqual({
      topic: 'vigil/s/d/cameras/roof/pm25/reference',
      csv: null,
      csvProblem: null,
      paired: 1,
      notPaired: 1,
      refused: 1,
      last: {
        receivedAt: now,
        via: 'csv',
        ts: Date.parse('2026-11-30T12:00:00Z'),
        pm25: 22.5,
        outcome: 'not-paired',
        reason: 'no frame that passed the gates',
      },
    });
    // No MQTT link, so no tally: null, which the page words as "no way to send readings".
    expect(readPm25(agent, 'gate', now)!.reference).toBeNull();
    expect(readPm25(agent, 'gate', now)!.calibration).toEqual({
      state: 'uncalibrated',
      samples: 0,
      lastRefit: null,
    });
    expect(readPm25Calibration(agent, 'dock')).toBeNull();
  });

  it('a drift service attaches a summary hook; the page gets state, since, score and drivers', () => {
    const agent = {};
    expect(readDrift(agent, 'yard')).toBeUndefined();
    const summary = {
      ts: now,
      state: 'warn',
      stateSince: now - 60_000,
      score: 0.31,
      drivers: ['brightness'],
    };
    attachStatusHooks(agent, { drift: { summary: (id) => (id === 'yard' ? summary : undefined) } });
    const d = readDrift(agent, 'yard')!;
    expect(CameraDrift.parse(d)).toEqual({
      state: 'warn',
      since: now - 60_000,
      score: 0.31,
      drivers: ['brightness'],
      ts: now,
    });
    expect(readDrift(agent, 'gate')).toBeUndefined();
    // A payload of the wrong shape is ignored rather than breaking the page.
    attachStatusHooks(agent, { drift: { summary: () => ({ state: 'purple' }) } });
    expect(readDrift(agent, 'yard')).toBeUndefined();
    detachStatusHooks(agent);
    expect(readDrift(agent, 'yard')).toBeUndefined();
  });

  it('a fleet service attaches its last push; attaching drift later keeps it', () => {
    const agent = {};
    const lastPush = { at: now, result: 'rejected' as const, revision: 'r7', message: 'signature' };
    attachStatusHooks(agent, { fleet: { status: () => ({ revision: 'r6', lastPush }) } });
    attachStatusHooks(agent, { drift: { summary: () => undefined } });
    const f = readFleet(agent)!;
    expect(f).toEqual({ revision: 'r6', lastPush });
    expect(FleetStatus.parse({ lastPush: f.lastPush })).toEqual({ lastPush });
  });
});
