import mqtt from 'mqtt';
import { redactUrl } from '../../config/redact-url.js';
import { FleetEnvelope } from './fleet-document.js';
import { documentDigest } from './fleet-signature.js';
import { fleetTopics } from './fleet-topics.js';
import { PushTracker } from './push-tracker.js';
import { settleRetained } from './settle-retained.js';

export interface PushOptions {
  url: string;
  /** The signed document as `vigil fleet sign` wrote it. */
  document: Buffer;
  baseTopic?: string;
  username?: string;
  password?: string;
  /** For an `mqtts://` broker: the CA that signed its certificate, and a client certificate and key if it asks for one (PEM). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Give up waiting for results after this (the document stays retained: late boxes still apply it). */
  timeoutMs: number;
  /** Wait until at least this many boxes are known (boxes announce themselves on `config/state`). */
  expect?: number;
  /**
   * How long to collect the fleet's retained states before publishing (default 1 s). A large fleet's
   * states may take longer to arrive: the wait goes on while they keep coming, until 500 ms pass without
   * one, for at most 10 s.
   */
  settleMs?: number;
  /** Called on every change, for the live table. */
  onUpdate?: (tracker: PushTracker, elapsedMs: number) => void;
}

export interface PushOutcome {
  tracker: PushTracker;
  revision: number;
  topic: string;
  timedOut: boolean;
  elapsedMs: number;
}

/**
 * Publishes a signed document (retained, QoS 1) where its target follows, then watches the fleet's
 * `config/state` and `config/result` topics until every targeted box answered or the timeout passed.
 * The document is checked for shape only: the boxes verify the signature.
 */
export async function pushDocument(opts: PushOptions): Promise<PushOutcome> {
  let raw: unknown;
  try {
    raw = JSON.parse(opts.document.toString('utf8'));
  } catch (err) {
    throw new Error(`not a JSON document: ${(err as Error).message}`);
  }
  const env = FleetEnvelope.safeParse(raw);
  if (!env.success) throw new Error(`not a signed fleet document: ${env.error.issues[0]?.message}`);
  const { target, revision } = env.data;
  const base = opts.baseTopic ?? 'vigil';
  const topic = fleetTopics(base).forTarget(target);
  const tracker = new PushTracker(target, revision, documentDigest(raw as Record<string, unknown>));
  // The whole push keeps to its timeout, the connection included (at most 10 s of it).
  const connectMs = Math.min(10_000, opts.timeoutMs);
  const client = mqtt.connect(opts.url, {
    clientId: `vigil-push-${Math.random().toString(16).slice(2, 10)}`,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: connectMs,
    ...(opts.username !== undefined && { username: opts.username }),
    ...(opts.password !== undefined && { password: opts.password }),
    ...opts.tls,
  });
  const t0 = Date.now();
  const update = () => opts.onUpdate?.(tracker, Date.now() - t0);
  let wake: () => void = () => {};
  let lastRetainedAt = 0;
  client.on('message', (t, payload, packet) => {
    if (packet.retain) lastRetainedAt = Date.now();
    if (tracker.onMessage(t, payload)) {
      update();
      wake();
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      // mqtt.js retries a refused connection: the last error says why it never connected.
      let why = '';
      client.on('error', (err) => (why = `: ${redactUrl(err.message)}`));
      const timer = setTimeout(
        () =>
          reject(new Error(`cannot connect to ${redactUrl(opts.url)} within ${connectMs / 1000} s${why}`)),
        connectMs,
      );
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    // Each box's retained status too: one that is offline is shown so, not as merely slow to answer.
    await client.subscribeAsync(
      [`${base}/+/+/config/state`, `${base}/+/+/config/result`, `${base}/+/+/status`],
      { qos: 1 },
    );
    await settleRetained(opts.settleMs ?? 1000, () => lastRetainedAt, t0 + opts.timeoutMs);
    tracker.pushed();
    await client.publishAsync(topic, opts.document, { qos: 1, retain: true });
    update();
    const deadline = t0 + opts.timeoutMs;
    while (!tracker.done(opts.expect) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(1000, Math.max(1, deadline - Date.now())));
      });
    }
    return { tracker, revision, topic, timedOut: !tracker.done(opts.expect), elapsedMs: Date.now() - t0 };
  } finally {
    await client.endAsync();
  }
}
