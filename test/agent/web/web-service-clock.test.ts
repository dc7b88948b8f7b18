import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../../agent/runtime/agent.js';
import { WebService } from '../../../agent/web/web-service.js';
import { call } from '../../support/http-call.js';
import { idleAgentConfig } from '../../support/idle-agent.js';
import { logLines } from '../../support/log-lines.js';

// The status the page, /api/status and /api/events share is built at most once per tick: the tick is
// elapsed time, so NTP stepping the wall clock back does not serve one stale status for as long as the step.

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('WebService across a wall-clock step', () => {
  it('builds the status again after a tick of elapsed time though the wall clock stepped back an hour', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-web-clock-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const cfg = idleAgentConfig(dir, { http: { host: '127.0.0.1', port: 0 } });
    const { log } = logLines();
    const web = new WebService(cfg.http, { log, tickMs: 1000 });
    const agent = new Agent(cfg, { log, version: '0.0.0', services: [web] });
    await agent.start();
    cleanup.push(() => agent.stop(1000));
    const base = new URL(`http://127.0.0.1:${web.address!.port}`);
    const statusTs = async () =>
      (JSON.parse((await call(base, '/api/status')).body.toString()) as { ts: number }).ts;

    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const before = await statusTs();
    vi.setSystemTime(Date.now() - 3_600_000);
    vi.advanceTimersByTime(1500);
    const after = await statusTs();
    expect(after).toBe(Date.now());
    expect(after).toBeLessThan(before);
  });
});
