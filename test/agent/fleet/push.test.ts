import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/logger.js';
import type { FleetBodyInput } from '../../../agent/fleet/fleet-document.js';
import {
  documentDigest,
  fleetPrivateKey,
  generateFleetKey,
  signDocument,
} from '../../../agent/fleet/fleet-signature.js';
import { pushDocument } from '../../../agent/fleet/push.js';
import type { PushTracker } from '../../../agent/fleet/push-tracker.js';
import { startSimBox, type SimBox } from '../../../agent/fleet/sim-host.js';
import { freePort } from '../../support/free-port.js';
import { collect, startMosquitto, type Mosquitto } from '../../support/mosquitto.js';

// `vigil fleet push` (docs/fleet.md "Pushing") against a real mosquitto and simulated boxes that run the
// real fleet service (agent/fleet/sim-host.ts): the document goes out retained where its target follows,
// and the push follows the boxes' retained state and results until each answered or the time is up.

const key = generateFleetKey();
const root = mkdtempSync(path.join(tmpdir(), 'vigil-push-'));
const model = path.join(root, 'det.onnx');
writeFileSync(model, 'sim');

const body: FleetBodyInput = {
  models: { det: { path: model } },
  cameras: [{ id: 'a', source: '/sim/a', model: 'det', fps: 20 }],
};
const doc = (revision: number, target: string, config: FleetBodyInput = body) =>
  Buffer.from(
    JSON.stringify(
      signDocument({ revision, target: target as never, config }, fleetPrivateKey(key.privatePem)),
      null,
      2,
    ),
  );

let broker: Mosquitto;
const boxes: SimBox[] = [];
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await Promise.all(boxes.map((b) => b.stop()));
  await broker?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function box(device: string, groups: string[], baseTopic = 'vigil', site = 'yard'): Promise<SimBox> {
  const b = await startSimBox(
    validateConfig({
      site,
      device,
      dataDir: path.join(root, device),
      mqtt: { url: broker.url, baseTopic },
      http: { enabled: false },
      models: { det: { path: model } },
      cameras: [{ id: 'a', source: '/sim/a', model: 'det', fps: 20 }],
      fleet: { keys: [key.publicBase64], groups, healthDeadlineS: 2 },
    }),
    silentLogger,
  );
  boxes.push(b);
  return b;
}

/** Publishes a retained message as a box (or anything else) would. */
async function publish(topic: string, payload: unknown, url = broker.url) {
  const c = await mqtt.connectAsync(url);
  await c.publishAsync(topic, JSON.stringify(payload), { qos: 1, retain: true });
  await c.endAsync();
}
const state = (device: string, revision: number, groups: string[]) => ({
  site: 'yard',
  device,
  groups,
  revision,
  source: 'fleet',
  keyIds: [],
  ts: 1,
});

describe('pushDocument', () => {
  it('refuses what is not a signed document before connecting anywhere', async () => {
    const url = 'mqtt://127.0.0.1:1';
    const t0 = Date.now();
    await expect(
      pushDocument({ url, document: Buffer.from('{"revision": 1'), timeoutMs: 1000 }),
    ).rejects.toThrow(/^not a JSON document: /);
    const unsigned = JSON.parse(doc(5, 'group:x').toString()) as Record<string, unknown>;
    delete unsigned.signature;
    await expect(
      pushDocument({ url, document: Buffer.from(JSON.stringify(unsigned)), timeoutMs: 1000 }),
    ).rejects.toThrow(/^not a signed fleet document: /);
    await expect(
      pushDocument({
        url,
        document: Buffer.from(JSON.stringify({ ...unsigned, signature: 'x', target: 'all' })),
        timeoutMs: 1000,
      }),
    ).rejects.toThrow(/^not a signed fleet document: /);
    expect(Date.now() - t0).toBeLessThan(5000); // not after a connect attempt's 10 s timeout
  });

  it('publishes retained on the target topic and follows the targeted boxes until each applied', async () => {
    const a = await box('push-a', ['north']);
    await box('push-b', ['north', 'dock']);
    await box('push-z', ['south']); // not targeted
    const document = doc(10, 'group:north');
    const updates: { ms: number; rows: number }[] = [];
    const out = await pushDocument({
      url: broker.url,
      document,
      timeoutMs: 15_000,
      settleMs: 300,
      onUpdate: (t: PushTracker, ms) => updates.push({ ms, rows: t.rows.size }),
    });
    expect(out).toMatchObject({ revision: 10, topic: 'vigil/fleet/north/config', timedOut: false });
    expect([...out.tracker.rows.keys()].sort()).toEqual(['yard/push-a', 'yard/push-b']);
    for (const row of out.tracker.rows.values()) {
      expect(row).toMatchObject({ status: 'applied', running: 10, errors: [] });
      expect(row.ms).toBeGreaterThanOrEqual(0);
    }
    expect(out.tracker.counts()).toMatchObject({ applied: 2, waiting: 0 });
    expect(out.elapsedMs).toBeLessThan(10_000);
    expect(updates.length).toBeGreaterThanOrEqual(3); // boxes known, pushed, results
    expect(updates.every((u, i) => i === 0 || u.ms >= updates[i - 1]!.ms)).toBe(true);
    expect(updates.at(-1)!.rows).toBe(2);
    // Done as soon as the last box answered, not at the next poll (up to 1 s later; a margin for a busy box).
    expect(out.elapsedMs - updates.at(-1)!.ms).toBeLessThan(700);
    expect(a.host.config.fleet?.revision).toBe(10);
    // Retained exactly as signed: a box that comes later still gets it.
    const late = await collect(broker.url, 'vigil/fleet/north/config');
    await late.waitFor((m) => m.length === 1, 3000);
    expect(late.messages[0]!.retain).toBe(true);
    expect(late.messages[0]!.payload.equals(document)).toBe(true);
    await late.close();
  });

  it('a box that already runs the document counts as current; one that never answers times the push out', async () => {
    const document = doc(20, 'group:east');
    const digest = documentDigest(JSON.parse(document.toString()) as Record<string, unknown>);
    await publish('vigil/yard/cur-1/config/state', { ...state('cur-1', 20, ['east']), digest });
    await publish('vigil/yard/gone-1/config/state', state('gone-1', 3, ['east']));
    await publish('vigil/yard/other/config/state', state('other', 3, ['west']));
    const t0 = Date.now();
    const out = await pushDocument({ url: broker.url, document, timeoutMs: 2500 });
    const took = Date.now() - t0;
    expect(out.timedOut).toBe(true);
    expect(took).toBeGreaterThanOrEqual(2400);
    expect(took).toBeLessThan(5000);
    expect(out.elapsedMs).toBeGreaterThanOrEqual(2400);
    expect(Object.fromEntries([...out.tracker.rows].map(([k, r]) => [k, r.status]))).toEqual({
      'yard/cur-1': 'current',
      'yard/gone-1': 'waiting',
    });
  });

  // Found pushing to real agents: an older revision (a "rollback" re-signed with an old --revision) was
  // shown as "3 already current" with exit 0 while every box refused it as stale; the same revision signed
  // again with another config ended at once on the boxes' retained answers to the first one.
  it('a box that runs another document answers the push: stale is a refusal, not current', async () => {
    await box('stale-1', ['west2']);
    await box('stale-2', ['west2']);
    const push = (document: Buffer) =>
      pushDocument({ url: broker.url, document, timeoutMs: 20_000, settleMs: 300 });
    const statuses = (out: Awaited<ReturnType<typeof push>>) =>
      Object.fromEntries(
        [...out.tracker.rows].map(([k, r]) => [k, `${r.status} ${r.errors.join('; ')}`.trim()]),
      );
    const first = doc(80, 'group:west2');
    expect(statuses(await push(first))).toEqual({ 'yard/stale-1': 'applied', 'yard/stale-2': 'applied' });

    const resigned = await push(
      doc(80, 'group:west2', { ...body, cameras: [{ ...body.cameras[0]!, fps: 10 }] }),
    );
    const stale80 = "rejected stale: revision 80 is not above this box's revision 80";
    expect(resigned.timedOut).toBe(false);
    expect(statuses(resigned)).toEqual({ 'yard/stale-1': stale80, 'yard/stale-2': stale80 });

    const older = await push(doc(75, 'group:west2'));
    const stale75 = "rejected stale: revision 75 is not above this box's revision 80";
    expect(statuses(older)).toEqual({ 'yard/stale-1': stale75, 'yard/stale-2': stale75 });
    expect(older.tracker.counts()).toMatchObject({ current: 0, rejected: 2 });

    // The very document they run: ignored by the boxes, current (not applied again by this push).
    expect(statuses(await push(first))).toEqual({ 'yard/stale-1': 'current', 'yard/stale-2': 'current' });
  });

  it('a push to one box ends as soon as it answered; --expect waits for more boxes to be known', async () => {
    await box('one', []);
    const t0 = Date.now();
    const out = await pushDocument({
      url: broker.url,
      document: doc(40, 'device:yard/one'),
      timeoutMs: 20_000,
      settleMs: 200,
    });
    expect(out).toMatchObject({ topic: 'vigil/yard/one/config/set', timedOut: false });
    expect(out.tracker.rows.get('yard/one')?.status).toBe('applied');
    expect(Date.now() - t0).toBeLessThan(8000);

    await box('quay-a', [], 'vigil', 'quay');
    const waiting = pushDocument({
      url: broker.url,
      document: doc(50, 'site:quay'),
      timeoutMs: 20_000,
      settleMs: 200,
      expect: 2,
    });
    // The one box of the site applies; the push still waits for a second box to be known.
    await new Promise((r) => setTimeout(r, 2500));
    let done = false;
    void waiting.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(done).toBe(false);
    await box('quay-late', [], 'vigil', 'quay'); // announces itself, gets the retained document, applies it
    const out2 = await waiting;
    expect(out2.timedOut).toBe(false);
    expect(Object.fromEntries([...out2.tracker.rows].map(([k, r]) => [k, r.status]))).toEqual({
      'quay/quay-a': 'applied',
      'quay/quay-late': 'applied',
    });
  });

  it('keeps to its timeout while the broker cannot be reached', async () => {
    const t0 = Date.now();
    const closed = `mqtt://127.0.0.1:${await freePort()}`;
    await expect(
      pushDocument({ url: closed, document: doc(30, 'group:east'), timeoutMs: 1500 }),
    ).rejects.toThrow(
      new RegExp(`^cannot connect to ${closed.replaceAll('.', '\\.')} within 1\\.5 s: .*ECONNREFUSED`),
    );
    // It waited 10 s whatever the timeout before.
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('follows another base topic', async () => {
    await box('based', ['ops'], 'acme/v1');
    const sub = await collect(broker.url, 'vigil/fleet/ops/config');
    const out = await pushDocument({
      url: broker.url,
      document: doc(60, 'group:ops'),
      baseTopic: 'acme/v1',
      timeoutMs: 15_000,
      settleMs: 200,
    });
    expect(out).toMatchObject({ topic: 'acme/v1/fleet/ops/config', timedOut: false });
    expect(out.tracker.rows.get('yard/based')?.status).toBe('applied');
    expect(sub.messages).toEqual([]);
    await sub.close();
  });

  it('authenticates with a username and password', async () => {
    const dir = mkdtempSync(path.join(root, 'auth-'));
    const secured = await startMosquitto({ dir, users: { ops: 's3cret' } });
    try {
      const out = await pushDocument({
        url: secured.url,
        document: doc(70, 'group:auth'),
        username: 'ops',
        password: 's3cret',
        timeoutMs: 1500,
        settleMs: 100,
      });
      expect(out.timedOut).toBe(true); // no box there: but it connected and published
      const c = await mqtt.connectAsync(secured.url, { username: 'ops', password: 's3cret' });
      const got = new Promise<Buffer>((resolve) => c.on('message', (_t, p) => resolve(p)));
      await c.subscribeAsync('vigil/fleet/auth/config');
      expect(JSON.parse((await got).toString())).toMatchObject({ revision: 70 });
      await c.endAsync();
    } finally {
      await secured.stop();
    }
  });
});
