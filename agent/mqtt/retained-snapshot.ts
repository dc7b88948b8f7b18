import type { IPublishPacket, MqttClient } from 'mqtt';
import { topicMatches } from './subscriptions.js';

/** What one connection learned of the broker's retained messages: topic → payload (never empty). */
export type RetainedSnapshot = Map<string, Buffer>;

/**
 * Reads what the broker holds retained under `filters` on `client`'s connection. A broker sends the
 * retained messages of a subscription right after its SUBACK, but says nothing when they are all out: so,
 * once the SUBACK is in, `marker` is subscribed too, a topic that holds a retained message (the box's own
 * `status`, published as the connection opened). The broker handles one connection's packets in order,
 * so the marker's message comes after every retained message the first subscription brought.
 *
 * Undefined when nothing can be known: a filter refused (ACL), the connection lost, or no marker within
 * `timeoutMs`. The filters and the marker are unsubscribed afterwards, but for those `kept` says the link
 * itself subscribes to (an unsubscribe would end its own subscription).
 */
export async function retainedSnapshot(
  client: MqttClient,
  filters: string[],
  marker: string,
  timeoutMs: number,
  kept: (filter: string) => boolean,
): Promise<RetainedSnapshot | undefined> {
  const got: RetainedSnapshot = new Map();
  let markerSubscribed = false;
  let done: (ok: boolean) => void = () => {};
  const finished = new Promise<boolean>((resolve) => (done = resolve));
  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    if (markerSubscribed && topic === marker) return done(true);
    if (packet.retain && payload.length && filters.some((f) => topicMatches(f, topic)))
      got.set(topic, Buffer.from(payload));
  };
  const onClose = () => done(false);
  const timer = setTimeout(() => done(false), timeoutMs);
  client.on('message', onMessage);
  client.once('close', onClose);
  try {
    client.subscribe(filters, { qos: 1 }, (err) => {
      if (err) return done(false);
      markerSubscribed = true;
      client.subscribe(marker, { qos: 1 }, (e) => e && done(false));
    });
    return (await finished) ? got : undefined;
  } finally {
    clearTimeout(timer);
    client.removeListener('message', onMessage);
    client.removeListener('close', onClose);
    const drop = [...new Set([...filters, marker])].filter((f) => !kept(f));
    if (client.connected && drop.length) client.unsubscribe(drop);
  }
}
