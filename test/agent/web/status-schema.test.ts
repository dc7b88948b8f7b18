import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  cameraStateNames,
  SnapshotEvent,
  StatusPayload,
  statusJsonSchema,
} from '../../../agent/web/status-schema.js';
import { repoRoot } from '../../support/shared.js';

const md = readFileSync(path.join(repoRoot, 'docs', 'http.md'), 'utf8');
/** The first ```json block after `heading` in docs/http.md. */
const exampleAfter = (heading: string) =>
  JSON.parse(/```json\n([\s\S]*?)\n```/.exec(md.slice(md.indexOf(heading)))![1]!) as Record<string, unknown>;
const example = exampleAfter('## `/api/status`');
const clone = () => structuredClone(example) as StatusPayload & Record<string, unknown>;
const issues = (v: unknown) => StatusPayload.safeParse(v).error?.issues ?? [];

describe('StatusPayload against docs/http.md', () => {
  it('the documented /api/status example is valid', () => {
    expect(issues(example)).toEqual([]);
  });

  it('the example shows every field of the schema, down to cameras, zones, pm25 and health', () => {
    expect(Object.keys(example).sort()).toEqual(Object.keys(StatusPayload.shape).sort());
    const cam = clone().cameras[0]!;
    const camShape = StatusPayload.shape.cameras.element.shape;
    // pm25Waiting and driftWaiting are the documented alternatives to pm25 and drift (nothing yet).
    expect(Object.keys(cam).sort()).toEqual(
      Object.keys(camShape)
        .filter((k) => k !== 'pm25Waiting' && k !== 'driftWaiting')
        .sort(),
    );
    expect(Object.keys(clone().health).sort()).toEqual(Object.keys(StatusPayload.shape.health.shape).sort());
  });

  it('the documented camera states are the schema states', () => {
    const row = md.split('\n').find((l) => l.startsWith('| `cameras[].state`'))!;
    const named = [...row.matchAll(/`([a-z]+)`/g)].map((m) => m[1]);
    expect(named.sort()).toEqual([...cameraStateNames].sort());
  });

  it('the documented snapshot event is a valid SnapshotEvent but for its elided JPEG', () => {
    const ev = exampleAfter('## The `snapshot` event');
    expect(SnapshotEvent.safeParse(ev).error?.issues.map((i) => i.path.join('.'))).toEqual(['jpeg']);
    expect(SnapshotEvent.safeParse({ ...ev, jpeg: '/9j/4AAQSkZJRgABAQ==' }).success).toBe(true);
  });
});

describe('StatusPayload is strict', () => {
  it('refuses unknown fields at the top, in a camera, in a zone, in health and in mqtt', () => {
    const paths: [string, (d: ReturnType<typeof clone>) => void][] = [
      ['top', (d) => (d.extra = 1)],
      ['camera', (d) => ((d.cameras[0] as Record<string, unknown>).password = 'x')],
      ['zone', (d) => ((d.cameras[0]!.zones[0] as Record<string, unknown>).extra = 1)],
      ['health', (d) => ((d.health as Record<string, unknown>).extra = 1)],
      ['mqtt', (d) => ((d.mqtt as Record<string, unknown>).password = 'x')],
      ['event', (d) => ((d.safetyEvents[0] as Record<string, unknown>).extra = 1)],
    ];
    for (const [where, change] of paths) {
      const d = clone();
      change(d);
      expect(
        issues(d).map((i) => i.code),
        where,
      ).toContain('unrecognized_keys');
    }
  });

  it('refuses wrong values: schema version, states, negative or fractional times and counts', () => {
    const bad: [string, (d: ReturnType<typeof clone>) => void][] = [
      ['schema 2', (d) => ((d as Record<string, unknown>).schema = 2)],
      ['overall', (d) => ((d as Record<string, unknown>).overall = 'fine')],
      ['state', (d) => ((d.cameras[0]!.state as Record<string, unknown>).state = 'running')],
      ['ts < 0', (d) => (d.ts = -1)],
      ['ts fraction', (d) => (d.ts = 1.5)],
      ['count fraction', (d) => (d.cameras[0]!.frames.dropped = 0.5)],
      ['fps < 0', (d) => (d.cameras[0]!.fps.input = -1)],
      ['config source', (d) => ((d.config as Record<string, unknown>).source = 'remote')],
      ['push result', (d) => ((d.fleet!.lastPush as Record<string, unknown>).result = 'ok')],
      ['error count 0', (d) => (d.errors[0]!.count = 0)],
      ['error source', (d) => ((d.errors[0] as Record<string, unknown>).source = 'disk')],
      ['phase', (d) => ((d.safetyEvents[0] as Record<string, unknown>).phase = 'begin')],
      ['pm25 unit', (d) => ((d.cameras[0]!.pm25 as Record<string, unknown>).unit = 'mg/m3')],
      ['pm25Waiting false', (d) => ((d.cameras[0] as Record<string, unknown>).pm25Waiting = false)],
      ['windowS 0', (d) => (d.cameras[0]!.detections.windowS = 0)],
      ['drift', (d) => ((d.cameras[0]!.drift as Record<string, unknown>).state = 'bad')],
      ['no health', (d) => delete (d as Record<string, unknown>).health],
    ];
    for (const [what, change] of bad) {
      const d = clone();
      change(d);
      expect(issues(d).length, what).toBeGreaterThan(0);
    }
  });

  it('accepts what is optional or nullable: no fleet, no pm25 or drift, nulls before the first frame', () => {
    const d = clone();
    delete (d as Record<string, unknown>).fleet;
    const cam = d.cameras[0]! as Record<string, unknown>;
    delete cam.pm25;
    delete cam.drift;
    cam.pm25Waiting = true;
    cam.driftWaiting = true;
    cam.snapshot = null;
    cam.lastFrameAt = null;
    d.cameras[0]!.zones[0]!.snapshotPolygon = null;
    d.cameras[0]!.zones[0]!.occupancy = null;
    d.health.sampledAt = null;
    d.health.memory = null;
    d.mqtt = { configured: false };
    d.fleet = { lastPush: null };
    expect(issues(d)).toEqual([]);
  });
});

describe('statusJsonSchema: the JSON Schema served at /api/status/schema.json', () => {
  it('is the zod schema in JSON Schema form: strict objects, required fields, enums', () => {
    const s = statusJsonSchema() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(s).toEqual(z.toJSONSchema(StatusPayload));
    expect(s.type).toBe('object');
    expect(s.additionalProperties).toBe(false);
    expect(Object.keys(s.properties).sort()).toEqual(Object.keys(StatusPayload.shape).sort());
    expect(s.required).not.toContain('fleet');
    expect(s.required).toContain('cameras');
    expect(s.properties.schema.const).toBe(1);
    expect(s.properties.overall.enum).toEqual(['ok', 'degraded', 'down']);
    const cam = s.properties.cameras.items;
    expect(cam.additionalProperties).toBe(false);
    expect(cam.properties.state.properties.state.enum).toEqual([...cameraStateNames]);
    expect(cam.required).not.toContain('pm25');
    expect(s.properties.ts.type).toBe('integer');
    expect(s.properties.ts.minimum).toBe(0);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});
