import { afterEach, describe, expect, it, vi } from 'vitest';
import { LabelCounts } from '../../../agent/web/label-counts.js';

const seen = (...labels: string[]) => labels.map((label) => ({ label }));

afterEach(() => {
  vi.useRealTimers();
});

describe('LabelCounts: what each camera has been seeing over the last minute', () => {
  it('counts detections per label, the most in one frame and the mean per frame', () => {
    let now = 1_000_000;
    const counts = new LabelCounts(60, () => now);
    counts.add('yard', seen('person', 'person', 'car'));
    now += 500;
    counts.add('yard', seen('person'));
    now += 1000;
    counts.add('yard', seen());
    counts.add('gate', seen('forklift'));
    expect(counts.recent('yard')).toEqual([
      { label: 'person', count: 3, max: 2, perFrame: 1 },
      { label: 'car', count: 1, max: 1, perFrame: 0.3 },
    ]);
    expect(counts.recent('gate')).toEqual([{ label: 'forklift', count: 1, max: 1, perFrame: 1 }]);
    expect(counts.recent('nowhere')).toEqual([]);
  });

  it('orders by count, and ties by label, so the page does not shuffle', () => {
    const counts = new LabelCounts(60, () => 5_000);
    counts.add('yard', seen('truck', 'car', 'person', 'person', 'bus'));
    expect(counts.recent('yard').map((c) => c.label)).toEqual(['person', 'bus', 'car', 'truck']);
  });

  it('by default keeps to elapsed time: a wall clock stepped back an hour keeps nothing past the window', () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const counts = new LabelCounts(60);
    counts.add('yard', seen('car'));
    vi.advanceTimersByTime(30_000);
    vi.setSystemTime(Date.now() - 3_600_000);
    counts.add('yard', seen('person'));
    vi.advanceTimersByTime(31_000); // the car's second has left the window
    expect(counts.recent('yard')).toEqual([{ label: 'person', count: 1, max: 1, perFrame: 1 }]);
  });

  it('forgets what is older than the window, and a camera that went away', () => {
    let now = 0;
    const counts = new LabelCounts(60, () => now);
    counts.add('yard', seen('car'));
    now = 30_000;
    counts.add('yard', seen('person'));
    now = 60_000; // the car's second has left the window
    expect(counts.recent('yard')).toEqual([{ label: 'person', count: 1, max: 1, perFrame: 1 }]);
    now = 90_000;
    expect(counts.recent('yard')).toEqual([]);
    counts.add('yard', seen('car'));
    counts.forget('yard');
    expect(counts.recent('yard')).toEqual([]);
  });
});
