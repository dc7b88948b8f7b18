import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { payloadSchemas } from '../../agent/mqtt/schema-registry.js';
import { startAgent } from '../support/agent-process.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { hasShared, repoRoot, sharedPath } from '../support/shared.js';
import { wholeFrameEnterZone } from '../support/vtest-zone.js';

interface Row {
  topic: string;
  pattern: RegExp;
  qos: number;
  retain: boolean;
  schema: string | undefined;
}

/** The outbound rows of the topic table in docs/mqtt.md, for a box `vigil/yard/box1`. */
function outboundRows(): Row[] {
  const doc = readFileSync(path.join(repoRoot, 'docs', 'mqtt.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Topic tree'), doc.indexOf('## Delivery'));
  const placeholders: Record<string, string> = {
    '<root>': 'vigil/yard/box1',
    '<base>': 'vigil',
    '<prefix>': 'homeassistant',
  };
  return table
    .split('\n')
    .map((line) => line.split('|').map((c) => c.trim()))
    .filter((cells) => cells[2] === 'out')
    .map((cells) => {
      const topic = cells[1]!.replace(/`/g, '');
      const source = topic
        .split('/')
        .map((part) => placeholders[part] ?? (/^<\w+>$/.test(part) ? '[^/]+' : part))
        .join('/');
      return {
        topic,
        pattern: new RegExp(`^${source}$`),
        qos: Number(cells[3]),
        retain: cells[4] === 'yes',
        schema: /\(schemas\/([\w-]+)\.json\)/.exec(cells[6]!)?.[1],
      };
    });
}

interface Seen {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
}

// What a data team subscribing to '#' gets from a running agent, held against the contract in docs/mqtt.md:
// every topic is a documented one, with the documented QoS, retain flag and payload schema.
describe.skipIf(!hasShared)('the topic contract of docs/mqtt.md, on a live agent', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => broker?.stop());

  it('publishes only documented topics, each with its QoS, retain flag and schema', async () => {
    const rows = outboundRows();
    expect(rows.length).toBeGreaterThan(12);
    const seen: Seen[] = [];
    // Retain as published: a live message keeps the retain flag it was published with.
    const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    sub.on('message', (topic, payload, packet) =>
      seen.push({ topic, payload, qos: packet.qos, retain: packet.retain }),
    );
    await sub.subscribeAsync('#', { qos: 1, rap: true });

    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-contract-'));
    const cfg = path.join(dir, 'vigil.yaml');
    writeFileSync(
      cfg,
      stringify({
        site: 'yard',
        device: 'box1',
        dataDir: path.join(dir, 'data'),
        mqtt: { url: broker.url, homeAssistant: { enabled: true } },
        http: { enabled: false },
        // 6 s windows: a drift message and its summary within the test.
        drift: { windowMinutes: 0.1, minFrames: 2 },
        fleet: { keys: ['o1VUvl8G5Lf1PZdkdINtGX2UFbNf9Bd5UNoNrcG5yrQ='], groups: ['north'] },
        models: { det: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'), providers: ['cpu'] } },
        cameras: [
          {
            id: 'walk',
            source: sharedPath('media', 'vtest.avi'),
            model: 'det',
            loop: true,
            fps: 4,
            ...wholeFrameEnterZone(),
          },
        ],
      }),
    );
    const agent = startAgent(['run', '--config', cfg]);
    const want = [
      'status',
      'health',
      'cameras/walk/state',
      'cameras/walk/detections',
      'cameras/walk/events',
      'cameras/walk/drift',
      'cameras/walk/drift/summary',
      'config/state',
      'response/ping',
    ].map((t) => `vigil/yard/box1/${t}`);
    const has = (topic: string) => seen.some((m) => m.topic === topic);
    try {
      await agent.waitForOutput(/agent running/, 60_000);
      await sub.publishAsync('vigil/yard/box1/request/ping', '{"transaction":1}', { qos: 1 });
      const t0 = Date.now();
      while (!want.every(has)) {
        if (Date.now() - t0 > 60_000)
          throw new Error(`not seen: ${want.filter((t) => !has(t)).join(', ')}\n${agent.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect((await agent.stop('SIGTERM')).code).toBe(0);
    } finally {
      await agent.stop('SIGKILL');
      await sub.endAsync();
    }

    const ours = seen.filter((m) => !m.topic.includes('/request/'));
    expect(ours.some((m) => m.topic.startsWith('homeassistant/'))).toBe(true);
    const problems = new Set<string>();
    for (const m of ours) {
      const matches = rows.filter((r) => r.pattern.test(m.topic));
      if (matches.length !== 1) {
        problems.add(`${m.topic}: ${matches.length} rows of the table match`);
        continue;
      }
      const row = matches[0]!;
      if (m.qos !== row.qos) problems.add(`${m.topic}: QoS ${m.qos}, documented ${row.qos}`);
      if (m.retain !== row.retain) problems.add(`${m.topic}: retain ${m.retain}, documented ${row.retain}`);
      if (!row.schema) continue;
      const parsed = payloadSchemas[row.schema]!.safeParse(JSON.parse(m.payload.toString('utf8')));
      if (!parsed.success) problems.add(`${m.topic}: not a ${row.schema}: ${parsed.error.message}`);
    }
    expect([...problems]).toEqual([]);
  }, 150_000);
});
