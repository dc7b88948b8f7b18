import { describe, expect, it } from 'vitest';
import { topics } from '../../../agent/mqtt/topics.js';

describe('topics', () => {
  it('builds the device tree under a base that may span levels', () => {
    const t = topics('acme/vigil', 'site-1', 'box_7');
    expect(t.status).toBe('acme/vigil/site-1/box_7/status');
    expect(t.health).toBe('acme/vigil/site-1/box_7/health');
    expect(t.camera('cam1')).toEqual({
      detections: 'acme/vigil/site-1/box_7/cameras/cam1/detections',
      state: 'acme/vigil/site-1/box_7/cameras/cam1/state',
      events: 'acme/vigil/site-1/box_7/cameras/cam1/events',
    });
  });

  it('refuses empty levels, separators and wildcards', () => {
    expect(() => topics('vigil/', 's', 'd')).toThrow(/base topic/);
    expect(() => topics('vigil', 's/x', 'd')).toThrow(/site/);
    expect(() => topics('vigil', 's', 'd').camera('#')).toThrow(/camera/);
    expect(() => topics('vigil', 's', '+')).toThrow(/device/);
  });
});
