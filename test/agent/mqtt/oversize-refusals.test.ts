import mqtt, { type MqttClient } from 'mqtt';
import { beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { MqttConfig } from '../../../config/schema.js';
import { InflightRows } from '../../../agent/mqtt/inflight-rows.js';
import { OversizeRefusals } from '../../../agent/mqtt/oversize-refusals.js';
import {
  closedOnMessage,
  closesBeforeDrop,
  quietClosesBeforeSearch,
  searchMessage,
} from '../../../agent/mqtt/silent-refusals.js';
import type { OutboxRow } from '../../../agent/outbox/outbox.js';
import { useLinkFixture } from '../../support/link-fixture.js';

const fx = useLinkFixture('oversize', { synchronous: 'OFF' });
let errors: string[];
let inflight: InflightRows;

beforeEach(() => {
  errors = [];
  inflight = new InflightRows(
    fx.outbox,
    silentLogger,
    (err) => errors.push(err.message),
    () => {},
  );
});

function refusals(cfg: Partial<MqttConfig> = {}): OversizeRefusals {
  const config = MqttConfig.parse({ url: 'mqtt://127.0.0.1:1', inflightWindow: 8, ...cfg });
  return new OversizeRefusals(config, inflight, (err) => errors.push(err.message));
}

function put(bytes = 10): OutboxRow {
  fx.outbox.enqueue({ topic: 'vigil/ok/a', priority: 1, build: () => ({ pad: 'x'.repeat(bytes) }) });
  return fx.outbox.rowsAfter(fx.outbox.lastRowid() - 1, 1)[0]!;
}
const stored = () => fx.outbox.next(100, new Set()).map((r) => r.rowid);

/** `n` closes of established connections with `rows` in flight and nothing settled. */
function closes(o: OversizeRefusals, n: number, rows: OutboxRow[]): void {
  for (let i = 0; i < n; i++) o.closed(rows, true, false, 4);
}

describe('OversizeRefusals', () => {
  it('with no limit known, quiet closes start a one-at-a-time search that drops the row closed on alone', () => {
    const o = refusals();
    o.connected({});
    const [a, b] = [put(), put()];
    closes(o, quietClosesBeforeSearch - 1, [a, b]);
    expect(o.window(8)).toBe(8);
    closes(o, 1, [a, b]);
    expect(errors).toEqual([searchMessage]);
    expect(o.window(8)).toBe(1);

    closes(o, closesBeforeDrop, [a]);
    expect(stored()).toEqual([b.rowid]);
    expect(inflight.stats.rejected).toBe(1);
    expect(errors.at(-1)).toBe(closedOnMessage(a, 4));
    expect(o.acked()).toBe(true);
    expect(o.window(8)).toBe(8);
  });

  it('a connection that never came up, or timed out, starts the streak over', () => {
    const o = refusals();
    o.connected({});
    const rows = [put()];
    closes(o, quietClosesBeforeSearch - 1, rows);
    o.closed(rows, false, false, 4);
    closes(o, quietClosesBeforeSearch - 1, rows);
    o.closed(rows, true, true, 4);
    closes(o, quietClosesBeforeSearch - 1, rows);
    expect(errors).toEqual([]);
    closes(o, 1, rows);
    expect(errors).toEqual([searchMessage]);
  });

  it('with a limit known, announced or configured, closes say nothing about the rows', () => {
    const rows = [put()];
    for (const [cfg, announced] of [
      [{}, 4096],
      [{ maxPacketBytes: 4096 }, undefined],
    ] as const) {
      const o = refusals(cfg);
      o.connected(announced ? { maximumPacketSize: announced } : {});
      closes(o, quietClosesBeforeSearch + closesBeforeDrop, rows);
      expect(o.window(8)).toBe(8);
    }
    expect(errors).toEqual([]);
    expect(stored()).toEqual([rows[0]!.rowid]);
  });

  it('refuses, unsent, a row over the smaller of the limits, naming where that limit comes from', async () => {
    const b = await fx.broker();
    const client: MqttClient = mqtt.connect(b.url, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
    fx.defer(() => new Promise<void>((r) => client.end(true, {}, () => r())));
    await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
    const big = put(3000);

    const configured = refusals({ maxPacketBytes: 2000 });
    configured.connected({ maximumPacketSize: 2500 });
    configured.publish(client, big, () => true);
    expect(errors.at(-1)).toMatch(/^a \d+-byte packet exceeds mqtt\.maxPacketBytes \(2000 bytes\)$/);

    const announced = refusals({ maxPacketBytes: 2500 });
    announced.connected({ maximumPacketSize: 2000 });
    announced.publish(client, put(3000), () => true);
    expect(errors.at(-1)).toMatch(
      /^a \d+-byte packet exceeds the broker's maximum packet size \(2000 bytes\)$/,
    );
    expect(stored()).toEqual([]);
    expect(inflight.stats).toMatchObject({ published: 0, rejected: 2 });
  });
});
