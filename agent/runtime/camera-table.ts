import type { VigilConfig } from '../../config/schema.js';
import type { CameraRuntime } from './agent-types.js';
import { CameraCounters } from './camera-counters.js';

/**
 * The agent's cameras by id: the enabled cameras of the config it runs, each running, failed, or stopped
 * between two runs. A camera a fleet push restarts stays listed from its stop to its new start, with its
 * counters and the state it last reported, so /metrics and /api/status show it all along: a scrape that
 * lacked its series would end them for Prometheus (a gap in the graphs, `absent()` alerts firing). A camera
 * leaves when the config no longer runs it (the push removed or disabled it).
 */
export class CameraTable extends Map<string, CameraRuntime> {
  /** Each camera's counters, kept across its restarts (camera-counters.ts). */
  readonly counters = new CameraCounters();

  /**
   * A camera whose pipeline stopped: kept until it runs again or the config drops it. A new entry, holding
   * nothing of the run that ended (its crash-restart timer and late states look for that run's entry).
   */
  stopped(id: string, run: CameraRuntime): void {
    this.set(id, { config: run.config, state: run.state, stats: run.stats });
  }

  /** The config the agent moves to: the cameras it does not run (removed, disabled) go. */
  follow(config: VigilConfig): void {
    const runs = new Set(config.cameras.filter((c) => c.enabled).map((c) => c.id));
    for (const id of [...this.keys()]) if (!runs.has(id)) this.delete(id);
  }
}
