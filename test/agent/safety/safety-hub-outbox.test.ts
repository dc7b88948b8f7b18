import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { topics } from '../../../agent/mqtt/topics.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import { enqueueSafetyEvents, safetyEventPriority } from '../../../agent/safety/safety-hub.js';
import { OutboxConfig } from '../../../config/schema.js';
import { SafetyEventPayload } from '../../../pipeline/safety/payloads.js';
import { config, info, opened, runScene, tempDir, useSafetyHubs } from './safety-hub-fixture.js';

// Safety events' way into a real SQLite outbox (agent/safety/safety-hub.ts, docs/safety.md).

useSafetyHubs();

describe('enqueueSafetyEvents', () => {
  it('commits each message to …/cameras/<camera>/events at priority 2 with the outbox id', async () => {
    const dir = tempDir();
    const outbox = Outbox.open(path.join(dir, 'outbox.db'), OutboxConfig.parse({ maxRows: 2 }));
    try {
      const cfg = config(dir);
      const safety = opened(cfg).forCamera(cfg.cameras[0]!, info())!;
      const { messages } = await runScene(safety);
      const all = [...messages, ...safety.close()]; // the start, and its end when the camera stops
      expect(all.map((m) => m.phase)).toEqual(['start', 'end']);
      // A full outbox of detections (priority 0): the events push them out.
      const t = topics('vigil', 'yard', 'box1');
      for (let n = 0; n < 2; n++)
        outbox.enqueue({ topic: t.camera('dock').detections, priority: 0, build: () => ({ n }) });
      enqueueSafetyEvents(outbox, t, all);
      const rows = outbox.next(10, new Set());
      expect(rows.map((r) => [r.topic, r.priority])).toEqual([
        ['vigil/yard/box1/cameras/dock/events', safetyEventPriority],
        ['vigil/yard/box1/cameras/dock/events', safetyEventPriority],
      ]);
      expect(safetyEventPriority).toBe(2);
      rows.forEach((r, i) => {
        const body = SafetyEventPayload.parse(JSON.parse(r.payload.toString()));
        expect(body).toEqual({ ...JSON.parse(JSON.stringify(all[i])), id: r.id });
      });
      // Events outrank states (1): a state finds no room among them.
      const res = outbox.enqueue({ topic: t.camera('dock').state, priority: 1, build: () => ({}) });
      expect(res.dropped).toBe('max-rows');
      expect(outbox.next(10, new Set()).map((r) => r.id)).toEqual(rows.map((r) => r.id));
    } finally {
      outbox.close();
    }
  });
});
