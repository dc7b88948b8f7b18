import { afterEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../../agent/runtime/agent.js';
import { idleAgentConfig } from '../../support/idle-agent.js';
import { logLines } from '../../support/log-lines.js';

// A Jetson without RTC boots at 1970 and NTP steps the clock ahead later (or back a little): uptime is
// elapsed time, and startedAt follows the corrected clock.

afterEach(() => {
  vi.useRealTimers();
});

describe('Agent uptime across wall-clock steps', () => {
  it('is elapsed time: NTP stepping the clock 56 years ahead, then an hour back, does not change it', () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now: Date.UTC(1970, 0, 1, 0, 1) });
    const agent = new Agent(idleAgentConfig('./data'), {
      log: logLines().log,
      version: '9.9.9',
      services: [],
    });
    vi.advanceTimersByTime(90_000);
    vi.setSystemTime(Date.UTC(2026, 11, 3, 12)); // NTP
    // What health, the status page, /healthz, /metrics and the status request all report.
    const uptimeS = () => (Date.now() - agent.startedAt) / 1000;
    expect(uptimeS()).toBe(90);
    expect(agent.startedAt).toBe(Date.UTC(2026, 11, 3, 12) - 90_000);
    vi.setSystemTime(Date.now() - 3_600_000);
    vi.advanceTimersByTime(10_000);
    expect(uptimeS()).toBe(100);
  });
});
