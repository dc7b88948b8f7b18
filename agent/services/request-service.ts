import type { InboundMessage } from '../mqtt/mqtt-link.js';
import { describeIssues, parseRequest, type Transaction } from '../mqtt/parse-request.js';
import type { ResponsePayload } from '../mqtt/request-payloads.js';
import { validTopicName } from '../mqtt/subscriptions.js';
import type { Agent } from '../runtime/agent.js';
import type { AgentService } from '../runtime/services.js';
import { requestOps, type RequestOp } from './request-ops.js';

/** A response nobody read within this long is worthless: it expires in the outbox and at the broker. */
const responseExpiryS = 60;
/** Requests answered per second; beyond, they are refused in the log (a flood must not fill the outbox). */
const maxPerSecond = 20;
const opName = /^[A-Za-z0-9_.-]{1,64}$/;

interface Answer {
  status: ResponsePayload['status'];
  data: unknown;
  error?: string;
  transaction?: Transaction;
}

/**
 * `<root>/request/<op>` → `<root>/response/<op>` (docs/mqtt.md), through the outbox at alert priority.
 * Anything a publisher sends gets a precise error response or a logged refusal, never an exception.
 */
export class RequestService implements AgentService {
  readonly name = 'requests';
  private unsubscribe: (() => void) | undefined;
  private window = { second: 0, count: 0 };
  private queue: Promise<void> = Promise.resolve();
  /** Bumped by every start and stop: a request of a run that is over gets no answer (the outbox may be closed). */
  private run = 0;

  constructor(private readonly ops: Record<string, RequestOp> = requestOps) {}

  /** Safe to call again after stop(): the previous run's subscription is gone first. */
  start(agent: Agent): void {
    this.stop();
    const run = this.run;
    if (!agent.link) return;
    // One at a time, in arrival order: answers come out in the order the requests came in.
    this.unsubscribe = agent.link.subscribe(agent.topics.request('+'), (payload, msg) => {
      this.queue = this.queue
        .then(() => this.handle(agent, payload, msg, run))
        .catch((err: unknown) => agent.log.error('request handling failed', { reason: String(err) }));
    });
  }

  stop(): void {
    this.run++;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private async handle(agent: Agent, payload: Buffer, msg: InboundMessage, run: number): Promise<void> {
    if (run !== this.run) return;
    const op = msg.topic.slice(msg.topic.lastIndexOf('/') + 1);
    const log = agent.log.child({ component: 'requests', op: op.slice(0, 64) });
    if (msg.retain) {
      // A retained command would run again at every reconnect.
      log.warn('ignored a retained request (publish requests without retain)');
      return;
    }
    if (!opName.test(op)) {
      log.warn('refused a request: op names use letters, digits, _ . - (at most 64)');
      return;
    }
    const admitted = this.admit();
    if (admitted === 'refused-first') log.warn('refusing requests: more than 20 per second');
    if (admitted !== 'ok') return;
    const answer = await this.answer(agent, op, payload);
    if (run !== this.run) return; // the outbox may be closed by now
    if (answer.status === 'error') log.warn('request failed', { error: answer.error });
    const topic =
      msg.responseTopic && validTopicName(msg.responseTopic) ? msg.responseTopic : agent.topics.response(op);
    agent.outbox.enqueue({
      topic,
      priority: 2,
      expiryS: responseExpiryS,
      ...(msg.correlationData && { properties: { correlationData: msg.correlationData } }),
      build: ({ ts }): ResponsePayload => ({ ...answer, ts }),
    });
    agent.link?.notify();
  }

  private async answer(agent: Agent, op: string, payload: Buffer): Promise<Answer> {
    const parsed = parseRequest(payload);
    const transaction = parsed.transaction;
    const echo = transaction === undefined ? {} : { transaction };
    const fail = (error: string): Answer => ({ status: 'error', data: null, error, ...echo });
    if (!parsed.ok) return fail(parsed.error);
    const handler = Object.hasOwn(this.ops, op) ? this.ops[op] : undefined;
    if (!handler) return fail(`unknown op "${op}" (known: ${Object.keys(this.ops).sort().join(', ')})`);
    const params = handler.params.safeParse(parsed.body);
    if (!params.success) return fail(describeIssues(params.error));
    try {
      return { status: 'ok', data: (await handler.run(agent, params.data)) ?? null, ...echo };
    } catch (err) {
      return fail(`${op} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Logged once per second of refusals, not once per refused request. */
  private admit(): 'ok' | 'refused-first' | 'refused' {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.window.second) this.window = { second, count: 0 };
    const n = ++this.window.count;
    return n <= maxPerSecond ? 'ok' : n === maxPerSecond + 1 ? 'refused-first' : 'refused';
  }
}
