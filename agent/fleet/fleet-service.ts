import { createHash, type KeyObject } from 'node:crypto';
import type { FleetConfig } from '../../config/fleet-schema.js';
import type { InboundMessage } from '../mqtt/subscriptions.js';
import { applyDocument, type DocumentApply } from './apply-document.js';
import { ConfigStore, type AttemptRecord, type StoredConfig } from './config-store.js';
import type { FleetDocument, ShadowConfig } from './fleet-document.js';
import type { FleetHost } from './fleet-host.js';
import { FleetReporter, type Outcome, type Running } from './fleet-reporter.js';
import { ShadowTrial } from './shadow-trial.js';
import { keyRing } from './fleet-signature.js';
import { fleetTopics, type FleetTopics } from './fleet-topics.js';
import { verifyDocument } from './verify-document.js';

/** An apply cut short by a restart (crash, power cut) is tried this many times in all, then refused. */
const maxTries = 2;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * The box side of fleet management (docs/fleet.md): follows the retained documents for its groups, its
 * site and itself; verifies each (verify-document.ts), applies only what changed (apply-config.ts), keeps
 * the result as last-known-good once it ran healthy, and reports every outcome on `…/config/result`.
 * Documents are handled one at a time, in arrival order.
 */
export class FleetService {
  readonly name = 'fleet';
  private host!: FleetHost;
  private store!: ConfigStore;
  private keys!: Map<string, KeyObject>;
  private topics!: FleetTopics;
  private readonly unsubscribe: (() => void)[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly refusedRetained = new Set<string>();
  private stopped = false;
  /** What the box runs now. */
  private running: Running = {
    revision: 0,
    source: 'file',
  };
  /** The highest revision run or tried: anything not above it is stale (or a duplicate). */
  private seen: { revision: number; digest?: string } = { revision: 0 };
  /** The document an apply was cut short on before this start: tried again although `seen` names it. */
  private retryDigest: string | undefined;
  private reporter!: FleetReporter;
  private trial: ShadowTrial | undefined;

  constructor(private readonly cfg: FleetConfig) {}

  async start(host: FleetHost): Promise<void> {
    this.host = host;
    this.stopped = false;
    const { config } = host;
    this.store = new ConfigStore(config.dataDir);
    this.keys = keyRing(this.cfg.keys);
    this.topics = fleetTopics(config.mqtt?.baseTopic ?? 'vigil');
    this.reporter = new FleetReporter(host, this.topics, this.cfg.groups, [...this.keys.keys()]);
    const revision = config.fleet?.revision ?? 0;
    let stored: StoredConfig | undefined;
    try {
      stored = this.store.load();
    } catch (err) {
      host.log.warn('fleet: last-known-good config unreadable', { reason: message(err) });
    }
    // run-agent starts from the persisted config when it is newer than the file (config-store.ts).
    const fromStore = stored !== undefined && revision > 0 && stored.revision === revision;
    this.running = { revision, source: fromStore ? 'fleet' : 'file', ...(fromStore && { stored }) };
    this.seen = { revision, ...(fromStore && { digest: stored!.digest }) };
    const attempt = this.store.loadAttempt();
    // A document that was rolled back (or refused after crashes) is not tried again at every reconnect;
    // one cut short (crash, stop) is the highest tried too: only it is tried again, not an older retained one.
    if (attempt && attempt.revision > this.seen.revision) {
      this.seen = { revision: attempt.revision, digest: attempt.digest };
      if (attempt.outcome === 'applying') this.retryDigest = attempt.digest;
    }
    (host as unknown as { fleet?: unknown }).fleet = { status: () => this.status() };
    this.reporter.state(this.running);
    // Killed after persisting but before recording the outcome: the document ran healthy and is what runs
    // now, but its result was never sent (and its retained document now reads as a duplicate): send it.
    if (fromStore && attempt?.outcome === 'applying' && attempt.digest === stored!.digest) {
      this.store.saveAttempt({ ...attempt, outcome: 'applied', at: Date.now() });
      this.report({
        revision: attempt.revision,
        digest: attempt.digest,
        status: 'applied',
        errors: [],
        changed: [],
      });
    }
    const { site, device } = config;
    const filters = [
      ...this.cfg.groups.map((g) => this.topics.group(g)),
      this.topics.site(site),
      this.topics.device(site, device),
    ];
    for (const filter of filters) {
      const off = host.link?.subscribe(filter, (payload, msg) => this.receive(payload, msg));
      if (off) this.unsubscribe.push(off);
    }
    this.unsubscribe.push(this.reporter.restateOnConnect(() => this.running));
    const shadow = this.running.stored?.managed.shadow;
    if (shadow) await this.resumeTrial(shadow);
    host.log.info('fleet: following documents', { topics: filters, revision, source: this.running.source });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.trial?.stop();
    this.trial = undefined;
    for (const off of this.unsubscribe.splice(0)) off();
    // An apply in progress is not waited for past a second: the agent's stop has a 5 s budget, and a cut
    // mid-apply is safe (the attempt is recorded, the persisted config is the old one or the new one whole).
    await Promise.race([this.chain, new Promise((r) => setTimeout(r, 1000).unref())]);
  }

  /** For the status page (agent/web/status-hooks.ts). */
  status(): unknown {
    return this.reporter.status(this.running);
  }

  /** Idle: every received document handled (tests and the fleet simulation wait on this). */
  idle(): Promise<void> {
    return this.chain;
  }

  private receive(payload: Buffer, msg: InboundMessage): void {
    // An empty message is how an operator clears a retained document: nothing to apply.
    if (payload.length === 0) return;
    // A retained document refused once is refused again at every reconnect: say so once per process.
    const key = msg.retain
      ? `${msg.topic}\n${createHash('sha256').update(payload).digest('hex')}`
      : undefined;
    if (key && this.refusedRetained.has(key)) return;
    this.chain = this.chain
      .then(() => (this.stopped ? undefined : this.handle(payload, msg, key)))
      .catch((err: unknown) =>
        this.host.log.error('fleet: document handling failed', { reason: message(err) }),
      );
  }

  private async handle(payload: Buffer, msg: InboundMessage, retainedKey?: string): Promise<void> {
    const { config, log } = this.host;
    const ctx = {
      keys: this.keys,
      maxBytes: this.cfg.maxDocumentBytes,
      box: { site: config.site, device: config.device, groups: this.cfg.groups },
      revision: this.seen.revision,
      ...(this.seen.digest && { digest: this.seen.digest }),
      running: this.running.revision,
    };
    let verdict = verifyDocument(payload, ctx);
    if (!verdict.ok && verdict.code === 'duplicate' && verdict.digest === this.retryDigest) {
      this.retryDigest = undefined;
      const { digest: _tried, ...rest } = ctx;
      verdict = verifyDocument(payload, { ...rest, revision: verdict.revision! - 1 });
    }
    if (!verdict.ok) {
      // Retained documents come back at every reconnect: the one already handled, or an older one on
      // another topic (a group's, after a device push), is not news.
      if (verdict.code === 'duplicate' || (verdict.code === 'stale' && msg.retain)) {
        log.debug('fleet: document ignored', {
          topic: msg.topic,
          code: verdict.code,
          reason: verdict.reason,
        });
        return;
      }
      if (retainedKey) this.refusedRetained.add(retainedKey);
      log.warn('fleet: document refused', { topic: msg.topic, code: verdict.code, reason: verdict.reason });
      this.report({
        revision: verdict.revision ?? null,
        ...(verdict.digest && { digest: verdict.digest }),
        status: 'rejected',
        errors: [`${verdict.code}: ${verdict.reason}`],
        changed: [],
      });
      return;
    }
    const { doc, digest } = verdict;
    const previous = this.store.loadAttempt();
    const tries = previous?.digest === digest && previous.outcome === 'applying' ? previous.tries + 1 : 1;
    const attempt: AttemptRecord = {
      revision: doc.revision,
      digest,
      tries,
      outcome: 'applying',
      at: Date.now(),
    };
    this.seen = { revision: doc.revision, digest };
    if (tries > maxTries) {
      this.store.saveAttempt({ ...attempt, tries: previous!.tries, outcome: 'rolled_back' });
      this.report({
        revision: doc.revision,
        digest,
        status: 'rolled_back',
        errors: [
          `the box restarted during ${previous!.tries} attempts to apply this revision; not trying again`,
        ],
        changed: [],
      });
      return;
    }
    this.store.saveAttempt(attempt);
    const outcome = await this.apply(
      doc,
      digest,
      JSON.parse(payload.toString('utf8')) as Record<string, unknown>,
    );
    // Cut short by the agent stopping (its cameras went away, not the document's fault): left `applying`,
    // so the retained document is tried again at the next start.
    if (this.stopped && outcome.status !== 'applied') return;
    this.store.saveAttempt({ ...attempt, outcome: outcome.status === 'applied' ? 'applied' : 'rolled_back' });
    this.report({ ...outcome, digest });
  }

  private apply(doc: FleetDocument, digest: string, raw: Record<string, unknown>): Promise<Outcome> {
    const ctx: DocumentApply = {
      host: this.host,
      store: this.store,
      healthDeadlineMs: this.cfg.healthDeadlineS * 1000,
      running: () => this.running,
      shadow: () => this.trial?.cfg,
      startTrial: (shadow, revision) => this.startTrial(shadow, revision),
      applied: (running) => {
        this.running = running;
        this.reporter.state(running);
      },
    };
    return applyDocument(ctx, doc, digest, raw);
  }

  private report(o: Outcome): void {
    this.reporter.result(o, this.running);
  }

  /** Replaces the running shadow trial (or just stops it). */
  private startTrial(shadow: ShadowConfig | undefined, revision: number): void {
    this.trial?.stop();
    const { site, device } = this.host.config;
    this.trial = shadow
      ? new ShadowTrial(this.host, shadow, revision, this.topics.shadow(site, device))
      : undefined;
    this.trial?.start();
  }

  /** At start on a persisted config with a trial: the agent loaded only the cameras' models. */
  private async resumeTrial(shadow: ShadowConfig): Promise<void> {
    const { candidate } = shadow;
    try {
      if (!this.host.detectors.has(candidate))
        this.host.detectors.set(
          candidate,
          await this.host.loadModel(candidate, this.host.config.models[candidate]!),
        );
      this.startTrial(shadow, this.running.revision);
    } catch (err) {
      this.host.log.error('fleet: shadow candidate cannot be loaded', { candidate, reason: message(err) });
    }
  }
}
