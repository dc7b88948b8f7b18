import type { Subscription } from 'rxjs';
import { connections } from '../mqtt/link-connections.js';
import type { Agent } from '../runtime/agent.js';
import type { AgentService } from '../runtime/services.js';
import { HealthSampler } from '../web/health-sampler.js';
import { healthPayload } from './health-payload.js';

/**
 * The retained `health` every `mqtt.healthIntervalS`, and the outbox's own reports: drop counts (when the
 * link connects, and at each period while any are unreported) and corrupt databases moved aside at start-up.
 * Everything goes through the outbox; a `health` still waiting there is replaced by the newer one.
 */
export class HealthService implements AgentService {
  readonly name = 'health';
  private timer: NodeJS.Timeout | undefined;
  private sub: Subscription | undefined;
  private sampler: HealthSampler | undefined;
  private agent: Agent | undefined;
  /** Bumped by every start and stop: a run that is no longer current does nothing more. */
  private run = 0;

  /**
   * Safe to call again after stop() or after a start that threw (the supervisor retries it): each run
   * begins from nothing, and a start that fails part-way takes back what it had set up.
   */
  async start(agent: Agent): Promise<void> {
    this.stop();
    const run = this.run;
    this.agent = agent;
    this.sampler = new HealthSampler({ dataDir: agent.config.dataDir, maxAgeMs: 1000 });
    try {
      this.reportMovedAside();
      if (agent.link) this.sub = connections(agent.link.state$).subscribe(() => this.reportDrops());
      await this.sampler.refresh();
      if (run !== this.run) return;
      this.publishHealth();
    } catch (err) {
      if (run === this.run) this.stop();
      throw err;
    }
    const periodMs = (agent.config.mqtt?.healthIntervalS ?? 30) * 1000;
    this.timer = setInterval(() => void this.tick(run), periodMs);
    this.timer.unref();
  }

  stop(): void {
    this.run++;
    clearInterval(this.timer);
    this.timer = undefined;
    this.sub?.unsubscribe();
    this.sub = undefined;
  }

  private async tick(run: number): Promise<void> {
    // Called as `void this.tick()` from a timer: a rejection that escaped would end the agent.
    try {
      await this.sampler?.refresh();
      // The agent may have stopped (and closed the outbox) while the sample was taken.
      if (run !== this.run) return;
      this.publishHealth();
      this.reportDrops();
    } catch (err) {
      this.agent?.log.error('health report failed', {
        reason: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private publishHealth(): void {
    const agent = this.agent;
    if (!agent) return;
    const sample = this.sampler?.read() ?? null;
    agent.outbox.enqueue({
      topic: agent.topics.health,
      priority: 1,
      retain: true,
      coalesceKey: 'health',
      build: ({ ts }) => healthPayload(agent, sample, ts),
    });
    agent.link?.notify();
  }

  /** Only while connected: a report waiting out an outage would be stale, and the counts keep. */
  private reportDrops(): void {
    const agent = this.agent;
    if (!agent || agent.link?.state.state !== 'connected') return;
    const result = agent.outbox.reportDrops({
      topic: agent.topics.drops,
      priority: 2,
      build: (detail, { id, ts }) => ({
        id,
        ts,
        total: detail.reduce((n, d) => n + d.count, 0),
        counts: detail.filter((d) => d.count > 0),
      }),
    });
    if (result && !result.dropped) {
      agent.log.info('drop counts reported', { id: result.id });
      agent.link?.notify();
    }
  }

  private reportMovedAside(): void {
    const agent = this.agent;
    if (!agent) return;
    const results = agent.outbox.reportMovedAside({
      topic: agent.topics.events,
      priority: 2,
      build: (m, { id, ts }) => ({ id, type: 'outbox-moved-aside', ts, ...m }),
    });
    if (results.length) agent.link?.notify();
  }
}
