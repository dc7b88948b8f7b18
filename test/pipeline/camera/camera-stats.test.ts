import { describe, expect, it } from 'vitest';
import { CameraStats } from '../../../pipeline/camera/camera-stats.js';

/** A run of `frames` frames, every one through inference. */
function run(stats: CameraStats, frames: number) {
  for (let i = 0; i < frames; i++) {
    stats.framesIn++;
    stats.frameRead(1_764_500_000_000 + i);
    stats.inputRate.mark();
    stats.processed++;
    stats.processedRate.mark();
    stats.lastInferenceMs = 42;
  }
}

describe('CameraStats across runs', () => {
  it('a new run keeps the counts and the last frame, and starts the rates and the last inference over', () => {
    const stats = new CameraStats();
    run(stats, 10);
    stats.dropped = 3;
    stats.inferenceErrors = 1;
    expect(stats.snapshot().inputFps).toBeGreaterThan(0);

    stats.newRun();
    const s = stats.snapshot();
    expect(s).toMatchObject({ framesIn: 10, processed: 10, dropped: 3, inferenceErrors: 1 });
    expect(s.lastFrameAt).toBe(1_764_500_000_009);
    expect(s).toMatchObject({ inputFps: 0, processedFps: 0, lastInferenceMs: 0 });
  });
});
