import { z } from 'zod';
import type { Agent } from '../runtime/agent.js';

/** One request op: the fields it takes (strict: unknown fields are errors) and what it answers. */
export interface RequestOp<S extends z.ZodType = z.ZodType> {
  params: S;
  run(agent: Agent, params: z.infer<S>): unknown;
}

const Transaction = z.union([z.string().max(256), z.number()]).optional();
/** An op that takes no fields besides `transaction`. */
const NoParams = z.strictObject({ transaction: Transaction });

const op = <S extends z.ZodType>(o: RequestOp<S>): RequestOp => o as unknown as RequestOp;

/**
 * The ops `<root>/request/<op>` knows (docs/mqtt.md). An explicit map: an issue that adds an op (fleet,
 * drift) adds it here, with its schema.
 */
export const requestOps: Record<string, RequestOp> = {
  ping: op({ params: NoParams, run: () => ({ pong: true }) }),
  status: op({
    params: NoParams,
    run: (agent) => ({
      version: agent.version,
      site: agent.config.site,
      device: agent.config.device,
      uptimeS: Math.round((Date.now() - agent.startedAt) / 1000),
      link: agent.link
        ? {
            state: agent.link.state.state,
            protocol: agent.link.counters().protocol,
            lastError: agent.link.state.lastError ?? null,
          }
        : null,
      cameras: [...agent.cameras.values()].map((c) => ({
        id: c.config.id,
        state: c.state.state,
        since: c.state.since,
        ...(c.state.reason !== undefined && { reason: c.state.reason }),
      })),
    }),
  }),
  'outbox-stats': op({
    params: NoParams,
    run: (agent) => ({
      ...agent.outbox.depth(),
      dropsUnreported: agent.outbox.drops(),
      dropsSinceStart: agent.outbox.dropsSinceStart(),
      lastError: agent.outbox.lastError() ?? null,
      synchronous: agent.outbox.config.synchronous,
    }),
  }),
};
