import { CameraStats } from '../../pipeline/camera/camera-stats.js';

/**
 * Each camera id's counters for as long as the agent runs it: a restart of the camera (its config changed in
 * a fleet push, its model replaced, its pipeline crashed) goes on counting where the last run stopped, as a
 * Prometheus counter of one process must. A camera the running config no longer has is forgotten, so one
 * added back starts from zero (its series went away from /metrics meanwhile).
 */
export class CameraCounters {
  private readonly byCamera = new Map<string, CameraStats>();

  /** The camera's counters, created at its first run. */
  of(camera: string): CameraStats {
    let stats = this.byCamera.get(camera);
    if (!stats) this.byCamera.set(camera, (stats = new CameraStats()));
    return stats;
  }

  /** The counters for a run starting now: the counts go on, rates and the last inference start over. */
  forRun(camera: string): CameraStats {
    const stats = this.of(camera);
    stats.newRun();
    return stats;
  }

  /** Forgets every camera but these (the enabled cameras of the config that runs now). */
  retain(cameras: Iterable<string>): void {
    const keep = new Set(cameras);
    for (const id of this.byCamera.keys()) if (!keep.has(id)) this.byCamera.delete(id);
  }
}
