import type { Subscription } from 'rxjs';
import type { VigilConfig } from '../../config/schema.js';
import type { Topics } from '../mqtt/topics.js';
import { retainedClear } from '../outbox/empty-payload.js';
import type { Agent } from '../runtime/agent.js';
import type { AgentService } from '../runtime/services.js';

/**
 * The retained per-camera topics a config may leave at the broker (docs/mqtt.md), each with the coalesce
 * key its own messages use: a camera's `state` and drift `summary` while it is in the config, its `pm25`
 * while it also has a `pm25` section.
 */
export function retainedCameraTopics(config: Pick<VigilConfig, 'cameras'>, t: Topics): Map<string, string> {
  const out = new Map<string, string>();
  for (const cam of config.cameras) {
    const base = t.camera(cam.id).state.replace(/\/state$/, '');
    out.set(`${base}/state`, `state/${cam.id}`);
    out.set(`${base}/drift/summary`, `drift-summary/${cam.id}`);
    // PM2.5 windows are not coalesced (each is a reading): the clear goes after those still waiting.
    if (cam.pm25) out.set(`${base}/pm25`, `pm25-clear/${cam.id}`);
  }
  return out;
}

/**
 * Clears the retained topics of a camera a fleet push (or its rollback) removed, and its `pm25` when the
 * camera lost its PM2.5: otherwise a new subscriber (a dashboard) gets the state of a camera that no longer
 * exists, for good. The clear is an empty retained message through the outbox (empty-payload.ts).
 */
export class CameraTopicsService implements AgentService {
  readonly name = 'camera-topics';
  private followed: Subscription | undefined;
  private pending: (() => void) | undefined;
  private timer: NodeJS.Immediate | undefined;

  start(agent: Agent): void {
    this.stop();
    let topics = retainedCameraTopics(agent.config, agent.topics);
    this.followed = agent.config$.subscribe((config) => {
      const next = retainedCameraTopics(config, agent.topics);
      const gone = [...topics].filter(([topic]) => !next.has(topic));
      topics = next;
      if (!gone.length) return;
      const clear = () => {
        for (const [topic, key] of gone) agent.outbox.enqueue(retainedClear(topic, key));
        agent.link?.notify();
        agent.log.info('retained topics of removed cameras cleared', { topics: gone.map(([t]) => t) });
      };
      // After the other services' handlers of this change: the drift service publishes a removed camera's
      // last window (and retained summary) there, which would come after the clear and replace it.
      this.flush();
      this.pending = clear;
      this.timer = setImmediate(() => this.flush());
    });
  }

  /** Runs a clear still waiting for its turn (stop() runs it too: it must not be lost). */
  private flush(): void {
    if (this.timer) clearImmediate(this.timer);
    const clear = this.pending;
    this.pending = this.timer = undefined;
    clear?.();
  }

  stop(): void {
    this.followed?.unsubscribe();
    this.followed = undefined;
    this.flush();
  }
}
