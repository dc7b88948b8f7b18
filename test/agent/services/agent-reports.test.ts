import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../config/logger.js';
import type { VigilConfig, VigilConfigInput } from '../../../config/schema.js';
import { AgentEventPayload, DropsPayload, HealthPayload } from '../../../agent/mqtt/report-payloads.js';
import { ResponsePayload } from '../../../agent/mqtt/request-payloads.js';
import { Agent } from '../../../agent/runtime/agent.js';
import type { AgentService } from '../../../agent/runtime/services.js';
import { HealthService } from '../../../agent/services/health-service.js';
import { RequestService } from '../../../agent/services/request-service.js';
import { HomeAssistantService } from '../../../agent/services/ha-discovery-service.js';
import { idleAgentConfig } from '../../support/idle-agent.js';
import { collect, startMosquitto, type Mosquitto, type Received } from '../../support/mosquitto.js';

// A real Agent with a real outbox and link, no camera running (disabled: no model is loaded).
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const lines: string[] = [];
const log = createLogger({ level: 'info', write: (l) => lines.push(l) });
const json = (m: Received) => JSON.parse(m.payload.toString()) as unknown;

function config(dataDir: string, mqttUrl: string, extra: Partial<VigilConfigInput> = {}): VigilConfig {
  return idleAgentConfig(dataDir, { mqtt: { url: mqttUrl, healthIntervalS: 0.3 }, ...extra });
}

async function startAgent(
  cfg: VigilConfig,
  services: AgentService[] = [new HealthService(), new RequestService()],
) {
  const agent = new Agent(cfg, { log, version: '1.2.3', services });
  await agent.start();
  cleanup.push(() => agent.stop(1000));
  return agent;
}

async function broker(): Promise<Mosquitto> {
  const b = await startMosquitto();
  cleanup.push(() => b.stop());
  return b;
}

const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-reports-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
};

describe('agent reports and requests over a real broker', () => {
  it('publishes a retained health that matches its schema, periodically', async () => {
    const b = await broker();
    const agent = await startAgent(config(tmp(), b.url));
    const sub = await collect(b.url, 'vigil/s/d/health');
    cleanup.push(() => sub.close());
    await sub.waitFor((m) => m.length >= 3, 10_000);
    const health = sub.messages.map((m) => HealthPayload.parse(json(m)));
    expect(sub.messages[0]!.retain).toBe(true);
    const last = health.at(-1)!;
    expect(last.version).toBe('1.2.3');
    expect(last.cameras).toEqual({});
    expect(last.link.connects).toBe(1);
    expect(last.link.roundTripMs).not.toBeNull(); // the earlier health messages were acknowledged
    expect(last.system.cores).toBeGreaterThan(0);
    expect(last.system.memory?.totalBytes).toBeGreaterThan(0);
    expect(health[2]!.ts).toBeGreaterThan(health[0]!.ts);
    expect(agent.outbox.depth().rows).toBeLessThanOrEqual(1);
  });

  it('reports drops counted while the broker was away once the link is back, and a moved-aside database', async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'data'), { recursive: true });
    writeFileSync(path.join(dir, 'data', 'outbox.db'), 'this is not a database, it is a text file');
    const b = await broker();
    const port = b.port;
    await b.stop();
    const cfg = config(path.join(dir, 'data'), `mqtt://127.0.0.1:${port}`, {
      outbox: { maxRows: 5 },
    });
    const agent = await startAgent(cfg);
    for (let i = 0; i < 20; i++)
      agent.outbox.enqueue({ topic: 'vigil/s/d/x', priority: 0, build: () => ({ i }) });
    expect(agent.outbox.drops()['max-rows']).toBeGreaterThan(0);
    const counted = agent.outbox.drops()['max-rows'];
    await b.start();
    const sub = await collect(b.url, 'vigil/s/d/#');
    cleanup.push(() => sub.close());
    await sub.waitFor((m) => m.some((x) => x.topic.endsWith('/drops')), 15_000);
    await sub.waitFor((m) => m.some((x) => x.topic.endsWith('/events')), 5000);
    const drops = DropsPayload.parse(json(sub.messages.find((m) => m.topic === 'vigil/s/d/drops')!));
    // Health messages committed since (the bound is 5 rows) may have pushed out a few more.
    const maxRows = drops.counts.find((c) => c.reason === 'max-rows' && c.priority === 0);
    expect(maxRows?.count).toBeGreaterThanOrEqual(counted);
    expect(drops.total).toBe(drops.counts.reduce((n, c) => n + c.count, 0));
    expect(agent.outbox.dropsSinceStart()['max-rows']).toBeGreaterThanOrEqual(maxRows!.count);
    const event = AgentEventPayload.parse(json(sub.messages.find((m) => m.topic === 'vigil/s/d/events')!));
    expect(event).toMatchObject({ type: 'outbox-moved-aside', reason: /bad header/ });
    expect(event.movedTo).toMatch(/outbox\.db\.corrupt-\d{4}-\d\d-\d\dT/);
  });

  it('answers requests, and hostile ones with precise errors, without crashing', async () => {
    const b = await broker();
    const pub = await mqtt.connectAsync(b.url, { protocolVersion: 5 });
    cleanup.push(() => pub.endAsync());
    const send = (op: string, payload: string | Buffer, opts: mqtt.IClientPublishOptions = {}) =>
      pub.publishAsync(`vigil/s/d/request/${op}`, payload, { qos: 1, ...opts });
    // A retained request waiting at the broker reaches the agent as retained when it subscribes: ignored.
    await send('ping', '{"transaction":"retained"}', { retain: true });
    await startAgent(config(tmp(), b.url));
    const sub = await collect(b.url, 'vigil/s/d/response/#');
    cleanup.push(() => sub.close());
    // The link subscribes once connected: wait for the first answer before the hostile ones.
    for (let i = 0; i < 50 && sub.messages.length === 0; i++) {
      await send('ping', '{"transaction":"t0"}');
      await sub.waitFor((m) => m.length > 0, 200).catch(() => {});
    }
    const cases: [string, string | Buffer, RegExp | null][] = [
      ['ping', '{"transaction":"t1"}', null],
      ['status', '{"transaction":2}', null],
      ['outbox-stats', '{"transaction":"t3"}', null],
      ['ping', '{"transaction":"t4", oops', /^invalid JSON: /],
      ['ping', Buffer.from([0xff, 0xfe, 0x00]), /^invalid JSON: the payload is not UTF-8 text$/],
      [
        'ping',
        `{"transaction":"t6","x":"${'a'.repeat(70_000)}"}`,
        /^request too large: \d+ bytes \(at most 65536\)$/,
      ],
      ['ping', '{"transaction":"t7","x":' + '['.repeat(40) + ']'.repeat(40) + '}', /nested too deeply/],
      ['nope', '{"transaction":"t8"}', /^unknown op "nope" \(known: outbox-stats, ping, status\)$/],
      ['ping', '{"transaction":"t9","extra":1}', /^unexpected field "extra"$/],
      ['ping', '{"transaction":{"x":1}}', /^transaction: /],
      ['ping', '[1,2]', /^request must be a JSON object, got array$/],
    ];
    // Over the 256 KiB maximum packet size the agent announces: the broker never hands it over.
    await send('ping', Buffer.alloc(300 * 1024, 0x20));
    const before = sub.messages.length;
    for (const [op, payload] of cases) await send(op, payload);
    await sub.waitFor(
      (m) =>
        m.filter((x) => (json(x) as { transaction?: unknown }).transaction !== 't0').length >= cases.length,
      10_000,
    );
    // Late answers to the warm-up pings are not part of the cases.
    const answers = sub.messages
      .slice(before)
      .filter((m) => (json(m) as { transaction?: unknown }).transaction !== 't0');
    // Per topic in order; across topics (ops) no order is promised.
    const byOp = (op: string) => answers.filter((m) => m.topic === `vigil/s/d/response/${op}`);
    const expected = (op: string) => cases.filter((c) => c[0] === op);
    for (const op of ['ping', 'status', 'outbox-stats', 'nope']) {
      const got = byOp(op).map((m) => ResponsePayload.parse(json(m)));
      const want = expected(op);
      expect(got).toHaveLength(want.length);
      got.forEach((r, i) => {
        const pattern = want[i]![2];
        if (pattern === null) expect(r, JSON.stringify(r)).toMatchObject({ status: 'ok' });
        else {
          expect(r.status).toBe('error');
          expect(r.error).toMatch(pattern);
        }
      });
    }
    const pong = ResponsePayload.parse(json(byOp('ping').at(0)!));
    expect(pong).toMatchObject({ status: 'ok', data: { pong: true }, transaction: 't1' });
    const status = ResponsePayload.parse(json(byOp('status')[0]!));
    expect(status).toMatchObject({
      transaction: 2,
      data: { version: '1.2.3', link: { state: 'connected' } },
    });

    // MQTT 5: the response topic and correlation data of the request are honoured.
    const replies = await collect(b.url, 'my/replies');
    cleanup.push(() => replies.close());
    await send('ping', '{}', {
      properties: { responseTopic: 'my/replies', correlationData: Buffer.from('c-42') },
    });
    await replies.waitFor((m) => m.length === 1);
    expect(ResponsePayload.parse(json(replies.messages[0]!))).toMatchObject({ status: 'ok' });

    // The retained request was never answered (it would run again on every reconnect).
    await send('ping', '{"transaction":"after"}');
    await sub.waitFor((m) => m.some((x) => (json(x) as { transaction?: string }).transaction === 'after'));
    expect(sub.messages.some((x) => (json(x) as { transaction?: string }).transaction === 'retained')).toBe(
      false,
    );
    expect(lines.join('\n')).toMatch(/ignored a retained request/);
  });

  it('refuses a flood of requests beyond 20 per second in the log, and answers again after', async () => {
    const b = await broker();
    await startAgent(config(tmp(), b.url), [new RequestService()]);
    const sub = await collect(b.url, 'vigil/s/d/response/#');
    cleanup.push(() => sub.close());
    const pub = await mqtt.connectAsync(b.url, { protocolVersion: 5 });
    cleanup.push(() => pub.endAsync());
    const send = (t: string) =>
      pub.publishAsync('vigil/s/d/request/ping', `{"transaction":"${t}"}`, { qos: 1 });
    const answers = (re: RegExp) =>
      sub.messages.map((m) => ResponsePayload.parse(json(m))).filter((r) => re.test(String(r.transaction)));
    // Until the link is subscribed: warm-up requests until one is answered (those before it, answered in
    // order, are in too: none is left to count in the flood's second).
    let warm = 0;
    await vi.waitFor(async () => {
      const t = `warm-${warm++}`;
      await send(t);
      await sub.waitFor(() => answers(new RegExp(`^${t}$`)).length > 0, 200);
    }, 30_000);
    await new Promise((r) => setTimeout(r, 1100)); // a fresh second
    const flood = Array.from({ length: 60 }, (_, i) => `f${i}`);
    const t0 = Date.now();
    await Promise.all(flood.map((t) => send(t)));
    // Answered again after: a request a second later (again, should a slow machine still fill that second).
    await vi.waitFor(async () => {
      await new Promise((r) => setTimeout(r, 1100));
      await send('later');
      await sub.waitFor(() => answers(/^later$/).length > 0, 2000);
    }, 30_000);
    const answered = answers(/^f\d+$/);
    // At most 20 a second, over the seconds the flood's handling spanned (one or two, more on a slow machine;
    // a response's ts comes right after its request was let through).
    const seconds = Math.floor(Math.max(...answered.map((r) => r.ts)) / 1000) - Math.floor(t0 / 1000) + 1;
    expect(answered.length).toBeGreaterThanOrEqual(20);
    expect(answered.length).toBeLessThanOrEqual(20 * seconds);
    expect(/refusing requests: more than 20 per second/.test(lines.join('\n'))).toBe(answered.length < 60);
  });

  it('publishes retained Home Assistant discovery when enabled', async () => {
    const b = await broker();
    const cfg = config(tmp(), b.url, { mqtt: { url: b.url, homeAssistant: { enabled: true } } });
    const agent = await startAgent(cfg, [new HomeAssistantService()]);
    while (agent.outbox.depth().rows > 0) await new Promise((r) => setTimeout(r, 20));
    // The camera is disabled (no model to load here): only the availability entity is announced.
    const sub = await collect(b.url, 'homeassistant/#');
    cleanup.push(() => sub.close());
    await sub.waitFor((m) => m.length >= 1);
    expect(sub.messages[0]).toMatchObject({
      topic: 'homeassistant/binary_sensor/vigil_s_d/online/config',
      retain: true,
    });
    expect(json(sub.messages[0]!)).toMatchObject({
      state_topic: 'vigil/s/d/status',
      device_class: 'connectivity',
    });
  });
});
