import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SafetyEventPayload } from '../../pipeline/safety/payloads.js';
import { startAgent } from '../support/agent-process.js';
import { freePort } from '../support/free-port.js';
import { collect, startMosquitto, type Received } from '../support/mosquitto.js';
import { hasShared, sharedPath } from '../support/shared.js';
import { wholeFrameEnterZone } from '../support/vtest-zone.js';

const events = (messages: Received[]) =>
  messages.map((m) => SafetyEventPayload.parse(JSON.parse(m.payload.toString('utf8'))));

/** Events with a start and no end yet, by eventId. */
function openEvents(messages: Received[]): Set<string> {
  const open = new Set<string>();
  for (const e of events(messages)) {
    if (e.phase === 'start') open.add(e.eventId);
    if (e.phase === 'end') open.delete(e.eventId);
  }
  return open;
}

// A SCADA screen raises an alarm on a zone event's `start` and clears it on its `end`. A kill -9 (a crash,
// a power cut) ends no event: without the next start ending them, those alarms stayed raised for ever.
describe.skipIf(!hasShared)('safety events a crash left open', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('end as `interrupted` at the next start, before the new run’s events', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const sub = await collect(broker.url, 'vigil/yard/box1/cameras/+/events');
    cleanup.push(() => sub.close());
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-interrupted-'));
    const cfg = path.join(dir, 'vigil.yaml');
    const port = await freePort();
    writeFileSync(
      cfg,
      stringify({
        site: 'yard',
        device: 'box1',
        dataDir: path.join(dir, 'data'),
        mqtt: { url: broker.url },
        http: { enabled: true, host: '127.0.0.1', port },
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

    const first = startAgent(['run', '--config', cfg]);
    cleanup.push(() => first.stop('SIGKILL'));
    await sub.waitFor((m) => openEvents(m).size > 0, 60_000);
    await first.stop('SIGKILL');
    const killedAt = Date.now();
    const left = openEvents(sub.messages);
    const before = sub.messages.length;
    expect(left.size).toBeGreaterThan(0);

    const second = startAgent(['run', '--config', cfg]);
    cleanup.push(() => second.stop('SIGKILL'));
    await sub.waitFor((m) => [...left].every((id) => !openEvents(m).has(id)), 60_000);
    // Someone on site sees them too: the page's recent events list them as ended, interrupted.
    await second.waitForOutput(/status page listening/, 30_000);
    const status = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as {
      safetyEvents: { eventId: string; phase: string; endReason?: string }[];
    };
    const listed = status.safetyEvents.filter((e) => left.has(e.eventId));
    expect(listed.map((e) => [e.phase, e.endReason])).toEqual([...left].map(() => ['end', 'interrupted']));
    expect((await second.stop('SIGTERM')).code).toBe(0);

    const after = events(sub.messages.slice(before));
    const ends = after.filter((e) => left.has(e.eventId));
    expect(ends.map((e) => [e.phase, e.endReason])).toEqual([...left].map(() => ['end', 'interrupted']));
    // Each ended once, and before the new run's first event on the topic (rows the kill left unsent may
    // still come first: they were committed earlier).
    const firstNew = after.findIndex((e) => e.phase === 'start' && e.ts > killedAt);
    const lastEnd = Math.max(...ends.map((e) => after.indexOf(e)));
    if (firstNew >= 0) expect(lastEnd).toBeLessThan(firstNew);
    const lastSeen = new Map(events(sub.messages.slice(0, before)).map((e) => [e.eventId, e.ts]));
    for (const e of ends) expect(e.end).toBe(Math.max(lastSeen.get(e.eventId)!, e.start));
    // A clean stop leaves nothing for the next start to end.
    const third = startAgent(['run', '--config', cfg]);
    cleanup.push(() => third.stop('SIGKILL'));
    await third.waitForOutput(/agent running/, 60_000);
    expect(third.output()).not.toMatch(/ended as interrupted/);
    await third.stop('SIGTERM');
  }, 200_000);
});
