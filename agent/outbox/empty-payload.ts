import type { OutboxMessage } from './outbox-types.js';

/**
 * What a message's `build()` returns for an empty payload instead of JSON. On a retained topic an empty
 * retained message is MQTT's way to delete the retained message (and Home Assistant deletes the entity of a
 * discovery config cleared so). Nothing else may publish one: every other payload is JSON with a schema.
 */
export const emptyPayload: unique symbol = Symbol('empty payload');

/** The stored bytes of what `build()` returned. */
export function encodePayload(built: unknown): Buffer {
  return built === emptyPayload ? Buffer.alloc(0) : Buffer.from(JSON.stringify(built));
}

/**
 * Deletes `topic`'s retained message at the broker, through the outbox like any message, so a broker away
 * does not lose it. `coalesceKey` must be the one the topic's own messages use (when they use one): the clear
 * then replaces a value still waiting, which would otherwise replace the clear. Without one, the clear goes
 * after the topic's waiting messages (one topic is published in commit order).
 */
export function retainedClear(topic: string, coalesceKey?: string): OutboxMessage {
  return {
    topic,
    priority: 1,
    retain: true,
    ...(coalesceKey !== undefined && { coalesceKey }),
    build: () => emptyPayload,
  };
}
