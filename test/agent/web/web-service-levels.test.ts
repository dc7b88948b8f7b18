import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../config/logger.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { WebService } from '../../../agent/web/web-service.js';
import type { StatusPayload } from '../../../agent/web/status-schema.js';
import { call } from '../../support/http-call.js';
import { idleAgentConfig, tempDataDir } from '../../support/idle-agent.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const who = [
  { name: 'within the WHO guideline', upTo: 15, tone: 'ok' as const },
  { name: 'above the WHO guideline', tone: 'warn' as const },
];

describe("WebService: a site's own PM2.5 levels", () => {
  it('names estimates with http.pm25Levels of the config it started with; a later push waits for a restart', async () => {
    const dir = tempDataDir('web-levels', (fn) => cleanup.push(fn));
    const cfg = idleAgentConfig(dir, { http: { host: '127.0.0.1', port: 0, pm25Levels: who } });
    const log = createLogger({ level: 'error' });
    const web = new WebService(cfg.http, { log });
    const agent = new Agent(cfg, { log, version: '0.0.0', services: [web] });
    await agent.start();
    cleanup.push(() => agent.stop(1000));
    // What the PM2.5 service keeps per camera (read loosely by the page): one window of 18 µg/m³.
    const window = {
      ts: Date.now() - 1000,
      windowMinutes: 15,
      estimable: true,
      pm25: 18,
      interval80: [12, 24],
      interval95: [9, 30],
      source: 'site-model',
      flags: {},
    };
    Object.assign(agent, { pm25: new Map([['cam1', [window]]]) });
    const base = new URL(`http://127.0.0.1:${web.address!.port}`);
    const level = async () => {
      const r = await call(base, '/api/status');
      expect(r.status).toBe(200);
      return (JSON.parse(r.body.toString()) as StatusPayload).cameras[0]!.pm25!.latest.level;
    };
    expect(await level()).toEqual({
      name: 'above the WHO guideline',
      tone: 'warn',
      band80: { low: 'within the WHO guideline', high: 'above the WHO guideline' },
    });
    // A push that changes `http` is reported as "at next restart"; the page keeps its levels until then.
    agent.config = {
      ...agent.config,
      http: { ...agent.config.http, pm25Levels: [who[0]!, { ...who[1]!, tone: 'bad' }] },
    };
    await new Promise((r) => setTimeout(r, 1100)); // the status is rebuilt at most once a second
    expect((await level())!.tone).toBe('warn');
  });
});
