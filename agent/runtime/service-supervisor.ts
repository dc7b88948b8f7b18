import type { Logger } from '../../config/logger.js';
import type { Agent } from './agent.js';
import type { AgentService, ServiceFailed } from './services.js';

/** Starts services, and restarts one whose start fails or that reports a crash, never the agent. */
export class ServiceSupervisor {
  private stopping = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Services with a start scheduled: a second failure report while one is pending adds nothing. */
  private readonly pending = new Set<AgentService>();
  /** Each service's current run (counts its starts): a failure report from an earlier run is stale. */
  private readonly runs = new Map<AgentService, number>();
  /** Each service's latest start(), settled or not: a restart lets it finish before stopping the service. */
  private readonly starts = new Map<AgentService, Promise<void>>();

  constructor(
    private readonly services: AgentService[],
    private readonly agent: Agent,
    private readonly log: Logger,
    /** How long a failed service waits before its next start. */
    private readonly restartDelayMs = 5000,
  ) {}

  async startAll(): Promise<void> {
    await Promise.all(this.services.map((s) => this.start(s)));
  }

  /**
   * A service that failed after starting is stopped and started again (after the delay), alone. Services
   * reach it through the `failed` their start() is given, which reports only while that run is current.
   */
  async restart(service: AgentService, reason: string): Promise<void> {
    if (this.stopping || this.pending.has(service)) return;
    this.pending.add(service);
    this.log.error('service failed, restarting it', { service: service.name, reason });
    // A failure reported from inside start(): stopping half-way through it could leave a part running.
    await this.starts.get(service)?.catch(() => {});
    await Promise.resolve()
      .then(() => service.stop())
      .catch(() => {});
    this.schedule(service);
  }

  private async start(service: AgentService): Promise<void> {
    const run = (this.runs.get(service) ?? 0) + 1;
    this.runs.set(service, run);
    const failed: ServiceFailed = (reason) => {
      if (this.runs.get(service) === run) void this.restart(service, reason);
    };
    const started = Promise.resolve().then(() => service.start(this.agent, failed));
    this.starts.set(service, started);
    try {
      await started;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      // The agent is stopping: nothing will retry it, and the log must not say it will.
      if (this.stopping)
        return this.log.warn('service failed to start while stopping', { service: service.name, reason });
      this.log.error('service failed to start, retrying', {
        service: service.name,
        reason,
        retryInMs: this.restartDelayMs,
      });
      // It may have reported a failure before its start gave up: that restart is already on its way.
      if (!this.pending.has(service)) this.schedule(service);
    }
  }

  private schedule(service: AgentService): void {
    this.pending.add(service);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.pending.delete(service);
      if (!this.stopping) void this.start(service);
    }, this.restartDelayMs);
    timer.unref();
    this.timers.add(timer);
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    // Each stop on its own: one that throws (even synchronously) must not keep the others running.
    const results = await Promise.allSettled(
      this.services.map((s) => Promise.resolve().then(() => s.stop())),
    );
    results.forEach((r, i) => {
      if (r.status === 'rejected')
        this.log.error('service failed to stop', {
          service: this.services[i]!.name,
          reason: r.reason instanceof Error ? r.reason.message : String(r.reason),
        });
    });
  }
}
