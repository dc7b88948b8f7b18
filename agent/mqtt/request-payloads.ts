import { z } from 'zod';

/**
 * Request/response in the style of Zigbee2MQTT's bridge API: a JSON object on
 * `<base>/<site>/<device>/request/<op>`, answered on `<base>/<site>/<device>/response/<op>` (or on the
 * request's MQTT 5 response topic, with its correlation data) with the request's `transaction` echoed.
 */

// The message is the contract's (docs/mqtt.md): zod's own for a failed union is only "Invalid input".
const Transaction = z.union([z.string().max(256), z.number()], { error: 'expected string or number' });

/** Every request: an object with an optional `transaction`; the op's own fields beside it. */
export const RequestEnvelope = z.looseObject({ transaction: Transaction.optional() });
export type RequestEnvelope = z.infer<typeof RequestEnvelope>;

/** `…/response/<op>`: `data` on success; `error` says what was wrong, in words a person can act on. */
export const ResponsePayload = z.strictObject({
  status: z.enum(['ok', 'error']),
  data: z.unknown(),
  error: z.string().optional(),
  /** The request's `transaction`, when it had one it was possible to read. */
  transaction: Transaction.optional(),
  /** Epoch ms of the answer. */
  ts: z.number().int().nonnegative(),
});
export type ResponsePayload = z.infer<typeof ResponsePayload>;
