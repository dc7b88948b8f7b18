import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CameraSafetyConfig, cameraSafetyIssues, SafetyConfig } from '../../../config/safety-schema.js';

const geometryPolygon: [number, number][] = [
  [100, 100],
  [500, 100],
  [500, 400],
  [100, 400],
];

describe('camera safety config', () => {
  it('defaults: no zones or rules, proximity and tracking on, motion gating off, priority 1', () => {
    const cfg = CameraSafetyConfig.parse({});
    expect(cfg).toMatchObject({ zones: [], rules: [], priority: 1 });
    expect(cfg.proximity).toMatchObject({
      enabled: true,
      personLabels: ['person'],
      vehicleLabels: ['forklift'],
      margin: { ratio: 0.25 },
    });
    expect(cfg.tracking.enabled).toBe(true);
    expect(cfg.motion.enabled).toBe(false);
    expect(SafetyConfig.parse({}).snapshots).toMatchObject({ enabled: true, maxCount: 1000 });
  });

  it('parses zones and each rule type; rules default to watching people', () => {
    const cfg = CameraSafetyConfig.parse({
      zones: [{ id: 'dock', polygon: geometryPolygon }],
      rules: [
        { zone: 'dock', type: 'enter' },
        { zone: 'dock', type: 'leave', labels: ['forklift'] },
        { zone: 'dock', type: 'dwell', dwellS: 30 },
        { id: 'dock-crowd', zone: 'dock', type: 'count', max: 3 },
      ],
      motion: {
        enabled: true,
        masks: [
          [
            [0, 0],
            [100, 0],
            [100, 50],
          ],
        ],
      },
      priority: 2,
    });
    expect(cfg.rules.map((r) => r.labels)).toEqual([['person'], ['forklift'], ['person'], ['person']]);
    expect(cameraSafetyIssues(cfg)).toEqual([]);
  });

  it('refuses what cannot work: a two-point polygon, a dwell without dwellS, an unknown field, a zero priority', () => {
    const bad = [
      {
        zones: [
          {
            id: 'z',
            polygon: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
      },
      { rules: [{ zone: 'z', type: 'dwell' }] },
      { proximity: { margin: { ratio: 0.2, px: 10 } } },
      { motion: { treshold: 3 } },
      { priority: 0 },
    ];
    for (const input of bad)
      expect(CameraSafetyConfig.safeParse(input).success, JSON.stringify(input)).toBe(false);
  });

  it('cross-checks: rules name defined zones, zone and rule ids are unique', () => {
    const cfg = CameraSafetyConfig.parse({
      zones: [
        { id: 'a', polygon: geometryPolygon },
        { id: 'a', polygon: geometryPolygon },
      ],
      rules: [
        { zone: 'b', type: 'enter' },
        { zone: 'a', type: 'enter' },
        { zone: 'a', type: 'enter' },
      ],
    });
    expect(cameraSafetyIssues(cfg)).toEqual([
      { path: ['zones', 1, 'id'], message: 'duplicate zone id "a"' },
      { path: ['rules', 0, 'zone'], message: 'unknown zone "b" (defined: a)' },
      { path: ['rules', 2, 'id'], message: 'duplicate rule id "a-enter" (set rules[].id)' },
    ]);
  });

  it('has a JSON schema (for docs and editors)', () => {
    const schema = z.toJSONSchema(CameraSafetyConfig, { io: 'input' }) as {
      properties: Record<string, unknown>;
    };
    expect(Object.keys(schema.properties).sort()).toEqual([
      'motion',
      'priority',
      'proximity',
      'rules',
      'tracking',
      'zones',
    ]);
  });
});
