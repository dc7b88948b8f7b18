import type { Logger } from '../../config/logger.js';
import type { Agent } from './agent.js';
import type { AgentService } from './services.js';

const restartDelayMs = 5000;

/** Starts services, and restarts one whose start fails or that reports a crash, never the agent. */
export class ServiceSupervisor {
  private stopping = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Services with a start scheduled: a second failure report while one is pending adds nothing. */
  private readonly pending = new Set<AgentService>();

  constructor(
    private readonly services: AgentService[],
    private readonly agent: Agent,
    private readonly log: Logger,
  ) {}

  async startAll(): Promise<void> {
    await Promise.all(this.services.map((s) => this.start(s)));
  }

  /** A service calls this (through the agent) when it failed after starting: it is stopped and started again. */
  async restart(service: AgentService, reason: string): Promise<void> {
    if (this.stopping || this.pending.has(service)) return;
    this.pending.add(service);
    this.log.error('service failed, restarting it', { service: service.name, reason });
    await Promise.resolve()
      .then(() => service.stop())
      .catch(() => {});
    this.schedule(service);
  }

  private async start(service: AgentService): Promise<void> {
    try {
      await service.start(this.agent);
    } catch (err) {
      this.log.error('service failed to start, retrying', {
        service: service.name,
        reason: err instanceof Error ? err.message : String(err),
        retryInMs: restartDelayMs,
      });
      this.schedule(service);
    }
  }

  private schedule(service: AgentService): void {
    this.pending.add(service);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.pending.delete(service);
      if (!this.stopping) void this.start(service);
    }, restartDelayMs);
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
