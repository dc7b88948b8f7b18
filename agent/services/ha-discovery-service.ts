import type { Subscription } from 'rxjs';
import { reconnections } from '../mqtt/link-connections.js';
import { retainedClear } from '../outbox/empty-payload.js';
import type { Agent } from '../runtime/agent.js';
import type { AgentService } from '../runtime/services.js';
import { discoveryMessages, discoveryNode, type DiscoveryMessage } from './ha-discovery.js';

const coalesceKey = (topic: string) => `ha/${topic}`;

/**
 * Publishes the retained Home Assistant discovery configs (mqtt.homeAssistant.enabled) at start, and again
 * whenever they may be gone: at every reconnection of the link (a broker restarted without persistence
 * forgets retained messages) and when Home Assistant announces it came online (`online` on
 * `<prefix>/status`, its birth message), as HA asks of discovery publishers. They follow the config a fleet
 * push (or its rollback) moves to: new cameras get their entities, and the configs of entities gone (a
 * camera removed or disabled, PM2.5 dropped) are cleared, so Home Assistant deletes them. Those the broker
 * holds for this box from before (another config) are cleared when they come with the subscription.
 */
export class HomeAssistantService implements AgentService {
  readonly name = 'home-assistant';
  private sub: Subscription | undefined;
  private followed: Subscription | undefined;
  private unsubscribe: (() => void)[] = [];

  start(agent: Agent): void {
    this.stop();
    // The prefix is the start config's, as the link's settings are (mqtt changes wait for a restart).
    const ha = agent.config.mqtt?.homeAssistant;
    if (!ha?.enabled) return;
    const messagesOf = () => discoveryMessages(agent.config, agent.topics, ha.prefix, agent.version);
    let messages = messagesOf();
    const publish = (why: string, list: DiscoveryMessage[], cleared: string[] = []) => {
      for (const topic of cleared) agent.outbox.enqueue(retainedClear(topic, coalesceKey(topic)));
      for (const m of list) {
        agent.outbox.enqueue({
          topic: m.topic,
          priority: 1,
          retain: true,
          coalesceKey: coalesceKey(m.topic),
          build: () => m.payload,
        });
      }
      agent.link?.notify();
      agent.log.info('Home Assistant discovery published', {
        entities: list.length,
        ...(cleared.length && { cleared: cleared.length }),
        prefix: ha.prefix,
        why,
      });
    };
    publish('start', messages);
    if (agent.link)
      this.sub = reconnections(agent.link.state$).subscribe(() => publish('reconnected', messages));
    this.followed = agent.config$.subscribe(() => {
      const next = messagesOf();
      const kept = new Set(next.map((m) => m.topic));
      const cleared = messages.map((m) => m.topic).filter((t) => !kept.has(t));
      messages = next;
      publish('config changed', next, cleared);
    });
    const link = agent.link;
    if (!link) return;
    // A retained `online` is the state HA was already in, not news: only a live birth message counts.
    this.unsubscribe.push(
      link.subscribe(`${ha.prefix}/status`, (payload, msg) => {
        if (!msg.retain && payload.toString('utf8').trim() === 'online')
          publish('home assistant online', messages);
      }),
    );
    // What the broker holds for this box (it comes with the subscription, at every connection): an entity
    // of a camera the running config does not have (a config edited by hand between two runs, an apply cut
    // short by a crash) is cleared.
    const node = discoveryNode(agent.config);
    this.unsubscribe.push(
      link.subscribe(`${ha.prefix}/+/${node}/+/config`, (payload, msg) => {
        if (!msg.retain || !payload.length || messages.some((m) => m.topic === msg.topic)) return;
        agent.outbox.enqueue(retainedClear(msg.topic, coalesceKey(msg.topic)));
        link.notify();
        agent.log.info('Home Assistant entity not in the config cleared', { topic: msg.topic });
      }),
    );
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.followed?.unsubscribe();
    this.sub = this.followed = undefined;
    for (const off of this.unsubscribe.splice(0)) off();
  }
}
