import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logLines } from '../../support/log-lines.js';
import { Agent } from '../../../agent/runtime/agent.js';
import type { AgentService, ServiceFailed } from '../../../agent/runtime/services.js';
import { ServiceSupervisor } from '../../../agent/runtime/service-supervisor.js';
import { idleAgentConfig } from '../../support/idle-agent.js';

// The supervisor has no clock of its own: its 5 s retry timer is driven by vitest's fake setTimeout.
const retryMs = 5000;

const { log, lines } = logLines();

// Never started: the supervisor only hands it to each service's start().
const agent = new Agent(idleAgentConfig('./data'), { log, version: '0.0.0', services: [] });

/** A service that records its calls; `failures` starts fail first (async rejections, or sync throws). */
class TestService implements AgentService {
  readonly calls: string[] = [];
  readonly agents: Agent[] = [];
  /** The `failed` each start was given, in order. */
  readonly reports: ServiceFailed[] = [];
  constructor(
    readonly name: string,
    private failures = 0,
    private readonly how: 'reject' | 'throw' = 'reject',
    private readonly stopFails = false,
  ) {}
  start(a: Agent, failed: ServiceFailed): void | Promise<void> {
    this.calls.push('start');
    this.agents.push(a);
    this.reports.push(failed);
    if (this.failures > 0) {
      this.failures--;
      if (this.how === 'throw') throw new Error(`${this.name} cannot start`);
      return Promise.reject(new Error(`${this.name} cannot start`));
    }
  }
  stop(): Promise<void> {
    this.calls.push('stop');
    return this.stopFails ? Promise.reject(new Error('stop failed')) : Promise.resolve();
  }
}

beforeEach(() => {
  lines.length = 0;
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ServiceSupervisor', () => {
  it('starts every service with the agent; one that fails to start is retried after 5 s, the others run on', async () => {
    const [web, bad, health] = [new TestService('web'), new TestService('bad', 1), new TestService('health')];
    const sup = new ServiceSupervisor([web, bad, health], agent, log);
    await sup.startAll();
    expect([web.calls, bad.calls, health.calls]).toEqual([['start'], ['start'], ['start']]);
    expect([...web.agents, ...bad.agents, ...health.agents].every((a) => a === agent)).toBe(true);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'service failed to start, retrying',
        service: 'bad',
        reason: 'bad cannot start',
        retryInMs: retryMs,
      }),
    ]);

    await vi.advanceTimersByTimeAsync(retryMs - 1);
    expect(bad.calls).toEqual(['start']);
    await vi.advanceTimersByTimeAsync(1);
    expect(bad.calls).toEqual(['start', 'start']);
    // It started this time: nothing more is scheduled, and nobody else was touched.
    await vi.advanceTimersByTimeAsync(10 * retryMs);
    expect([web.calls, bad.calls, health.calls]).toEqual([['start'], ['start', 'start'], ['start']]);
    expect(lines).toHaveLength(1);
  });

  it('keeps retrying every 5 s, without limit or growing delay, while start keeps failing', async () => {
    for (const how of ['reject', 'throw'] as const) {
      lines.length = 0;
      const stubborn = new TestService('stubborn', 6, how);
      await new ServiceSupervisor([stubborn], agent, log).startAll();
      for (let n = 2; n <= 7; n++) {
        await vi.advanceTimersByTimeAsync(retryMs);
        expect(stubborn.calls, `${how}, try ${n}`).toHaveLength(n);
      }
      await vi.advanceTimersByTimeAsync(10 * retryMs);
      expect(stubborn.calls).toHaveLength(7); // the seventh start succeeded
      expect(lines).toHaveLength(6);
    }
  });

  it('restart() logs the reason, stops the service and starts it again 5 s later, alone', async () => {
    const [a, b] = [new TestService('a'), new TestService('b', 0, 'reject', true)];
    const sup = new ServiceSupervisor([a, b], agent, log);
    await sup.startAll();
    // b's stop rejects: it is restarted all the same.
    await sup.restart(b, 'socket closed');
    expect(b.calls).toEqual(['start', 'stop']);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'service failed, restarting it',
        service: 'b',
        reason: 'socket closed',
      }),
    ]);
    await vi.advanceTimersByTimeAsync(retryMs - 1);
    expect(b.calls).toEqual(['start', 'stop']);
    await vi.advanceTimersByTimeAsync(1);
    expect(b.calls).toEqual(['start', 'stop', 'start']);
    expect(a.calls).toEqual(['start']);
  });

  it('restart() survives a stop that throws synchronously', async () => {
    const s = new TestService('s');
    s.stop = () => {
      s.calls.push('stop');
      throw new Error('sync stop failure');
    };
    const sup = new ServiceSupervisor([s], agent, log);
    await sup.startAll();
    await sup.restart(s, 'crashed');
    await vi.advanceTimersByTimeAsync(retryMs);
    expect(s.calls).toEqual(['start', 'stop', 'start']);
  });

  it('stopAll() stops every service and cancels pending retries; restart() after it does nothing', async () => {
    const [ok, bad] = [new TestService('ok'), new TestService('bad', 100)];
    const sup = new ServiceSupervisor([ok, bad], agent, log);
    await sup.startAll();
    await vi.advanceTimersByTimeAsync(retryMs);
    expect(bad.calls).toEqual(['start', 'start']);
    expect(vi.getTimerCount()).toBe(1); // the next retry

    await sup.stopAll();
    expect(vi.getTimerCount()).toBe(0);
    expect([ok.calls, bad.calls]).toEqual([
      ['start', 'stop'],
      ['start', 'start', 'stop'],
    ]);
    await sup.restart(ok, 'too late');
    await vi.advanceTimersByTimeAsync(10 * retryMs);
    expect([ok.calls, bad.calls]).toEqual([
      ['start', 'stop'],
      ['start', 'start', 'stop'],
    ]);
    expect(lines.filter((l) => l.msg === 'service failed, restarting it')).toEqual([]);
  });

  it('stopAll() waits for every stop even when some of them reject', async () => {
    const [a, b, c] = [new TestService('a'), new TestService('b', 0, 'reject', true), new TestService('c')];
    const sup = new ServiceSupervisor([a, b, c], agent, log);
    await sup.startAll();
    await expect(sup.stopAll()).resolves.toBeUndefined();
    expect([a.calls, b.calls, c.calls]).toEqual([
      ['start', 'stop'],
      ['start', 'stop'],
      ['start', 'stop'],
    ]);
  });

  it('a start still pending at stopAll() that then fails is not retried', async () => {
    const slow = new TestService('slow');
    let fail!: (err: Error) => void;
    slow.start = () => {
      slow.calls.push('start');
      return new Promise<void>((_resolve, reject) => (fail = reject));
    };
    const sup = new ServiceSupervisor([slow], agent, log);
    const started = sup.startAll();
    await sup.stopAll();
    fail(new Error('gave up'));
    await started;
    await vi.advanceTimersByTimeAsync(10 * retryMs);
    expect(slow.calls).toEqual(['start', 'stop']);
    // Logged as what it is: no "retrying" that never comes.
    expect(lines.filter((l) => l.service === 'slow').map((l) => l.msg)).toEqual([
      'service failed to start while stopping',
    ]);
  });

  it('stops every service even when one throws synchronously from stop(), and logs it', async () => {
    const stopped: string[] = [];
    const svc = (name: string, stop: () => void): AgentService => ({ name, start() {}, stop });
    const sup = new ServiceSupervisor(
      [
        svc('a', () => void stopped.push('a')),
        svc('bad', () => {
          throw new Error('cannot stop');
        }),
        svc('c', () => void stopped.push('c')),
      ],
      agent,
      log,
    );
    await sup.startAll();
    await expect(sup.stopAll()).resolves.toBeUndefined();
    expect(stopped).toEqual(['a', 'c']);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'service failed to stop', service: 'bad', reason: 'cannot stop' }),
    );
  });

  it('a second failure report while a restart is pending restarts the service once', async () => {
    const web = new TestService('web');
    const sup = new ServiceSupervisor([web], agent, log);
    await sup.startAll();
    await sup.restart(web, 'crashed');
    await sup.restart(web, 'crashed again');
    await vi.advanceTimersByTimeAsync(retryMs);
    expect(web.calls).toEqual(['start', 'stop', 'start']);
    await sup.stopAll();
  });

  it('a service reports its own failure through the failed() its start was given: restarted 5 s later, alone', async () => {
    const [a, b] = [new TestService('a'), new TestService('b')];
    const sup = new ServiceSupervisor([a, b], agent, log);
    await sup.startAll();
    expect(a.reports).toHaveLength(1);
    a.reports[0]!('stream died');
    await vi.advanceTimersByTimeAsync(0);
    expect(a.calls).toEqual(['start', 'stop']);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'service failed, restarting it', service: 'a', reason: 'stream died' }),
    ]);
    await vi.advanceTimersByTimeAsync(retryMs - 1);
    expect(a.calls).toEqual(['start', 'stop']);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.calls).toEqual(['start', 'stop', 'start']);
    expect(b.calls).toEqual(['start']);

    // The first run is over: what it still reports (a late event of a closed server) changes nothing.
    a.reports[0]!('late news from the old run');
    await vi.advanceTimersByTimeAsync(10 * retryMs);
    expect(a.calls).toEqual(['start', 'stop', 'start']);
    expect(lines).toHaveLength(1);

    // The current run reports twice before its restart: one restart.
    a.reports[1]!('again');
    a.reports[1]!('and again');
    await vi.advanceTimersByTimeAsync(10 * retryMs);
    expect(a.calls).toEqual(['start', 'stop', 'start', 'stop', 'start']);
    expect(lines.map((l) => l.reason)).toEqual(['stream died', 'again']);

    await sup.stopAll();
    a.reports[2]!('while stopping');
    await vi.advanceTimersByTimeAsync(10 * retryMs);
    expect(a.calls).toEqual(['start', 'stop', 'start', 'stop', 'start', 'stop']);
    expect(lines).toHaveLength(2);
  });

  it('a failure reported from inside start() waits for that start to end, then restarts the service once', async () => {
    const s = new TestService('s');
    let finish!: (err?: Error) => void;
    let tries = 0;
    s.start = (_a, failed) => {
      s.calls.push('start');
      if (tries++ > 0) return;
      failed('listener failed while starting');
      return new Promise<void>((resolve, reject) => (finish = (err) => (err ? reject(err) : resolve())));
    };
    const sup = new ServiceSupervisor([s], agent, log);
    const started = sup.startAll();
    await vi.advanceTimersByTimeAsync(0);
    // Not stopped half-way through its start.
    expect(s.calls).toEqual(['start']);
    finish(new Error('gave up'));
    await started;
    await vi.advanceTimersByTimeAsync(0);
    expect(s.calls).toEqual(['start', 'stop']);
    await vi.advanceTimersByTimeAsync(retryMs);
    expect(s.calls).toEqual(['start', 'stop', 'start']);
    // Reported and then failed to start: still one restart, not two.
    await vi.advanceTimersByTimeAsync(10 * retryMs);
    expect(s.calls).toEqual(['start', 'stop', 'start']);
    await sup.stopAll();
  });
});
