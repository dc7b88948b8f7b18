import type { Subscription } from 'rxjs';
import { reconnections } from '../mqtt/link-connections.js';
import { enqueueCameraState } from '../runtime/camera-state-message.js';
import type { Agent } from '../runtime/agent.js';
import type { AgentService } from '../runtime/services.js';

/**
 * Publishes each camera's retained state again at every reconnection of the link. A state changes only on
 * an event (a camera may stream for weeks), so a broker restarted without persistence would otherwise hold
 * no state at all until the next change, and a new subscriber would not get "the latest at once"
 * (docs/mqtt.md). `health`, `pm25` and drift summaries come back at their next period; `config/state` has
 * its own (agent/fleet/fleet-reporter.ts).
 */
export class RestateService implements AgentService {
  readonly name = 'restate';
  private sub: Subscription | undefined;

  start(agent: Agent): void {
    this.stop();
    const link = agent.link;
    if (!link) return;
    this.sub = reconnections(link.state$).subscribe(() => {
      for (const camera of agent.cameras.values())
        enqueueCameraState(agent.outbox, agent.topics, camera.state);
      link.notify();
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
  }
}
