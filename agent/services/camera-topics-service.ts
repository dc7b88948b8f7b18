import type { Subscription } from 'rxjs';
import type { VigilConfig } from '../../config/schema.js';
import { activePm25 } from '../../config/pm25-schema.js';
import type { Topics } from '../mqtt/topics.js';
import { retainedClear } from '../outbox/empty-payload.js';
import type { Agent } from '../runtime/agent.js';
import type { AgentService } from '../runtime/services.js';

/**
 * The retained per-camera topics a config may leave at the broker (docs/mqtt.md), each with the coalesce
 * key its own messages use: a camera's `state` and drift `summary` while it is in the config, its `pm25`
 * while it also has a `pm25` section that is enabled.
 */
export function retainedCameraTopics(config: Pick<VigilConfig, 'cameras'>, t: Topics): Map<string, string> {
  const out = new Map<string, string>();
  for (const cam of config.cameras) {
    for (const [topic, key] of cameraTopics(t, cam.id)) {
      if (activePm25(cam) || !topic.endsWith('/pm25')) out.set(topic, key);
    }
  }
  return out;
}

/** Every retained topic a camera may have, with its coalesce key. */
function cameraTopics(t: Topics, id: string): [string, string][] {
  const base = `${t.root}/cameras/${id}`;
  return [
    [`${base}/state`, `state/${id}`],
    [`${base}/drift/summary`, `drift-summary/${id}`],
    // PM2.5 windows are not coalesced (each is a reading): the clear goes after those still waiting.
    [`${base}/pm25`, `pm25-clear/${id}`],
  ];
}

/** The filters a sweep subscribes to: every camera's retained topics. */
const sweepFilters = (t: Topics) => cameraTopics(t, '+').map(([topic]) => topic);

/**
 * Clears the retained topics of a camera a fleet push (or its rollback) removed, and its `pm25` when the
 * camera lost its PM2.5: otherwise a new subscriber (a dashboard) gets the state of a camera that no longer
 * exists, for good. The clear is an empty retained message through the outbox (empty-payload.ts).
 *
 * The broker is also asked what it holds (at every connection, the retained messages of these topics come
 * with the subscription): one of a camera the running config does not have is cleared too. That covers
 * what no push saw: a config edited by hand between two runs, an apply cut short by a crash.
 */
export class CameraTopicsService implements AgentService {
  readonly name = 'camera-topics';
  private followed: Subscription | undefined;
  private pending: (() => void) | undefined;
  private timer: NodeJS.Immediate | undefined;
  private unsubscribe: (() => void)[] = [];

  start(agent: Agent): void {
    this.stop();
    let topics = retainedCameraTopics(agent.config, agent.topics);
    for (const filter of agent.link ? sweepFilters(agent.topics) : []) {
      const off = agent.link!.subscribe(filter, (payload, msg) => {
        // Only what the broker holds (retained, not empty); the agent's own live messages come back too.
        if (!msg.retain || !payload.length || topics.has(msg.topic)) return;
        const id = msg.topic.slice(agent.topics.root.length + '/cameras/'.length).split('/')[0]!;
        const key = new Map(cameraTopics(agent.topics, id)).get(msg.topic);
        if (key === undefined) return;
        agent.outbox.enqueue(retainedClear(msg.topic, key));
        agent.link?.notify();
        agent.log.info('retained topic of a camera not in the config cleared', { topic: msg.topic });
      });
      this.unsubscribe.push(off);
    }
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
    for (const off of this.unsubscribe.splice(0)) off();
    this.flush();
  }
}
