import { describe, expect, it } from 'vitest';
import {
  attachStatusHooks,
  detachStatusHooks,
  readDrift,
  readFleet,
  readPm25,
} from '../../../agent/web/status-hooks.js';
import { CameraDrift, CameraPm25, FleetStatus } from '../../../agent/web/status-schema.js';
import { Pm25Payload } from '../../../models/pm25/payloads.js';

const now = Date.parse('2026-11-30T12:00:00Z');
const hour = 3600_000;

/** A window as the PM2.5 service publishes it (validated against its own schema). */
function window(endMs: number, pm25: number | null, flags: Record<string, number> = {}): Pm25Payload {
  return Pm25Payload.parse({
    camera: 'roof',
    ts: new Date(endMs).toISOString(),
    windowStart: new Date(endMs - 5 * 60_000).toISOString(),
    windowMinutes: 5,
    unit: 'ug/m3',
    estimable: pm25 !== null,
    pm25,
    interval80: pm25 === null ? null : [pm25 * 0.8, pm25 * 1.25],
    interval95: pm25 === null ? null : [pm25 * 0.6, pm25 * 1.6],
    source: pm25 === null ? null : 'physical-prior',
    frames: 10,
    framesUsed: pm25 === null ? 0 : 10,
    flags,
    features: {
      betaPerKm: null,
      visibilityKm: null,
      angstrom: null,
      skyBlueRed: null,
      skySaturation: null,
      sharpness: null,
    },
    calibration: { state: 'uncalibrated', samples: 0, lastRefit: null },
  });
}

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
