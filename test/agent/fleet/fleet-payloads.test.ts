import { describe, expect, it } from 'vitest';
import {
  ConfigResultPayload,
  FleetStatePayload,
  LabelAgreement,
  RestartSection,
  ShadowReportPayload,
} from '../../../agent/fleet/fleet-payloads.js';
import { restartSections } from '../../../agent/fleet/managed-config.js';
import { ShadowStats } from '../../../agent/fleet/shadow-stats.js';

// The fleet's MQTT payloads (docs/mqtt.md "Fleet config"): what a box publishes on config/result,
// config/state and config/shadow, and what `vigil fleet push` and dashboards may rely on.

const result = {
  id: 'r1',
  site: 'yard',
  device: 'box1',
  revision: 12,
  status: 'applied',
  errors: [],
  changed: ['cameras.dock: added'],
  running: 12,
  ts: 1_700_000_000_000,
};
const state = {
  site: 'yard',
  device: 'box1',
  groups: ['north'],
  revision: 0,
  source: 'file',
  keyIds: ['0123456789abcdef'],
  ts: 1,
};
const agreement = { matched: 3, candidateOnly: 1, currentOnly: 0, precision: 0.75, recall: 1 };
const latency = { n: 2, mean: 4, p50: 4, p95: 5 };
const shadow = {
  site: 'yard',
  device: 'box1',
  revision: 3,
  candidate: 'cand',
  frames: 4,
  skipped: 1,
  agreedFrames: 2,
  overall: agreement,
  labels: { person: agreement },
  latencyMs: { current: latency, candidate: latency },
  since: 5,
  ts: 6,
};
const ok = (schema: { safeParse(v: unknown): { success: boolean } }, v: unknown) =>
  schema.safeParse(v).success;

describe('RestartSection', () => {
  it('the sections that wait for a restart are the ones the managed config treats so', () => {
    expect(RestartSection.options).toEqual(['mqtt', 'http', 'outbox', 'logLevel']);
    expect([...restartSections]).toEqual(RestartSection.options);
  });
});

describe('ConfigResultPayload', () => {
  it('accepts each status, a null revision for an unreadable document, and the optional fields', () => {
    for (const status of ['applied', 'rejected', 'rolled_back'])
      expect(ok(ConfigResultPayload, { ...result, status })).toBe(true);
    expect(
      ok(ConfigResultPayload, { ...result, revision: null, status: 'rejected', errors: ['not-json: x'] }),
    ).toBe(true);
    expect(ok(ConfigResultPayload, { ...result, restartRequired: ['mqtt', 'logLevel'], durationMs: 0 })).toBe(
      true,
    );
    expect(ok(ConfigResultPayload, { ...result, running: 0 })).toBe(true);
    expect(ok(ConfigResultPayload, { ...result, warnings: ['model "det": file not found: /m.onnx'] })).toBe(
      true,
    );
  });

  it.each([
    ['status', 'failed'],
    ['status', 'rolled-back'],
    ['revision', 1.5],
    ['revision', undefined],
    ['id', ''],
    ['running', -1],
    ['running', null],
    ['durationMs', -1],
    ['restartRequired', ['cameras']],
    ['warnings', []],
    ['warnings', 'x'],
    ['errors', 'x'],
    ['changed', undefined],
    ['ts', -1],
    ['ts', 1.5],
    ['extra', 1],
  ])('refuses %s = %j', (field, value) => {
    expect(ok(ConfigResultPayload, { ...result, [field]: value })).toBe(false);
  });
});

describe('FleetStatePayload', () => {
  it('a box on its own file, and one on a pushed config with its target and time', () => {
    expect(ok(FleetStatePayload, state)).toBe(true);
    expect(
      ok(FleetStatePayload, {
        ...state,
        revision: 9,
        source: 'fleet',
        target: 'group:north',
        appliedAt: 7,
        restartRequired: ['http'],
      }),
    ).toBe(true);
  });

  it.each([
    ['source', 'pushed'],
    ['revision', -1],
    ['revision', null],
    ['appliedAt', -5],
    ['groups', 'north'],
    ['keyIds', undefined],
    ['restartRequired', ['models']],
    ['extra', true],
  ])('refuses %s = %j', (field, value) => {
    expect(ok(FleetStatePayload, { ...state, [field]: value })).toBe(false);
  });
});

describe('ShadowReportPayload and LabelAgreement', () => {
  it('precision and recall are shares, null when there is nothing to divide', () => {
    expect(ok(LabelAgreement, { ...agreement, precision: null, recall: null })).toBe(true);
    expect(ok(LabelAgreement, { ...agreement, precision: 0, recall: 1 })).toBe(true);
    expect(ok(LabelAgreement, { ...agreement, precision: 1.01 })).toBe(false);
    expect(ok(LabelAgreement, { ...agreement, recall: -0.1 })).toBe(false);
    expect(ok(LabelAgreement, { ...agreement, matched: -1 })).toBe(false);
    expect(ok(LabelAgreement, { ...agreement, candidateOnly: 0.5 })).toBe(false);
    expect(ok(LabelAgreement, { ...agreement, extra: 0 })).toBe(false);
  });

  it('a report as the box builds it from its statistics passes; damaged ones do not', () => {
    const stats = new ShadowStats(0.5);
    const box = { x1: 0, y1: 0, x2: 10, y2: 10 };
    stats.add([{ label: 'person', classId: 0, score: 0.9, box }], [], { current: 3, candidate: 4 });
    stats.skipped = 2;
    const built = { site: 'yard', device: 'box1', revision: 3, candidate: 'cand', ...stats.report(), ts: 9 };
    expect(ShadowReportPayload.parse(built)).toEqual(built);
    expect(ok(ShadowReportPayload, shadow)).toBe(true);
    expect(ok(ShadowReportPayload, { ...shadow, labels: {} })).toBe(true);
    expect(ok(ShadowReportPayload, { ...shadow, frames: -1 })).toBe(false);
    expect(ok(ShadowReportPayload, { ...shadow, skipped: 0.5 })).toBe(false);
    expect(ok(ShadowReportPayload, { ...shadow, labels: { person: { matched: 1 } } })).toBe(false);
    expect(ok(ShadowReportPayload, { ...shadow, latencyMs: { current: latency } })).toBe(false);
    expect(
      ok(ShadowReportPayload, {
        ...shadow,
        latencyMs: { current: latency, candidate: { ...latency, n: -1 } },
      }),
    ).toBe(false);
    expect(
      ok(ShadowReportPayload, {
        ...shadow,
        latencyMs: { current: latency, candidate: latency, gpu: latency },
      }),
    ).toBe(false);
    expect(
      ok(ShadowReportPayload, {
        ...shadow,
        latencyMs: { current: { ...latency, p99: 9 }, candidate: latency },
      }),
    ).toBe(false);
    expect(ok(ShadowReportPayload, { ...shadow, since: undefined })).toBe(false);
    expect(ok(ShadowReportPayload, { ...shadow, extra: 1 })).toBe(false);
  });
});
