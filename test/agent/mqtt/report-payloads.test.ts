import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { AgentEventPayload, DropsPayload, HealthPayload } from '../../../agent/mqtt/report-payloads.js';
import { dropReasons } from '../../../agent/outbox/drop-counts.js';
import { repoRoot } from '../../support/shared.js';

const mqttDoc = readFileSync(path.join(repoRoot, 'docs', 'mqtt.md'), 'utf8');

type Json = Record<string, unknown>;
/** Marks a key to delete in an edit. */
const gone = Symbol('gone');

/** The ```json <name> blocks of docs/mqtt.md. */
function examples(name: string): Json[] {
  return [...mqttDoc.matchAll(/```json ([a-z0-9-]+)\n([\s\S]*?)```/g)]
    .filter((m) => m[1] === name)
    .map((m) => JSON.parse(m[2]!) as Json);
}

function example(name: string): Json {
  const found = examples(name);
  expect(found, `one json ${name} block in docs/mqtt.md`).toHaveLength(1);
  return found[0]!;
}

/** Whether the example still parses with `at` (a dotted path) set to `value` (or deleted). */
function parsesAfter(schema: z.ZodType, name: string, at: string, value: unknown, newKey = false): boolean {
  const j = example(name);
  const keys = at.split('.');
  let o = j;
  for (const k of keys.slice(0, -1)) o = o[k] as Json;
  // a mistyped path would add a key, which a strict schema refuses: a test that passes for the wrong reason
  if (!newKey) expect(Object.keys(o), `${name}: ${at} is in the example`).toContain(keys.at(-1));
  if (value === gone) delete o[keys.at(-1)!];
  else o[keys.at(-1)!] = value;
  return schema.safeParse(j).success;
}

describe('health payload schema', () => {
  it('parses the docs/mqtt.md example, which lists every drop reason', () => {
    const j = HealthPayload.parse(example('health'));
    expect(j).toEqual(example('health'));
    expect(Object.keys(j.outbox.dropsUnreported).sort()).toEqual([...dropReasons].sort());
    expect(Object.keys(j.outbox.dropsSinceStart).sort()).toEqual([...dropReasons].sort());
  });

  it('takes the nulls the docs promise (no round trip yet, no sensor, no reading)', () => {
    expect(parsesAfter(HealthPayload, 'health', 'link.roundTripMs', null)).toBe(true);
    expect(parsesAfter(HealthPayload, 'health', 'link.lastError', null)).toBe(true);
    expect(parsesAfter(HealthPayload, 'health', 'outbox.lastError', { message: 'disk full', at: 5 })).toBe(true); // prettier-ignore
    expect(parsesAfter(HealthPayload, 'health', 'system.temperatureC', null)).toBe(true);
    expect(parsesAfter(HealthPayload, 'health', 'system.temperatureC', -12.5)).toBe(true);
    expect(parsesAfter(HealthPayload, 'health', 'system.cpuPercent', null)).toBe(true);
    expect(parsesAfter(HealthPayload, 'health', 'system.memory', null)).toBe(true);
    expect(parsesAfter(HealthPayload, 'health', 'system.disk', null)).toBe(true);
    expect(parsesAfter(HealthPayload, 'health', 'link.protocol', '3.1.1')).toBe(true);
    expect(parsesAfter(HealthPayload, 'health', 'cameras', {})).toBe(true);
    for (const state of ['connecting', 'streaming', 'stalled', 'failed', 'stopped']) {
      expect(parsesAfter(HealthPayload, 'health', 'cameras.gate', state), state).toBe(true);
    }
  });

  it('refuses what breaks the contract', () => {
    const refused: [string, string, unknown][] = [
      ['an unknown key', 'extra', 1],
      ['an unknown key inside', 'link.extra', 1],
      ['a negative ts', 'ts', -1],
      ['a fractional ts', 'ts', 1.5],
      ['a negative uptime', 'uptimeS', -0.1],
      ['fractional rows', 'outbox.rows', 1.5],
      ['a drop reason missing', 'outbox.dropsUnreported.expired', gone],
      ['an unknown drop reason', 'outbox.dropsSinceStart.lost', 1],
      ['a negative drop count', 'outbox.dropsUnreported.max-rows', -1],
      ['protocol 4', 'link.protocol', '4'],
      ['a numeric protocol', 'link.protocol', 5],
      ['a negative round trip', 'link.roundTripMs.avg', -1],
      ['a lastError without at', 'link.lastError', { message: 'x' }],
      ['no cores', 'system.cores', 0],
      ['a negative load', 'system.load1', -1],
      ['a null process', 'system.process', null],
      ['an unknown camera state', 'cameras.gate', 'sleeping'],
      ['no version', 'version', gone],
    ];
    for (const [what, at, v] of refused)
      expect(parsesAfter(HealthPayload, 'health', at, v, /unknown (key|drop reason)/.test(what)), what).toBe(
        false,
      );
  });
});

describe('drops payload schema', () => {
  it('parses the docs/mqtt.md example, whose total is the sum of its counts', () => {
    const j = DropsPayload.parse(example('drops'));
    expect(j).toEqual(example('drops'));
    expect(j.total).toBe(j.counts.reduce((s, c) => s + c.count, 0));
  });

  it('takes every reason and priority, and refuses what breaks the contract', () => {
    for (const reason of dropReasons) {
      for (const priority of [0, 1, 2]) {
        expect(parsesAfter(DropsPayload, 'drops', 'counts.0', { reason, priority, count: 1 })).toBe(true);
      }
    }
    expect(parsesAfter(DropsPayload, 'drops', 'counts', [])).toBe(true);
    const refused: [string, string, unknown][] = [
      ['an empty id', 'id', ''],
      ['no id', 'id', gone],
      ['priority 3', 'counts.0.priority', 3],
      ['priority as text', 'counts.0.priority', '0'],
      ['a count of 0 (only reasons that dropped something are listed)', 'counts.0.count', 0],
      ['a fractional count', 'counts.0.count', 1.5],
      ['an unknown reason', 'counts.0.reason', 'lost'],
      ['a negative total', 'total', -1],
      ['an unknown key in a count', 'counts.0.camera', 'gate'],
    ];
    for (const [what, at, v] of refused)
      expect(parsesAfter(DropsPayload, 'drops', at, v, /unknown (key|drop reason)/.test(what)), what).toBe(
        false,
      );
  });
});

describe('events payload schema', () => {
  it('parses the docs/mqtt.md example as an outbox-moved-aside notice', () => {
    const j = AgentEventPayload.parse(example('events'));
    expect(j).toEqual(example('events'));
    expect(j.type).toBe('outbox-moved-aside');
    expect(j.movedTo.startsWith(`${j.file}.corrupt-`)).toBe(true);
  });

  it('refuses an unknown type or a notice without what it must carry', () => {
    const refused: [string, string, unknown][] = [
      ['an unknown type', 'type', 'outbox-lost'],
      ['no type', 'type', gone],
      ['no movedTo', 'movedTo', gone],
      ['no reason', 'reason', gone],
      ['an empty id', 'id', ''],
      ['a negative at', 'at', -5],
      ['an unknown key', 'extra', true],
    ];
    for (const [what, at, v] of refused)
      expect(
        parsesAfter(AgentEventPayload, 'events', at, v, /unknown (key|drop reason)/.test(what)),
        what,
      ).toBe(false);
  });
});
