import type { DriftConfig } from '../../config/drift-schema.js';

export const driftStates = ['ok', 'warn', 'alarm'] as const;
export type DriftState = (typeof driftStates)[number];

const rank: Record<DriftState, number> = { ok: 0, warn: 1, alarm: 2 };

export interface DriftStateUpdate {
  state: DriftState;
  previous: DriftState;
  changed: boolean;
}

/**
 * ok | warn | alarm from one score per window (the largest significant PSI), with hysteresis: the state
 * steps up after `raiseWindows` windows at or above a threshold, and steps down only after
 * `clearWindows` windows below threshold × clearRatio. A score between the two holds the state, so a
 * camera sitting on a boundary does not flap.
 */
export class DriftStateMachine {
  private raise = 0;
  private clear = 0;

  constructor(
    private readonly cfg: Pick<DriftConfig, 'psi' | 'hysteresis'>,
    private current: DriftState = 'ok',
  ) {}

  get state(): DriftState {
    return this.current;
  }

  /** The level a score reaches on the plain thresholds. */
  levelOf(score: number): DriftState {
    return score >= this.cfg.psi.alarm ? 'alarm' : score >= this.cfg.psi.warn ? 'warn' : 'ok';
  }

  update(score: number): DriftStateUpdate {
    const previous = this.current;
    const { clearRatio, clearWindows, raiseWindows } = this.cfg.hysteresis;
    const target = this.levelOf(score);
    if (rank[target] > rank[previous]) {
      this.clear = 0;
      if (++this.raise >= raiseWindows) {
        this.current = target;
        this.raise = 0;
      }
    } else {
      this.raise = 0;
      // Below the lowered threshold of the current state: the level the score reaches with lowered thresholds.
      const lowered =
        score >= this.cfg.psi.alarm * clearRatio
          ? 'alarm'
          : score >= this.cfg.psi.warn * clearRatio
            ? 'warn'
            : 'ok';
      if (rank[lowered] < rank[previous]) {
        if (++this.clear >= clearWindows) {
          this.current = lowered;
          this.clear = 0;
        }
      } else {
        this.clear = 0;
      }
    }
    return { state: this.current, previous, changed: this.current !== previous };
  }
}
