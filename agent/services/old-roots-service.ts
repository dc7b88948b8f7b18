import type { Subscription } from 'rxjs';
import { connections } from '../mqtt/link-connections.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import { StatusPayload } from '../mqtt/payloads.js';
import type { RetainedSnapshot } from '../mqtt/retained-snapshot.js';
import { topicMatches } from '../mqtt/subscriptions.js';
import { retainedClear } from '../outbox/empty-payload.js';
import type { Agent } from '../runtime/agent.js';
import type { AgentService } from '../runtime/services.js';
import type { OldRoots, PublishedRoot } from './old-roots.js';

/** Every retained topic a box publishes under its root (docs/mqtt.md); `config/set` is the operator's. */
const rootFilters = (root: string) =>
  ['status', 'health', 'config/result', 'config/state', 'config/shadow']
    .map((t) => `${root}/${t}`)
    .concat(['state', 'pm25', 'drift/summary'].map((t) => `${root}/cameras/+/${t}`));

const haFilter = (ha: NonNullable<PublishedRoot['ha']>) => `${ha.prefix}/+/${ha.node}/+/config`;

/** The `box` of a retained status; null when it has none or is not a status. */
function statusBox(payload: Buffer): string | null {
  try {
    return StatusPayload.parse(JSON.parse(payload.toString('utf8'))).box ?? null;
  } catch {
    return null;
  }
}

/** Whether a discovery config reads this root's topics (every Vigil entity's `state_topic` is under it). */
function readsRoot(payload: Buffer, root: string): boolean {
  try {
    const stateTopic = (JSON.parse(payload.toString('utf8')) as { state_topic?: unknown }).state_topic;
    return typeof stateTopic === 'string' && stateTopic.startsWith(`${root}/`);
  } catch {
    return false;
  }
}

/**
 * Clears what this box left retained under a root it no longer uses (old-roots.ts): a restart after the
 * site, device, base topic or Home Assistant prefix changed would otherwise leave a ghost box (its
 * `status`, camera states, health) and ghost Home Assistant entities at the broker for good.
 *
 * At every connection it reads what the broker holds under the old roots. An old root is still this box's
 * when its retained `status` carries this box's id, or when it has no status at all (every box publishes
 * one as it connects: none has since). One whose status is another box's (the site/device now names
 * another box) is left as it is and forgotten. On a root of this box every retained topic it publishes is
 * cleared (an empty retained message through the outbox, like the camera sweep), and Home Assistant
 * entities under an old prefix/node when they read that root. A root is forgotten once a look finds
 * nothing left there; until then it is looked at again `recheckMs` after each clear (the clears acked, and
 * a will of a process the broker still held, published late, caught) and at every connection.
 */
export class OldRootsService implements AgentService {
  readonly name = 'old-roots';
  private sub: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private again = false;
  private active = false;

  constructor(private readonly recheckMs?: number) {}

  start(agent: Agent): void {
    this.stop();
    const { link, oldRoots } = agent;
    if (!link || !oldRoots?.old().length) return;
    this.active = true;
    // The will of a process the broker still holds comes within 1.5 keep-alive periods of its end.
    const recheckMs = this.recheckMs ?? (agent.config.mqtt!.keepaliveS * 1.5 + 5) * 1000;
    const sweep = async () => {
      if (this.sweeping) return void (this.again = true);
      this.sweeping = true;
      try {
        if (await this.sweep(agent, link, oldRoots)) {
          clearTimeout(this.timer);
          this.timer = setTimeout(() => void sweep(), recheckMs);
          this.timer.unref();
        }
      } catch (err) {
        agent.log.warn('old roots not swept', { reason: (err as Error).message });
      } finally {
        this.sweeping = false;
      }
      if (this.again && this.active) {
        this.again = false;
        void sweep();
      }
    };
    this.sub = connections(link.state$).subscribe(() => void sweep());
  }

  /** One look at the old roots; true when something was cleared (to be looked at again). */
  private async sweep(agent: Agent, link: MqttLink, roots: OldRoots): Promise<boolean> {
    const old = roots.old();
    const current = roots.current;
    const haMoved = (r: PublishedRoot) =>
      r.ha && (r.ha.prefix !== current.ha?.prefix || r.ha.node !== current.ha?.node) ? r.ha : undefined;
    const filtersOf = (r: PublishedRoot) => {
      const ha = haMoved(r);
      return [...(r.root !== current.root ? rootFilters(r.root) : []), ...(ha ? [haFilter(ha)] : [])];
    };
    const filters = [...new Set(old.flatMap(filtersOf))];
    const snapshot: RetainedSnapshot | undefined = filters.length ? await link.retained(filters) : new Map();
    if (!snapshot || !this.active) {
      if (this.active)
        agent.log.warn('old roots not swept: the broker did not say what it holds', { filters });
      return false;
    }
    let cleared = false;
    for (const r of old) {
      const status = snapshot.get(`${r.root}/status`);
      const owner = status && statusBox(status);
      if (r.root !== current.root && status && owner !== roots.box) {
        agent.log.info('old root used by another box: left as it is', { root: r.root, box: owner });
        roots.forget(r);
        continue;
      }
      const ha = haMoved(r);
      const topics = [...snapshot].filter(
        ([topic, payload]) =>
          (r.root !== current.root && rootFilters(r.root).some((f) => topicMatches(f, topic))) ||
          (ha !== undefined && topicMatches(haFilter(ha), topic) && readsRoot(payload, r.root)),
      );
      if (!topics.length) {
        agent.log.info('old root has nothing left: forgotten', { root: r.root, ha: r.ha });
        roots.forget(r);
        continue;
      }
      // Keyed by topic: a clear still waiting from an earlier look is replaced, not doubled.
      for (const [topic] of topics) agent.outbox.enqueue(retainedClear(topic, `old-root/${topic}`));
      link.notify();
      cleared = true;
      agent.log.info('retained topics under an old root cleared', {
        root: r.root,
        topics: topics.map(([t]) => t),
      });
    }
    return cleared;
  }

  stop(): void {
    this.active = false;
    this.sub?.unsubscribe();
    this.sub = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
