import { describe, expect, it } from 'vitest';
import type { Box, Detection } from '../../../models/types.js';
import { Track } from '../../../pipeline/tracking/track.js';

function det(box: Box, score = 0.9, label = 'person', classId = 0): Detection {
  return { box, score, label, classId };
}

const box = (x: number, y: number, w = 40, h = 100): Box => ({ x1: x, y1: y, x2: x + w, y2: y + h });
const width = (b: Box) => b.x2 - b.x1;
const height = (b: Box) => b.y2 - b.y1;

describe('Track', () => {
  it('starts tentative, without an id, with one hit at its first time', () => {
    const t = new Track(det(box(10, 20), 0.7, 'forklift', 3), 12.5);
    expect(t.status).toBe('tentative');
    expect(t.confirmed).toBe(false);
    expect(t).toMatchObject({ id: 0, hits: 1, misses: 0, firstSeen: 12.5, lastSeen: 12.5 });
    expect(t).toMatchObject({ label: 'forklift', classId: 3, score: 0.7 });
    t.id = 4;
    expect(t.confirmed).toBe(true);
  });

  it('a match takes the detection box and score, counts a hit and clears misses', () => {
    const t = new Track(det(box(10, 20), 0.7), 1);
    t.status = 'tracked';
    t.miss();
    t.miss();
    const seen = box(14, 20);
    t.match(det(seen, 0.55, 'other-label', 9), 1.2);
    expect(t.box).toBe(seen);
    expect(t).toMatchObject({ score: 0.55, lastSeen: 1.2, firstSeen: 1, hits: 2, misses: 0 });
    // the label is the track's, not the latest detection's
    expect(t).toMatchObject({ label: 'person', classId: 0 });
  });

  it('a missed tracked track is lost; a match brings it back', () => {
    const t = new Track(det(box(0, 0)), 0);
    t.status = 'tracked';
    t.miss();
    expect(t.status).toBe('lost');
    t.miss();
    expect(t.status).toBe('lost');
    expect(t.misses).toBe(2);
    t.match(det(box(0, 0)), 0.3);
    expect(t.status).toBe('tracked');
  });

  it('a tentative track stays tentative whether matched or missed (the tracker confirms it)', () => {
    const t = new Track(det(box(0, 0)), 0);
    t.miss();
    expect(t.status).toBe('tentative');
    expect(t.misses).toBe(1);
    t.match(det(box(0, 0)), 0.1);
    expect(t.status).toBe('tentative');
    expect(t.hits).toBe(2);
  });

  it('the view reports the last detection box and the prediction separately', () => {
    const t = new Track(det(box(0, 0)), 0);
    t.id = 7;
    t.status = 'tracked';
    // walking right at 100 px/s
    for (let f = 1; f <= 10; f++) {
      t.predict(0.1);
      t.match(det(box(f * 10, 0)), f * 0.1);
    }
    t.predict(0.5);
    const v = t.view();
    expect(v).toMatchObject({ id: 7, status: 'tracked', firstSeen: 0, lastSeen: 1, hits: 11, score: 0.9 });
    expect(v.box).toEqual(box(100, 0));
    // the prediction carries on walking: about 50 px further than what was seen
    expect(v.predicted.x1).toBeGreaterThan(v.box.x1 + 25);
    expect(v.predicted.x1).toBeLessThan(v.box.x1 + 75);
    expect(t.predicted()).toEqual(v.predicted);
  });

  it('a tentative track is viewed as tracked, a lost one as lost', () => {
    const t = new Track(det(box(0, 0)), 0);
    expect(t.view().status).toBe('tracked');
    t.status = 'tracked';
    t.miss();
    expect(t.view().status).toBe('lost');
  });

  it('a lost track keeps its size when predicted; a tracked one follows its growth', () => {
    const grow = (status: 'tracked' | 'lost'): Box => {
      const t = new Track(det(box(0, 0, 40, 100)), 0);
      t.status = 'tracked';
      // coming closer: height +50 px/s
      for (let f = 1; f <= 10; f++) {
        t.predict(0.1);
        t.match(det(box(0, 0, 40 + f * 2, 100 + f * 5)), f * 0.1);
      }
      if (status === 'lost') t.miss();
      t.predict(1);
      return t.predicted();
    };
    const tracked = grow('tracked');
    const lost = grow('lost');
    expect(height(tracked)).toBeGreaterThan(175);
    expect(height(lost)).toBeGreaterThan(140);
    expect(height(lost)).toBeLessThan(160);
    expect(width(lost)).toBeLessThan(width(tracked));
  });
});
