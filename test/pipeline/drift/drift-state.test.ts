import { describe, expect, it } from 'vitest';
import { DriftConfig } from '../../../config/drift-schema.js';
import { DriftStateMachine } from '../../../pipeline/drift/drift-state.js';

const run = (scores: number[], over: Partial<DriftConfig['hysteresis']> = {}) => {
  const cfg = DriftConfig.parse({ psi: { warn: 0.1, alarm: 0.25 }, hysteresis: over });
  const m = new DriftStateMachine(cfg);
  return scores.map((s) => m.update(s).state);
};

describe('drift state machine with hysteresis', () => {
  it('steps up at once, down only after clearWindows windows below threshold × clearRatio', () => {
    // 0.1 and 0.05 are both below 0.25 × 0.8: two windows clear the alarm, down to what 0.05 holds (ok)
    const states = run([0, 0.12, 0.3, 0.1, 0.05, 0.05, 0.01]);
    expect(states).toEqual(['ok', 'warn', 'alarm', 'alarm', 'ok', 'ok', 'ok']);
    // one window below is not enough
    expect(run([0.3, 0.05, 0.3])).toEqual(['alarm', 'alarm', 'alarm']);
  });

  it('does not flap on a boundary: a score hovering around a threshold holds the state', () => {
    // alarm at 0.25, cleared below 0.2; warn at 0.1, cleared below 0.08
    expect(run([0.26, 0.24, 0.26, 0.24, 0.21, 0.26])).toEqual(Array(6).fill('alarm'));
    expect(run([0.11, 0.09, 0.11, 0.09, 0.099])).toEqual(Array(5).fill('warn'));
    // a single low window in between restarts the count
    expect(run([0.3, 0.1, 0.22, 0.1, 0.1])).toEqual(['alarm', 'alarm', 'alarm', 'alarm', 'warn']);
  });

  it('steps down to the level the score still holds with lowered thresholds', () => {
    expect(run([0.3, 0.15, 0.15, 0.15])).toEqual(['alarm', 'alarm', 'warn', 'warn']);
  });

  it('raiseWindows: a rise must last before it counts', () => {
    expect(run([0.3, 0, 0.3, 0.3, 0.3], { raiseWindows: 2 })).toEqual(['ok', 'ok', 'ok', 'alarm', 'alarm']);
  });

  it('reports the previous state and whether it changed', () => {
    const m = new DriftStateMachine(DriftConfig.parse({}), 'warn');
    expect(m.update(0.5)).toEqual({ state: 'alarm', previous: 'warn', changed: true });
    expect(m.update(0.5)).toEqual({ state: 'alarm', previous: 'alarm', changed: false });
  });
});
