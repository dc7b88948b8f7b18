import { describe, expect, it } from 'vitest';
import { defaultDetectModel } from '../../../agent/web/detect-endpoint.js';

const loaded = (...ids: string[]) => new Map(ids.map((id) => [id, {}]));

// The doc's rule (docs/http.md, POST /api/detect): without ?model=, the loaded model of the first enabled
// camera in config order. It used to be the first entry of the detectors map, which is the models section's
// order and where a model loaded late by a retry or a fleet push goes last.
describe('the model /api/detect runs without ?model=', () => {
  it("is the first enabled camera's, not the first loaded", () => {
    const cameras = [
      { enabled: false, model: 'small' },
      { enabled: true, model: 'big' },
      { enabled: true, model: 'small' },
    ];
    expect(defaultDetectModel(cameras, loaded('small', 'big'))).toBe('big');
  });

  it('skips a camera whose model is not loaded, and falls back to any loaded one', () => {
    const cameras = [
      { enabled: true, model: 'broken' },
      { enabled: true, model: 'late' },
    ];
    expect(defaultDetectModel(cameras, loaded('other', 'late'))).toBe('late');
    expect(defaultDetectModel([{ enabled: true, model: 'broken' }], loaded('other'))).toBe('other');
    expect(defaultDetectModel([], loaded())).toBeUndefined();
  });
});
