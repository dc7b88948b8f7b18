import type { IPublishPacket } from 'mqtt';

/** An MQTT message the agent received on one of its subscriptions. */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** MQTT 5 only. */
  responseTopic?: string;
  correlationData?: Buffer;
  contentType?: string;
}

export type MessageHandler = (payload: Buffer, message: InboundMessage) => void;

export function inboundMessage(packet: IPublishPacket): InboundMessage {
  const p = packet.properties ?? {};
  return {
    topic: packet.topic,
    payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
    retain: packet.retain,
    ...(p.responseTopic !== undefined && { responseTopic: p.responseTopic }),
    ...(p.correlationData !== undefined && { correlationData: p.correlationData }),
    ...(p.contentType !== undefined && { contentType: p.contentType }),
  };
}

/** Whether a topic filter is well formed: `#` only last and alone in its level, `+` alone in its level. */
export function validFilter(filter: string): boolean {
  if (!filter || filter.includes('\0') || Buffer.byteLength(filter) > 65535) return false;
  const levels = filter.split('/');
  return levels.every(
    (l, i) => (!l.includes('#') || (l === '#' && i === levels.length - 1)) && (!l.includes('+') || l === '+'),
  );
}

/** Whether a topic name is one a message may be published to (no wildcards). */
export function validTopicName(topic: string): boolean {
  return (
    topic.length > 0 && !/[+#\0]/.test(topic) && Buffer.byteLength(topic) <= 65535 && !topic.startsWith('$')
  );
}

/** MQTT matching; wildcards at the first level don't match `$`-topics (broker internals). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** The link's subscriptions: renewed on every connection (clean sessions), dispatched by filter. */
export class Subscriptions {
  private readonly entries = new Map<string, Set<MessageHandler>>();

  /** True when `filter` is new (it must be subscribed now). */
  add(filter: string, handler: MessageHandler): boolean {
    const handlers = this.entries.get(filter);
    if (handlers) {
      handlers.add(handler);
      return false;
    }
    this.entries.set(filter, new Set([handler]));
    return true;
  }

  /** True when that was the filter's last handler (it must be unsubscribed now). */
  remove(filter: string, handler: MessageHandler): boolean {
    const handlers = this.entries.get(filter);
    if (!handlers?.delete(handler) || handlers.size > 0) return false;
    this.entries.delete(filter);
    return true;
  }

  filters(): string[] {
    return [...this.entries.keys()];
  }

  /** Calls every matching handler; one that throws is reported and does not stop the others. */
  dispatch(msg: InboundMessage, onError: (err: unknown, filter: string, topic: string) => void): void {
    for (const [filter, handlers] of this.entries) {
      if (!topicMatches(filter, msg.topic)) continue;
      for (const h of handlers) {
        try {
          h(msg.payload, msg);
        } catch (err) {
          onError(err, filter, msg.topic);
        }
      }
    }
  }
}
