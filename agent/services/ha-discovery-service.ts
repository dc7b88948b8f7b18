import type { Subscription } from 'rxjs';
import { reconnections } from '../mqtt/link-connections.js';
import type { Agent } from '../runtime/agent.js';
import type { AgentService } from '../runtime/services.js';
import { discoveryMessages } from './ha-discovery.js';

/**
 * Publishes the retained Home Assistant discovery configs (mqtt.homeAssistant.enabled) at start, and again
 * whenever they may be gone: at every reconnection of the link (a broker restarted without persistence
 * forgets retained messages) and when Home Assistant announces it came online (`online` on
 * `<prefix>/status`, its birth message), as HA asks of discovery publishers.
 */
export class HomeAssistantService implements AgentService {
  readonly name = 'home-assistant';
  private sub: Subscription | undefined;
  private unsubscribe: (() => void) | undefined;

  start(agent: Agent): void {
    this.stop();
    const ha = agent.config.mqtt?.homeAssistant;
    if (!ha?.enabled) return;
    const messages = discoveryMessages(agent.config, agent.topics, ha.prefix, agent.version);
    const publish = (why: string) => {
      for (const m of messages) {
        agent.outbox.enqueue({
          topic: m.topic,
          priority: 1,
          retain: true,
          coalesceKey: `ha/${m.topic}`,
          build: () => m.payload,
        });
      }
      agent.link?.notify();
      agent.log.info('Home Assistant discovery published', {
        entities: messages.length,
        prefix: ha.prefix,
        why,
      });
    };
    publish('start');
    if (agent.link) this.sub = reconnections(agent.link.state$).subscribe(() => publish('reconnected'));
    // A retained `online` is the state HA was already in, not news: only a live birth message counts.
    this.unsubscribe = agent.link?.subscribe(`${ha.prefix}/status`, (payload, msg) => {
      if (!msg.retain && payload.toString('utf8').trim() === 'online') publish('home assistant online');
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
