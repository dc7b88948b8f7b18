import type { Agent } from '../runtime/agent.js';
import type { AgentService } from '../runtime/services.js';
import { discoveryMessages } from './ha-discovery.js';

/** Publishes the retained Home Assistant discovery configs once at start (mqtt.homeAssistant.enabled). */
export class HomeAssistantService implements AgentService {
  readonly name = 'home-assistant';

  start(agent: Agent): void {
    const ha = agent.config.mqtt?.homeAssistant;
    if (!ha?.enabled) return;
    const messages = discoveryMessages(agent.config, agent.topics, ha.prefix, agent.version);
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
    agent.log.info('Home Assistant discovery published', { entities: messages.length, prefix: ha.prefix });
  }

  stop(): void {}
}
