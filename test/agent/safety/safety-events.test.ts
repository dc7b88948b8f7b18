import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DetectionsPayload } from '../../../agent/mqtt/payloads.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { WebService } from '../../../agent/web/web-service.js';
import { createLogger } from '../../../config/logger.js';
import { VigilConfig } from '../../../config/schema.js';
import { SafetyEventPayload } from '../../../pipeline/safety/payloads.js';
import { collect, startMosquitto, type Mosquitto, type Received } from '../../support/mosquitto.js';
import { hasShared, sharedPath } from '../../support/shared.js';

const json = (m: Received) => JSON.parse(m.payload.toString()) as unknown;
const base = 'vigil/yard/box1/cameras/plaza';

/** Messages of one topic, parsed, deduplicated by id as subscribers do (delivery is at least once). */
function parsed<T extends { id: string }>(all: Received[], topic: string, parse: (v: unknown) => T): T[] {
  const seen = new Set<string>();
  return all
    .filter((m) => m.topic === topic)
    .map((m) => parse(json(m)))
    .filter((m) => !seen.has(m.id) && Boolean(seen.add(m.id)));
}

// The right half of vtest.avi's plaza (768×576): people walk in and out of it all the time.
const zone: [number, number][] = [
  [384, 0],
  [768, 0],
  [768, 576],
  [384, 576],
];

describe.skipIf(!hasShared)('safety events end to end: real agent, real model, real mosquitto', () => {
  let dir: string;
  let broker: Mosquitto;
  let agent: Agent | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-safety-'));
    broker = await startMosquitto();
  }, 30_000);
  afterAll(async () => {
    await agent?.stop();
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('zone events on …/events with track ids, every start ended, snapshots served by the status page', async () => {
    const clip = path.join(dir, 'plaza.avi');
    execFileSync('ffmpeg', [
      ...['-loglevel', 'error', '-y', '-t', '6', '-i', sharedPath('media', 'vtest.avi')],
      ...['-c:v', 'mjpeg', '-q:v', '3', clip],
    ]);
    const sub = await collect(broker.url, 'vigil/#');
    const config = VigilConfig.parse({
      site: 'yard',
      device: 'box1',
      dataDir: path.join(dir, 'data'),
      mqtt: { url: broker.url },
      http: { host: '127.0.0.1', port: 0 },
      models: { det: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'), workers: 1 } },
      cameras: [
        {
          id: 'plaza',
          source: clip,
          model: 'det',
          realtime: false,
          zones: [{ id: 'east', polygon: zone }],
          rules: [
            { zone: 'east', type: 'enter' },
            { zone: 'east', type: 'leave' },
          ],
        },
      ],
    });
    const log = createLogger({ level: 'error' });
    const web = new WebService(config.http, { log });
    agent = new Agent(config, { log, version: 'test', services: [web] });
    await agent.start();
    try {
      // The file ends, the camera stops, its open events end with it, and everything reaches the broker:
      // wait until every started event's end has arrived (ends may follow the state message).
      const allEnded = (all: Received[]) => {
        const phases = new Map<string, Set<string>>();
        for (const m of all.filter((x) => x.topic === `${base}/events`)) {
          const e = json(m) as { eventId: string; phase: string };
          phases.set(e.eventId, (phases.get(e.eventId) ?? new Set()).add(e.phase));
        }
        return [...phases.values()].every((p) => !p.has('start') || p.has('end'));
      };
      await sub.waitFor(
        (all) =>
          all.some(
            (m) => m.topic === `${base}/state` && (json(m) as { state: string }).state === 'stopped',
          ) &&
          all.some(
            (m) =>
              m.topic === `${base}/events` && (json(m) as { endReason?: string }).endReason === 'stopped',
          ) &&
          allEnded(all),
        45_000,
      );
      const events = parsed(sub.messages, `${base}/events`, (v) => SafetyEventPayload.parse(v));
      const detections = parsed(sub.messages, `${base}/detections`, (v) => DetectionsPayload.parse(v));

      if (process.env.VIGIL_VERBOSE)
        console.log(events.map((e) => `${e.type} ${e.phase} ${e.trackIds.join(',')} ${e.endReason ?? ''}`));
      // Detection messages carry track ids, and ids persist across frames.
      const ids = detections.flatMap((m) => m.detections.flatMap((d) => d.trackId ?? []));
      expect(ids.length).toBeGreaterThan(detections.length);
      expect(new Set(ids).size).toBeLessThan(ids.length / 5);

      // Each zone_enter event: one start, one end, in that order, naming the zone and its track.
      const enters = new Map<string, SafetyEventPayload[]>();
      for (const e of events.filter((x) => x.type === 'zone_enter'))
        enters.set(e.eventId, [...(enters.get(e.eventId) ?? []), e]);
      expect(enters.size).toBeGreaterThan(0);
      for (const [, msgs] of enters) {
        expect(msgs.map((m) => m.phase)).toEqual(['start', 'end']);
        const [start, end] = msgs as [SafetyEventPayload, SafetyEventPayload];
        expect(start).toMatchObject({ camera: 'plaza', zone: 'east', rule: 'east-enter', end: null });
        expect(end.end).toBeGreaterThanOrEqual(start.start);
        expect(['left', 'track-lost', 'stopped']).toContain(end.endReason);
        expect(ids).toContain(start.trackIds[0]);
        expect(start.snapshot).toBe(`/api/events/${start.eventId}/snapshot.jpg`);
      }
      // A leave is an instant, once per track that left.
      const leaves = events.filter((e) => e.type === 'zone_leave');
      for (const l of leaves) expect(l.phase).toBe('instant');
      expect(new Set(leaves.map((l) => l.trackIds[0])).size).toBe(leaves.length);

      // The snapshot of an event that started is a JPEG on the status page; an unknown one is a 404.
      const start = [...enters.values()][0]![0]!;
      const url = `http://127.0.0.1:${web.address!.port}${start.snapshot}`;
      // Written just after the event: fetched again until it is there, however slow the disk and machine.
      const res = await vi.waitFor(
        async () => {
          const r = await fetch(url);
          expect(r.status).toBe(200);
          return r;
        },
        { timeout: 30_000, interval: 100 },
      );
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      const jpeg = Buffer.from(await res.arrayBuffer());
      expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
      const missing = await fetch(`http://127.0.0.1:${web.address!.port}/api/events/nope/snapshot.jpg`);
      expect(missing.status).toBe(404);
    } finally {
      await sub.close();
    }
  }, 90_000);
});
