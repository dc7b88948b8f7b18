import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** The main thread's event-loop delay: inference must never block it (it runs in worker threads). */
export class EventLoopLag {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  start(): this {
    this.histogram.enable();
    return this;
  }

  stop(): void {
    this.histogram.disable();
  }

  /** Milliseconds; `reset` starts a new measurement window. */
  read(reset = false): { p50: number; p99: number; max: number } {
    const h = this.histogram;
    // The histogram counts the timer's own resolution; subtract it so an idle loop reads ~0.
    const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - 10) * 100) / 100);
    const out = { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
    if (reset) h.reset();
    return out;
  }
}
