import { describe, expect, it } from 'vitest';
import {
  cameraSafetyIssues,
  CameraSafetyConfig,
  Margin,
  MotionConfig,
  Polygon,
  ProximityConfig,
  SafetyConfig,
  TrackingConfig,
  ZoneConfig,
  ZoneRule,
} from '../../config/safety-schema.js';

const square: [number, number][] = [
  [0, 0],
  [10, 0],
  [10, 10],
  [0, 10],
];
/** `path: message` of the first issue, or undefined when it parses. */
function firstIssue(
  schema: {
    safeParse(v: unknown): {
      success: boolean;
      error?: { issues: { path: PropertyKey[]; message: string }[] };
    };
  },
  value: unknown,
) {
  const r = schema.safeParse(value);
  if (r.success) return undefined;
  const issue = r.error!.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

describe('camera safety defaults (docs/safety.md)', () => {
  const cfg = CameraSafetyConfig.parse({});

  it('has no zones or rules, priority 1', () => {
    expect(cfg.zones).toEqual([]);
    expect(cfg.rules).toEqual([]);
    expect(cfg.priority).toBe(1);
  });

  it('proximity', () => {
    expect(cfg.proximity).toEqual({
      enabled: true,
      personLabels: ['person'],
      vehicleLabels: ['forklift'],
      margin: { ratio: 0.25 },
      cooldownS: 10,
      clearS: 1,
      severity: { high: 0.33, medium: 0.67 },
    });
    expect(ProximityConfig.parse({ severity: { high: 0.1 } }).severity).toEqual({ high: 0.1, medium: 0.67 });
  });

  it('tracking', () => {
    expect(cfg.tracking).toEqual({
      enabled: true,
      highScore: 0.5,
      lowScore: 0.1,
      newTrackScore: 0.6,
      matchIou: 0.2,
      lowMatchIou: 0.5,
      minHits: 2,
      lostTtlS: 2,
      lostMinMisses: 3,
    });
  });

  it('motion', () => {
    expect(cfg.motion).toEqual({
      enabled: false,
      width: 160,
      backgroundS: 0.5,
      pixelThreshold: 20,
      cellSize: 8,
      cellThreshold: 0.08,
      minCells: 1,
      globalChange: 0.6,
      heartbeatFps: 1,
      holdS: 1,
      masks: [],
    });
  });

  it('zones and rules', () => {
    expect(ZoneConfig.parse({ id: 'bay', polygon: square }).confirmFrames).toBe(2);
    expect(ZoneRule.parse({ zone: 'bay', type: 'enter' })).toEqual({
      zone: 'bay',
      type: 'enter',
      labels: ['person'],
    });
  });

  it('snapshots (top-level safety)', () => {
    const snapshots = {
      enabled: true,
      dir: 'snapshots',
      maxCount: 1000,
      maxMiB: 200,
      maxAgeHours: 72,
      quality: 80,
    };
    expect(SafetyConfig.parse({}).snapshots).toEqual(snapshots);
    expect(SafetyConfig.parse({ snapshots: {} }).snapshots).toEqual(snapshots);
  });
});

describe('safety bounds', () => {
  it.each([
    { schema: Polygon, value: square.slice(0, 2), issue: ': a polygon needs at least three points' },
    {
      schema: Polygon,
      value: [
        [-1, 0],
        [1, 0],
        [1, 1],
      ],
      issue: '0.0: Too small: expected number to be >=0',
    },
    {
      schema: ZoneConfig,
      value: { id: 'bay', polygon: square, confirmFrames: 31 },
      issue: 'confirmFrames: Too big: expected number to be <=30',
    },
    {
      schema: ZoneConfig,
      value: { id: 'bay', polygon: square, confirmFrames: 0 },
      issue: 'confirmFrames: Too small: expected number to be >0',
    },
    {
      schema: ZoneConfig,
      value: { id: 'loading bay', polygon: square },
      issue: 'id: ids use letters, digits, _ and -',
    },
    {
      schema: ZoneRule,
      value: { zone: 'bay', type: 'dwell' },
      issue: 'dwellS: Invalid input: expected number, received undefined',
    },
    {
      schema: ZoneRule,
      value: { zone: 'bay', type: 'count', max: -1 },
      issue: 'max: Too small: expected number to be >=0',
    },
    {
      schema: ZoneRule,
      value: { zone: 'bay', type: 'enter', labels: [] },
      issue: 'labels: Too small: expected array to have >=1 items',
    },
    {
      schema: ZoneRule,
      value: { zone: 'bay', type: 'enter', dwellS: 3 },
      issue: ': Unrecognized key: "dwellS"',
    },
    { schema: Margin, value: { ratio: 5.1 }, issue: 'ratio: Too big: expected number to be <=5' },
    {
      schema: ProximityConfig,
      value: { severity: { high: 1.5 } },
      issue: 'severity.high: Too big: expected number to be <=1',
    },
    {
      schema: ProximityConfig,
      value: { cooldownS: -1 },
      issue: 'cooldownS: Too small: expected number to be >=0',
    },
    {
      schema: TrackingConfig,
      value: { matchIou: 0 },
      issue: 'matchIou: Too small: expected number to be >0',
    },
    {
      schema: TrackingConfig,
      value: { highScore: 1.01 },
      issue: 'highScore: Too big: expected number to be <=1',
    },
    { schema: MotionConfig, value: { width: 15 }, issue: 'width: Too small: expected number to be >=16' },
    { schema: MotionConfig, value: { width: 641 }, issue: 'width: Too big: expected number to be <=640' },
    {
      schema: MotionConfig,
      value: { pixelThreshold: 256 },
      issue: 'pixelThreshold: Too big: expected number to be <=255',
    },
    {
      schema: MotionConfig,
      value: { heartbeatFps: 31 },
      issue: 'heartbeatFps: Too big: expected number to be <=30',
    },
    {
      schema: MotionConfig,
      value: { globalChange: 0 },
      issue: 'globalChange: Too small: expected number to be >0',
    },
    {
      schema: MotionConfig,
      value: { masks: [square.slice(0, 2)] },
      issue: 'masks.0: a polygon needs at least three points',
    },
    {
      schema: CameraSafetyConfig,
      value: { priority: 0 },
      issue: 'priority: Too small: expected number to be >0',
    },
    {
      schema: CameraSafetyConfig,
      value: { priority: 101 },
      issue: 'priority: Too big: expected number to be <=100',
    },
    {
      schema: SafetyConfig,
      value: { snapshots: { quality: 29 } },
      issue: 'snapshots.quality: Too small: expected number to be >=30',
    },
    {
      schema: SafetyConfig,
      value: { snapshots: { quality: 101 } },
      issue: 'snapshots.quality: Too big: expected number to be <=100',
    },
    {
      schema: SafetyConfig,
      value: { snapshots: { dir: '' } },
      issue: 'snapshots.dir: Too small: expected string to have >=1 characters',
    },
  ])('$issue', ({ schema, value, issue }) => {
    expect(firstIssue(schema, value)).toBe(issue);
  });

  it('accepts the documented edges', () => {
    expect(firstIssue(ZoneConfig, { id: 'bay', polygon: square, confirmFrames: 30 })).toBeUndefined();
    expect(firstIssue(MotionConfig, { width: 16, heartbeatFps: 30, pixelThreshold: 255 })).toBeUndefined();
    expect(firstIssue(MotionConfig, { width: 640, pixelThreshold: 1 })).toBeUndefined();
    expect(firstIssue(CameraSafetyConfig, { priority: 100 })).toBeUndefined();
    expect(firstIssue(SafetyConfig, { snapshots: { quality: 30 } })).toBeUndefined();
    expect(Margin.parse({ px: 40 })).toEqual({ px: 40 });
    expect(firstIssue(Margin, { ratio: 0.2, px: 3 })).toBeDefined();
  });
});

describe('cameraSafetyIssues', () => {
  const zones = [
    { id: 'bay', polygon: square },
    { id: 'aisle', polygon: square },
  ];

  it('refuses duplicate zone ids', () => {
    expect(cameraSafetyIssues({ zones: [...zones, { id: 'bay', polygon: square }] })).toEqual([
      { path: ['zones', 2, 'id'], message: 'duplicate zone id "bay"' },
    ]);
  });

  it('refuses a rule on an unknown zone, listing the defined ones', () => {
    expect(cameraSafetyIssues({ zones, rules: [{ zone: 'dock', type: 'enter' }] })).toEqual([
      { path: ['rules', 0, 'zone'], message: 'unknown zone "dock" (defined: bay, aisle)' },
    ]);
    expect(cameraSafetyIssues({ rules: [{ zone: 'dock', type: 'enter' }] })[0]!.message).toBe(
      'unknown zone "dock" (defined: none)',
    );
  });

  it('refuses two rules with the same id, the default being <zone>-<type>', () => {
    const rules = [
      { zone: 'bay', type: 'enter' },
      { zone: 'bay', type: 'enter', labels: ['forklift'] },
      { zone: 'bay', type: 'leave' },
      { id: 'bay-leave', zone: 'aisle', type: 'enter' },
      { id: 'x', zone: 'aisle', type: 'dwell', dwellS: 3 },
      { id: 'x', zone: 'bay', type: 'dwell', dwellS: 3 },
    ];
    expect(cameraSafetyIssues({ zones, rules })).toEqual([
      { path: ['rules', 1, 'id'], message: 'duplicate rule id "bay-enter" (set rules[].id)' },
      { path: ['rules', 3, 'id'], message: 'duplicate rule id "bay-leave" (set rules[].id)' },
      { path: ['rules', 5, 'id'], message: 'duplicate rule id "x" (set rules[].id)' },
    ]);
  });

  it('is quiet on a consistent camera and on junk', () => {
    expect(
      cameraSafetyIssues({
        zones,
        rules: [
          { zone: 'bay', type: 'enter' },
          { zone: 'aisle', type: 'enter' },
        ],
      }),
    ).toEqual([]);
    expect(cameraSafetyIssues({ zones: 'x', rules: [null, 3] })).toEqual([]);
  });
});
