import { mkdtempSync, rmSync } from 'node:fs';
import { logLines } from '../../support/log-lines.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../../agent/runtime/agent.js';
import type { AgentService } from '../../../agent/runtime/services.js';
import { WebService } from '../../../agent/web/web-service.js';
import { call } from '../../support/http-call.js';
import { idleAgentConfig } from '../../support/idle-agent.js';

// The real Agent, its real supervisor (with a 50 ms restart delay) and a real WebService on a free port.
const { log, lines } = logLines();
afterEach(() => {
  lines.length = 0;
  vi.restoreAllMocks();
});

/** A service beside the web service that only records its calls. */
class OtherService implements AgentService {
  readonly name = 'other';
  readonly calls: string[] = [];
  start(): void {
    this.calls.push('start');
  }
  stop(): void {
    this.calls.push('stop');
  }
}

/** Polls (real time) until `ok` holds; fails after 30 s (generous: a loaded machine). */
async function until(ok: () => boolean, what: string): Promise<void> {
  for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() - t0 > 30_000) throw new Error(`timed out waiting for ${what}`);
}

/** A started agent (no camera, no broker) with a real web service on a free port beside another. */
async function realAgent(port = 0) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-supervise-'));
  const cfg = idleAgentConfig(dir, { http: { host: '127.0.0.1', port } });
  const web = new WebService(cfg.http, { log, tickMs: 50 });
  const other = new OtherService();
  const real = new Agent(cfg, { log, version: '0.0.0', services: [web, other], serviceRestartMs: 50 });
  await real.start();
  const done = async () => {
    await real.stop(1000);
    rmSync(dir, { recursive: true, force: true });
  };
  return { web, other, real, done };
}

const at = (port: number) => new URL(`http://127.0.0.1:${port}`);
const listening = () => lines.filter((l) => l.msg === 'status page listening').length;

describe('a real agent and its real web service', () => {
  it('an EMFILE after listening restarts the web service alone: it serves again, the agent runs on', async () => {
    const { web, other, real, done } = await realAgent();
    try {
      const before = web.address!.port;
      expect((await call(at(before), '/healthz')).status).toBe(200);
      expect(listening()).toBe(1);

      const firstServer = web['server']!['server']!;
      const emfile = () => Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });
      // What Node does when accept() finds no file descriptor left; twice, as a busy server would.
      firstServer.emit('error', emfile());
      firstServer.emit('error', emfile());
      await until(() => listening() === 2, 'the web service to listen again');

      expect(lines.filter((l) => l.msg === 'http server failed')).toEqual([
        expect.objectContaining({ level: 'error', code: 'EMFILE', reason: 'accept EMFILE' }),
        expect.objectContaining({ level: 'error', code: 'EMFILE', reason: 'accept EMFILE' }),
      ]);
      expect(lines.filter((l) => l.msg === 'service failed, restarting it')).toEqual([
        expect.objectContaining({ service: 'web', reason: 'http server: accept EMFILE' }),
      ]);
      const after = web.address!.port;
      expect((await call(at(after), '/healthz')).status).toBe(200);
      if (after !== before)
        await expect(call(at(before), '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });

      // The closed first server, should it still speak, belongs to a run that is over: no second restart.
      firstServer.emit('error', emfile());
      await new Promise((r) => setTimeout(r, 200));
      expect(lines.filter((l) => l.msg === 'service failed, restarting it')).toHaveLength(1);
      expect(listening()).toBe(2);

      // Nothing else was touched and the agent is still up.
      expect(other.calls).toEqual(['start']);
      expect(real.outbox.depth()).toBeDefined();
      expect(real.detections$.closed).toBe(false);
      expect((await call(at(after), '/healthz')).status).toBe(200);
    } finally {
      await done();
    }
    expect(other.calls).toEqual(['start', 'stop']);
  });

  it('a status tick that throws restarts the web service instead of ending the agent', async () => {
    const { web, other, real, done } = await realAgent();
    try {
      // The next look at the outbox (the tick's error watch) fails once, as a broken database would.
      vi.spyOn(real.outbox, 'drops').mockImplementationOnce(() => {
        throw new Error('database disk image is malformed');
      });
      await until(() => listening() === 2, 'the web service to listen again');
      expect(lines.filter((l) => l.msg === 'service failed, restarting it')).toEqual([
        expect.objectContaining({ service: 'web', reason: 'status tick: database disk image is malformed' }),
      ]);
      expect((await call(at(web.address!.port), '/healthz')).status).toBe(200);
      expect(other.calls).toEqual(['start']);
    } finally {
      await done();
    }
  });

  it('a port taken fails each start, which is retried and leaves nothing behind; once free, it serves', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as AddressInfo;
    const { web, other, real, done } = await realAgent(port);
    try {
      const refused = () => lines.filter((l) => l.msg === 'service failed to start, retrying');
      await until(() => refused().length >= 3, 'three refused starts');
      expect(refused()[0]).toMatchObject({ service: 'web', reason: expect.stringContaining('EADDRINUSE') });
      // No subscription, timer or server of a failed start stays behind to pile up.
      expect(real.detections$.observed).toBe(false);
      expect(real.states$.observed).toBe(false);
      await new Promise<void>((r) => blocker.close(() => r()));
      await until(() => listening() === 1, 'the web service to listen');
      expect(web.address!.port).toBe(port);
      expect((await call(at(port), '/healthz')).status).toBe(200);
      expect(real.detections$.observed).toBe(true);
      expect(other.calls).toEqual(['start']);
    } finally {
      blocker.close();
      await done();
    }
  });
});
