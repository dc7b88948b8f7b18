import type { Observable, Subscription } from 'rxjs';
import type { DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';
import type { FleetHost } from './fleet-host.js';

/**
 * Watches the cameras an apply started: each must deliver a frame through inference (a detection event
 * from its own model) before the deadline. Created before the cameras start, so no event is missed.
 */
export class HealthWatch {
  private readonly pending: Map<string, string>;
  private readonly sub: Subscription;
  private wake: (() => void) | undefined;
  /** The events ended: the agent is stopping (it completes detections$), nothing more will come. */
  private ended = false;

  constructor(
    private readonly host: Pick<FleetHost, 'cameras'>,
    events$: Observable<DetectionEvent>,
    cameras: { id: string; model: string }[],
  ) {
    this.pending = new Map(cameras.map((c) => [c.id, c.model]));
    this.sub = events$.subscribe({
      next: (e) => {
        if (this.pending.get(e.camera) !== e.modelId) return;
        this.pending.delete(e.camera);
        if (this.pending.size === 0) this.wake?.();
      },
      // Waiting on to the deadline would keep a stopping agent's process alive for up to healthDeadlineS.
      complete: () => {
        this.ended = true;
        this.wake?.();
      },
    });
  }

  /**
   * Resolves when every camera delivered; rejects at the deadline, once one is `failed`, or when the events
   * end (the agent stopping), saying why.
   */
  async wait(deadlineMs: number): Promise<void> {
    // Monotonic: NTP stepping the clock ahead (often just as the network, and with it this apply, arrives)
    // would fail the check at once and roll back a healthy config.
    const until = performance.now() + deadlineMs;
    try {
      while (this.pending.size > 0) {
        if (this.ended) throw new Error('the agent is stopping');
        const failed = [...this.pending.keys()].filter(
          (id) => this.host.cameras.get(id)?.state.state === 'failed',
        );
        if (failed.length || performance.now() >= until)
          throw new Error(this.reasons(deadlineMs, failed).join('; '));
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, Math.min(250, Math.max(1, until - performance.now())));
        });
      }
    } finally {
      this.wake = undefined;
      this.sub.unsubscribe();
    }
  }

  close(): void {
    this.sub.unsubscribe();
  }

  private reasons(deadlineMs: number, failed: string[]): string[] {
    const ids = failed.length ? failed : [...this.pending.keys()];
    return ids.map((id) => {
      const s = this.host.cameras.get(id)?.state;
      // A failed camera's reason says it all ("failed (failed: …)" said it twice).
      if (failed.length) return `camera "${id}" failed${s?.reason ? `: ${s.reason}` : ''}`;
      const state = s ? `${s.state}${s.reason ? `: ${s.reason}` : ''}` : 'not running';
      return `camera "${id}": no inference within ${Math.round(deadlineMs / 100) / 10} s (${state})`;
    });
  }
}
