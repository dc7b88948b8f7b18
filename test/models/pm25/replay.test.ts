import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLocalTime } from '../../../models/pm25/local-time.js';
import type { FrameEstimate } from '../../../models/pm25/estimator.js';
import { readFrame, replay, type ReplayLine } from '../../../models/pm25/replay.js';
import { loadState } from '../../../models/pm25/state-store.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanImages, milanLabels } from './helpers.js';

const cfg = milanConfig();
const at = (wall: string) => parseLocalTime(wall, cfg.timezone);
const work = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-replay-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A February evening (day) and the next morning 08:00 (night) to 16:00, hourly: real frames, symlinked under
// names whose alphabetical order is the reverse of their time order, so only the times can order the walk.
// One frame has no time in its name (its time comes from the labels' `file` column); one is a half-size PNG.
const ORIGINAL = [
  '20250209-1700.jpg',
  ...['08', '09', '10', '11', '12', '13', '14', '15', '16'].map((h) => `20250210-${h}00.jpg`),
];
const renamed = (orig: string, i: number): string =>
  i === 0
    ? 'mystery.jpg'
    : orig === '20250210-1600.jpg'
      ? 'a-20250210-1600.png'
      : `${String.fromCharCode(0x6b - i)}-${orig}`;
const NAMES = ORIGINAL.map(renamed);
const images = path.join(work, 'images');
/** The real labels of these frames, by new name: [name, local time, µg/m³]. */
const rows: [string, string, number][] = [];

function writeLabels(
  name: string,
  keep: (row: [string, string, number]) => [string, string, number] | null,
): string {
  const file = path.join(work, name);
  const kept = rows.map(keep).filter((r) => r !== null);
  writeFileSync(file, ['file,datetime,pm25_ugm3', ...kept.map((r) => r.join(','))].join('\n') + '\n');
  return file;
}

async function run(opts: Omit<Parameters<typeof replay>[1], 'images'>) {
  const lines: ReplayLine[] = [];
  const samples: number[] = [];
  const estimates: FrameEstimate[] = [];
  for await (const line of replay(cfg, {
    images,
    ...opts,
    onEstimate: (_file, e) => {
      samples.push(e.calibration.samples);
      estimates.push(e);
    },
  })) {
    lines.push(line);
  }
  return { lines, samples, estimates };
}

beforeAll(async () => {
  if (!hasShared) return;
  mkdirSync(images);
  const real = new Map(
    readFileSync(milanLabels(), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .map(([file, time, pm]) => [file!, [time!, Number(pm)] as const]),
  );
  ORIGINAL.forEach((orig, i) => {
    const name = NAMES[i]!;
    if (!name.endsWith('.png')) symlinkSync(path.join(milanImages(), orig), path.join(images, name));
    const [time, pm] = real.get(orig)!;
    rows.push([name, time, pm]);
  });
  await sharp(path.join(milanImages(), '20250210-1600.jpg'))
    .resize(480, 270)
    .png()
    .toFile(path.join(images, 'a-20250210-1600.png'));
  writeFileSync(path.join(images, 'notes.txt'), 'not a frame\n');
});

describe.skipIf(!hasShared)('PM2.5 replay', () => {
  it('walks the frames in time order and writes one line per frame with the documented fields', async () => {
    const { lines, estimates } = await run({
      labels: writeLabels('all.csv', (r) => r),
      calibrateUntil: at('2025-03-01T00:00'),
    });
    // Each line is its frame's estimate, field by field.
    lines.forEach((l, i) => {
      const e = estimates[i]!;
      expect([l.time, l.pm25, l.lo80, l.hi80, l.lo95, l.hi95, l.flags, l.state, l.source]).toEqual([
        e.ts,
        e.pm25,
        e.i80?.[0] ?? null,
        e.i80?.[1] ?? null,
        e.i95?.[0] ?? null,
        e.i95?.[1] ?? null,
        e.flags,
        e.calibration.state,
        e.source,
      ]);
    });
    expect(lines.map((l) => l.file)).toEqual(NAMES);
    // Times: from the labels for `mystery.jpg`, from the name otherwise, read in the config's zone (CET).
    expect(lines[0]!.time).toBe('2025-02-09T16:00:00.000Z');
    expect(lines.map((l) => l.time)).toEqual(
      ORIGINAL.map((_, i) => rows[i]![1]).map((t) => at(t).toISOString()),
    );
    expect(lines.at(-1)!.time).toBe('2025-02-10T15:00:00.000Z');
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(
        ['file', 'time', 'pm25', 'lo80', 'hi80', 'lo95', 'hi95', 'flags', 'state', 'source'].sort(),
      );
      expect(JSON.parse(JSON.stringify(l))).toEqual(l);
      expect(Array.isArray(l.flags)).toBe(true);
      if (l.pm25 === null) {
        expect(l.flags.length).toBeGreaterThan(0);
        expect([l.lo80, l.hi80, l.lo95, l.hi95, l.source]).toEqual([null, null, null, null, null]);
      } else {
        expect(l.flags).toEqual([]);
        expect(l.lo95!).toBeLessThanOrEqual(l.lo80!);
        expect(l.lo80!).toBeLessThan(l.pm25);
        expect(l.pm25).toBeLessThan(l.hi80!);
        expect(l.hi80!).toBeLessThanOrEqual(l.hi95!);
        expect(l.source).toBe(l.state === 'uncalibrated' ? 'physical-prior' : 'site-model');
      }
    }
    // 08:00 in February is before sunrise in Milan; the half-size PNG was resized and estimated like the rest.
    expect(lines[1]!.flags).toContain('night');
    expect(lines.at(-1)!.pm25).not.toBeNull();
    expect(lines.map((l) => l.state)).toEqual([
      ...Array<string>(5).fill('uncalibrated'),
      ...Array<string>(5).fill('calibrating'),
    ]);
  });

  it('hands each label to the calibrator one hour after its time, not before', async () => {
    const labels = writeLabels('all.csv', (r) => r);
    const until = at('2025-03-01T00:00');
    // Pairs the calibrator holds when each frame is estimated. 17:00's label arrives at 18:00 and pairs with
    // its frame (no frame since); 08:00's (night, no frame to pair) is dropped; from 10:00 on, each frame sees
    // the label of the hour before, paired with that hour's frame.
    const { samples } = await run({ labels, calibrateUntil: until });
    expect(samples).toEqual([0, 1, 1, 2, 3, 4, 5, 6, 7, 8]);
    // Two hours late: one frame later each, and 08:00's label still finds no frame.
    const late = await run({ labels, calibrateUntil: until, delayMs: 2 * 3_600_000 });
    expect(late.samples).toEqual([0, 1, 1, 1, 2, 3, 4, 5, 6, 7]);
    // Labels all after the cutoff: nothing is ever paired.
    expect((await run({ labels, calibrateUntil: at('2025-02-01T00:00') })).samples).toEqual(
      Array<number>(10).fill(0),
    );
  });

  it('uses no label at or after --calibrate-until: changing them changes nothing', async () => {
    const until = at('2025-02-10T12:00');
    const before = (r: [string, string, number]) => at(r[1]).getTime() < until.getTime();
    const statePath = path.join(work, 'cut', 'state.json');
    const cut = await run({
      labels: writeLabels('cut.csv', (r) => (before(r) ? r : null)),
      calibrateUntil: until,
      statePath,
    });
    const poisoned = await run({
      labels: writeLabels('poisoned.csv', (r) => (before(r) ? r : [r[0], r[1], r[2] * 50])),
      calibrateUntil: until,
    });
    expect(poisoned.lines).toEqual(cut.lines);
    expect(poisoned.samples).toEqual(cut.samples);
    // Labels before 12:00 (17:00, 08:00-11:00) give four pairs, the last at the 12:00 frame (08:00 finds no frame), then the count freezes.
    expect(cut.samples).toEqual([0, 1, 1, 2, 3, 4, 4, 4, 4, 4]);
    const pairs = loadState(statePath)!.calibrator.pairs;
    expect(pairs).toHaveLength(4);
    for (const p of pairs) expect(p.ts).toBeLessThan(until.getTime());
    // The sensor is gone after the cutoff: the frames after it still get site-model estimates.
    expect(cut.lines.slice(6).every((l) => l.source === 'site-model' && l.state === 'calibrating')).toBe(
      true,
    );
  });

  it('refuses a frame with no time in the labels or its name', async () => {
    await expect(run({})).rejects.toThrow(/mystery\.jpg: no time/);
  });
});

describe('PM2.5 replay inputs', () => {
  it.skipIf(!hasShared)('tells its caller which label rows it left out, once', async () => {
    const warnings: string[] = [];
    const labels = writeLabels('gappy.csv', (r) => (r[1].includes('-10T11:00') ? [r[0], r[1], NaN] : r));
    await run({ labels, calibrateUntil: at('2025-03-01T00:00'), onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([
      'gappy.csv: 1 row(s) without a usable PM2.5 value left out (line 6: NaN is not a PM2.5 value in 0-2000)',
    ]);
  });

  it.skipIf(!hasShared)('decodes a frame of another size to the configured one', async () => {
    const small = path.join(work, 'small.png');
    await sharp(path.join(milanImages(), '20250210-1000.jpg'))
      .resize(400, 300, { fit: 'fill' })
      .png()
      .toFile(small);
    const frame = await readFrame(small, cfg);
    expect([frame.width, frame.height, frame.rgb.length]).toEqual([960, 540, 960 * 540 * 3]);
  });
});
