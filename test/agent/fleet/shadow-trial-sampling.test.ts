import { describe, expect, it } from 'vitest';
import { logLines } from '../../support/log-lines.js';
import { car, model, person, settle, setup, useShadowTrials } from './shadow-trial-fixture.js';

// A candidate model in shadow (docs/fleet.md "Shadow trials"): which frames it samples, never delaying the
// camera, comparing, and the runs it skips. The report: shadow-trial-report.test.ts.

useShadowTrials();

describe('ShadowTrial', () => {
  it('runs the candidate on the current frame re-made for its input, and compares the two', async () => {
    const { trial, emit, handled } = setup({ share: 1 });
    trial.start();
    emit('dock', [person]);
    await handled(1);
    emit('dock', [car]);
    await handled(2);
    const r = trial.stats.report();
    expect(r).toMatchObject({ frames: 2, skipped: 0, agreedFrames: 1 });
    expect(r.labels).toEqual({
      car: { matched: 0, candidateOnly: 0, currentOnly: 1, precision: null, recall: 0 },
      person: { matched: 1, candidateOnly: 1, currentOnly: 0, precision: 0.5, recall: 1 },
    });
    expect(r.latencyMs.current).toEqual({ n: 2, mean: 3, p50: 3, p95: 3 });
    expect(r.latencyMs.candidate.n).toBe(2);
  });

  it.each([
    [0.25, [4, 8, 12]],
    [0.1, [10, 20, 30]], // the default
    [0.3, [4, 7, 10]],
    [1, [1, 2, 3]],
  ])('share %d: runs on frames %j of each camera, spread evenly', async (share, want) => {
    const { trial, emit, handled } = setup({ share });
    trial.start();
    let ran = 0;
    for (let f = 1; f <= want.at(-1)!; f++) {
      emit('dock');
      if (want.includes(f)) await handled(++ran);
      else await new Promise((r) => setTimeout(r, 10));
      expect(trial.stats.frames, `after frame ${f}`).toBe(ran);
    }
    await settle();
    expect(trial.stats.report()).toMatchObject({ frames: want.length, skipped: 0 });
  });

  it('each camera keeps its own count; other cameras and the candidate own detections are left alone', async () => {
    const { trial, emit, handled } = setup({ share: 0.5, cameras: ['dock', 'gate'] });
    trial.start();
    emit('dock');
    emit('gate');
    emit('roof'); // not in the trial
    emit('roof');
    emit('dock', [person], 'cand'); // the candidate's own result on a camera that runs it
    await settle();
    expect(trial.stats.frames + trial.stats.skipped).toBe(0);
    emit('gate', [car]);
    await handled(1);
    expect(trial.stats.agreedFrames).toBe(0); // it was gate's frame (a car), not dock's
    emit('dock', [person]);
    await handled(2);
    expect(trial.stats.report()).toMatchObject({ frames: 2, agreedFrames: 1 });
  });

  it('never delays a camera: a frame while its previous shadow run is busy is skipped and counted', async () => {
    const { trial, emit, handled } = setup({ share: 1 });
    trial.start();
    emit('dock');
    emit('dock'); // the first is still running
    emit('gate'); // another camera is not held up
    await handled(3);
    await settle();
    expect(trial.stats.report()).toMatchObject({ frames: 2, skipped: 1 });
    emit('dock'); // free again once its run finished
    await handled(4);
    expect(trial.stats.report()).toMatchObject({ frames: 3, skipped: 1 });
  });

  it('a frame of a model that is not loaded is passed over', async () => {
    const { trial, emit, detectors } = setup({ share: 1 });
    trial.start();
    emit('dock', [person], 'other');
    detectors.delete('cand');
    emit('dock');
    await settle();
    expect(trial.stats.report()).toMatchObject({ frames: 0, skipped: 0 });
  });

  it('a failed candidate run is counted as skipped and logged once', async () => {
    const { log, lines } = logLines('debug');
    const { trial, emit, handled, detectors } = setup({ share: 1 }, { log });
    // A candidate closed under the trial (its inference pool is gone): every run fails.
    const closed = await model('closed', 64, [32, 32, 16, 16]);
    await closed.close();
    detectors.set('cand', closed);
    trial.start();
    emit('dock');
    await handled(1);
    emit('dock');
    await handled(2);
    expect(trial.stats.report()).toMatchObject({ frames: 0, skipped: 2 });
    expect(lines.filter((l) => l.level === 'warn')).toMatchObject([
      { msg: 'fleet: shadow inference failed', candidate: 'cand', reason: 'inference pool is closed' },
    ]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        msg: 'fleet: shadow trial started',
        candidate: 'cand',
        share: 1,
      }),
    );
  });
});
