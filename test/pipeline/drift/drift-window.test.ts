import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DriftConfig } from '../../../config/drift-schema.js';
import { DriftWindow, driftWindows, type DriftReport } from '../../../pipeline/drift/drift-window.js';
import {
  DriftPayload,
  DriftSummaryPayload,
  driftPayload,
  driftSummaryPayload,
} from '../../../pipeline/drift/payloads.js';
import { ReferenceStore } from '../../../pipeline/drift/reference-store.js';
import { syntheticEvent, syntheticImage } from './support.js';

// Events are 100 ms apart on the test clock: a one-second window holds ten frames.
const config = DriftConfig.parse({
  windowMinutes: 1 / 60,
  minFrames: 5,
  minSamples: 5,
  autoBaselineHours: 3 / 3600,
});
const key = { camera: 'cam1', modelId: 'det', configRevision: 'rev-a' };
const openStore = () =>
  ReferenceStore.open(path.join(mkdtempSync(path.join(tmpdir(), 'vigil-drift-')), 'drift.db'));

/** Feeds frames [from, to) with the given brightness; returns the reports of the windows they closed. */
function feed(w: DriftWindow, fromFrame: number, toFrame: number, brightness = 120): DriftReport[] {
  const out: DriftReport[] = [];
  for (let i = fromFrame; i < toFrame; i++)
    out.push(...w.add(syntheticEvent(i, 3), syntheticImage(i, brightness)));
  return out;
}

describe('DriftWindow', () => {
  it('builds a reference from the first windows, then scores: steady is ok, a darker picture alarms at once', () => {
    const store = openStore();
    const w = new DriftWindow({ ...key, config, store, now: () => 42 });
    const first = feed(w, 0, 40);
    expect(first.map((r) => [r.status, r.baseline?.built])).toEqual([
      ['no-reference', false],
      ['no-reference', false],
      ['no-reference', true],
    ]);
    expect(first[2]!.reference).toMatchObject({
      source: 'auto',
      from: 0,
      to: 3000,
      windows: 3,
      createdAt: 42,
    });

    const steady = feed(w, 40, 80);
    expect(steady.map((r) => [r.status, r.state])).toEqual(Array(4).fill(['scored', 'ok']));
    expect(steady[0]!.window).toEqual({ start: 3000, end: 4000, frames: 10, imageFrames: 10 });

    const dark = feed(w, 80, 101, 40);
    // the first report closes the last bright window (frames 70–79)
    expect(dark[0]).toMatchObject({ state: 'ok' });
    expect(dark[1]).toMatchObject({
      status: 'scored',
      state: 'alarm',
      previous: 'ok',
      changed: true,
      stateSince: 9000,
    });
    expect(dark[1]!.drivers[0]).toBe('image.brightness');
    store.close();
  });

  it('a window with too few frames says so and holds the state; tick closes a window when frames stop', () => {
    const w = new DriftWindow({ ...key, config, reference: null });
    feed(w, 0, 3);
    expect(w.tick(900)).toEqual([]);
    const [r] = w.tick(1000);
    expect(r).toMatchObject({ status: 'too-few-samples', state: 'ok', score: null, window: { frames: 3 } });
    expect(w.flush()).toBeNull();
  });

  it('dates the state a camera starts in from its first frame, not from the start of its first window', () => {
    const w = new DriftWindow({ ...key, config, reference: null });
    const reports = feed(w, 3, 21); // the camera starts at 300 ms, inside the window [0, 1000)
    expect(reports.map((r) => [r.window.start, r.stateSince])).toEqual([
      [0, 300],
      [1000, 300],
    ]);
  });

  it('resumes the state of the last stored window after a restart', () => {
    const store = openStore();
    const w = new DriftWindow({ ...key, config, store });
    feed(w, 0, 40);
    feed(w, 40, 51, 40);
    expect(w.state).toBe('alarm');
    const restarted = new DriftWindow({ ...key, config, store });
    expect(restarted.state).toBe('alarm');
    store.close();
  });

  it('reports the window it resumed from, with the drivers of the last scored one (a short window flushed at stop)', () => {
    const store = openStore();
    expect(new DriftWindow({ ...key, config, store }).resumedReport()).toBeNull();
    const w = new DriftWindow({ ...key, config, store });
    feed(w, 0, 40);
    const alarm = feed(w, 40, 51, 40).at(-1); // the first closes the last bright window
    feed(w, 51, 53, 40);
    const short = w.flush()!; // 2 frames at stop: too few, the state holds
    expect([alarm!.state, short.status]).toEqual(['alarm', 'too-few-samples']);
    const resumed = new DriftWindow({ ...key, config, store }).resumedReport();
    expect(resumed).toMatchObject({
      status: 'too-few-samples',
      state: 'alarm',
      changed: false,
      stateSince: alarm!.stateSince,
      window: short.window,
      score: alarm!.score,
      drivers: alarm!.drivers,
      reference: { id: alarm!.reference!.id },
    });
    store.close();
  });

  it('a frame captured before a closed window ended (still in inference then) counts in the next one', () => {
    const w = new DriftWindow({ ...key, config, reference: null });
    feed(w, 0, 9);
    expect(w.tick(1000).map((r) => r.window)).toEqual([{ start: 0, end: 1000, frames: 9, imageFrames: 9 }]);
    feed(w, 9, 12); // frame 9 has ts 900: late
    const [next] = w.tick(2000);
    expect(next!.window).toEqual({ start: 1000, end: 2000, frames: 3, imageFrames: 3 });
  });

  // A clock stepped back (NTP correcting a box that booted in the future) clamped every later frame into the
  // window open at the step: it stayed open, and drift said nothing, for as long as the step (here an hour).
  it('a clock stepped back closes the open window and windows follow the clock from there', () => {
    const stepMs = 3_600_000;
    const w = new DriftWindow({
      ...key,
      config,
      reference: null,
      clock: (e) => (e.frameNo < 15 ? e.ts : e.ts - stepMs),
    });
    const reports = feed(w, 0, 46);
    expect(reports.map((r) => r.window)).toEqual([
      { start: 0, end: 1000, frames: 10, imageFrames: 10 },
      { start: 1000, end: 2000, frames: 5, imageFrames: 5 }, // closed at the step
      { start: 1000 - stepMs, end: 2000 - stepMs, frames: 5, imageFrames: 5 },
      { start: 2000 - stepMs, end: 3000 - stepMs, frames: 10, imageFrames: 10 },
      { start: 3000 - stepMs, end: 4000 - stepMs, frames: 10, imageFrames: 10 },
    ]);
    // with no frames, the timer sees the step too
    const idle = new DriftWindow({ ...key, config, reference: null });
    feed(idle, 0, 5);
    expect(idle.tick(500 - stepMs).map((r) => r.window)).toEqual([
      { start: 0, end: 1000, frames: 5, imageFrames: 5 },
    ]);
    // a late frame within a minute still counts in the next window (the test above)
  });

  it('a new reference (a baseline, an import) starts the state afresh, also across a restart', () => {
    const store = openStore();
    const w = new DriftWindow({ ...key, config, store });
    feed(w, 0, 40);
    feed(w, 40, 51, 40);
    expect(w.state).toBe('alarm');
    // the operator says the darker picture is the new normal
    const ref = store.buildReference(key, { from: 4000, to: 5000 }, 'baseline', 1);
    expect(new DriftWindow({ ...key, config, store }).state).toBe('ok');
    const after = feed(w, 51, 71, 40);
    expect(after.map((r) => [r.status, r.state, r.previous, r.reference?.id])).toEqual([
      ['scored', 'ok', 'ok', ref.id],
      ['scored', 'ok', 'ok', ref.id],
    ]);
    expect(store.lastWindow(key)).toMatchObject({ referenceId: ref.id, state: 'ok' });
    store.close();
  });

  it('as an RxJS operator, with payloads that match their schemas', async () => {
    const store = openStore();
    const events = Array.from({ length: 43 }, (_, i) => syntheticEvent(i, 2 + (i % 2)));
    const reports = await lastValueFrom(
      from(events).pipe(driftWindows({ ...key, config, store }), toArray()),
    );
    expect(reports.map((r) => r.window.start)).toEqual([0, 1000, 2000, 3000, 4000]);
    // these frames carry no pixels (detached buffers): detections only
    expect(reports[3]).toMatchObject({
      status: 'scored',
      state: 'ok',
      window: { frames: 10, imageFrames: 0 },
    });
    expect(reports[4]).toMatchObject({ status: 'too-few-samples', window: { frames: 3 } });
    const payload = DriftPayload.parse(
      JSON.parse(JSON.stringify(driftPayload(reports[3]!, { id: 'x1', ts: 7 }))),
    );
    expect(payload.stats.some((s) => s.name === 'det.score[person]' && s.psi !== null)).toBe(true);
    const summary = DriftSummaryPayload.parse(driftSummaryPayload(reports[3]!, 7));
    expect(summary).toMatchObject({
      camera: 'cam1',
      state: 'ok',
      lastWindow: { start: 3000, status: 'scored' },
    });
    store.close();
  });
});
