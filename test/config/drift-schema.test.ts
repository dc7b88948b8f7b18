import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DriftConfig } from '../../config/drift-schema.js';
import { repoRoot } from '../support/shared.js';

function firstIssue(value: unknown): string | undefined {
  const r = DriftConfig.safeParse(value);
  if (r.success) return undefined;
  const issue = r.error.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

const defaults = {
  enabled: true,
  windowMinutes: 15,
  minFrames: 30,
  minSamples: 20,
  psi: { warn: 0.1, alarm: 0.25 },
  pValue: 0.01,
  hysteresis: { clearRatio: 0.8, clearWindows: 2, raiseWindows: 1 },
  autoBaselineHours: 2,
  retainDays: 14,
  maxLabels: 16,
  driveWith: ['image.*'],
  imageStep: 4,
  imageSamples: 5000,
  imageEvery: 1,
};

describe('DriftConfig defaults (docs/config.md, docs/drift.md)', () => {
  it('`drift: {}` turns it on with the documented defaults', () => {
    expect(DriftConfig.parse({})).toEqual(defaults);
  });

  it('the example in docs/drift.md spells out exactly the defaults', () => {
    const text = readFileSync(path.join(repoRoot, 'docs', 'drift.md'), 'utf8');
    const block = /## Config\n\n```yaml\n([\s\S]*?)```/.exec(text)![1]!;
    const doc = parseYaml(block) as { drift: unknown };
    expect(DriftConfig.parse(doc.drift)).toEqual(defaults);
  });

  it('fills the rest of a partly given psi or hysteresis', () => {
    expect(DriftConfig.parse({ psi: { alarm: 0.5 } }).psi).toEqual({ warn: 0.1, alarm: 0.5 });
    expect(DriftConfig.parse({ hysteresis: { clearWindows: 5 } }).hysteresis).toEqual({
      clearRatio: 0.8,
      clearWindows: 5,
      raiseWindows: 1,
    });
  });

  it('gives the same defaults for an empty section as for an absent one', () => {
    expect(DriftConfig.parse({ psi: {}, hysteresis: {} })).toEqual(defaults);
  });

  it('autoBaselineHours 0 means never, and is allowed', () => {
    expect(DriftConfig.parse({ autoBaselineHours: 0 }).autoBaselineHours).toBe(0);
  });
});

describe('DriftConfig bounds', () => {
  it.each([
    { patch: { psi: { warn: 0.3 } }, issue: 'psi: psi.alarm must be above psi.warn' },
    { patch: { psi: { warn: 0.25, alarm: 0.25 } }, issue: 'psi: psi.alarm must be above psi.warn' },
    { patch: { psi: { warn: 0 } }, issue: 'psi.warn: Too small: expected number to be >0' },
    { patch: { windowMinutes: 1441 }, issue: 'windowMinutes: Too big: expected number to be <=1440' },
    { patch: { windowMinutes: 0 }, issue: 'windowMinutes: Too small: expected number to be >0' },
    { patch: { pValue: 0 }, issue: 'pValue: Too small: expected number to be >0' },
    { patch: { pValue: 1 }, issue: 'pValue: Too big: expected number to be <1' },
    {
      patch: { hysteresis: { clearRatio: 1.1 } },
      issue: 'hysteresis.clearRatio: Too big: expected number to be <=1',
    },
    {
      patch: { hysteresis: { clearRatio: 0 } },
      issue: 'hysteresis.clearRatio: Too small: expected number to be >0',
    },
    {
      patch: { hysteresis: { raiseWindows: 0 } },
      issue: 'hysteresis.raiseWindows: Too small: expected number to be >0',
    },
    { patch: { maxLabels: 257 }, issue: 'maxLabels: Too big: expected number to be <=256' },
    { patch: { imageStep: 33 }, issue: 'imageStep: Too big: expected number to be <=32' },
    { patch: { imageSamples: 99 }, issue: 'imageSamples: Too small: expected number to be >=100' },
    { patch: { imageEvery: 0 }, issue: 'imageEvery: Too small: expected number to be >0' },
    { patch: { minFrames: 2.5 }, issue: 'minFrames: Invalid input: expected int, received number' },
    { patch: { autoBaselineHours: -1 }, issue: 'autoBaselineHours: Too small: expected number to be >=0' },
    { patch: { retainDays: 0 }, issue: 'retainDays: Too small: expected number to be >0' },
    { patch: { driveWith: 'image.*' }, issue: 'driveWith: Invalid input: expected array, received string' },
    { patch: { psi: { warn: 0.1, alarm: 0.2, fail: 1 } }, issue: 'psi: Unrecognized key: "fail"' },
  ])('$issue', ({ patch, issue }) => {
    expect(firstIssue(patch)).toBe(issue);
  });

  it('accepts the documented edges', () => {
    expect(
      firstIssue({ windowMinutes: 1440, maxLabels: 256, imageStep: 32, imageSamples: 100 }),
    ).toBeUndefined();
    expect(
      firstIssue({ hysteresis: { clearRatio: 1 }, psi: { warn: 0.1, alarm: 0.1000001 } }),
    ).toBeUndefined();
  });
});
