import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxConfig, type VigilConfig } from '../../../config/schema.js';
import { topics } from '../../../agent/mqtt/topics.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import type { Agent } from '../../../agent/runtime/agent.js';
import { CameraTopicsService } from '../../../agent/services/camera-topics-service.js';
import { logLines } from '../../support/log-lines.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

// The service reads camera ids and whether they have an enabled `pm25` section, nothing else.
const config = (cameras: object[]) => ({ cameras }) as unknown as VigilConfig;
const cam = (id: string, extra: object = {}) => ({ id, ...extra });
const pm25 = { enabled: true };

/** The parts of an agent the service reads, over a real outbox. */
function agentFor(start: VigilConfig) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-camera-topics-'));
  const outbox = Outbox.open(path.join(dir, 'outbox.db'), OutboxConfig.parse({}));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.push(() => outbox.close());
  const agent = {
    config: start,
    config$: new Subject<VigilConfig>(),
    topics: topics('vigil', 's', 'd'),
    outbox,
    log: logLines().log,
  };
  const moveTo = (next: VigilConfig) => {
    agent.config = next;
    agent.config$.next(next);
  };
  const rows = () => outbox.next(100, new Set()).map((r) => `${r.topic} ${r.payload.toString()}`);
  return { agent: agent as unknown as Agent, moveTo, rows, config$: agent.config$, outbox };
}

describe('CameraTopicsService', () => {
  it("clears a removed camera's state, drift summary and PM2.5, and the PM2.5 of a camera that lost it", async () => {
    const a = agentFor(config([cam('keep', { pm25 }), cam('gone', { pm25 }), cam('same')]));
    const service = new CameraTopicsService();
    service.start(a.agent);
    cleanup.push(() => service.stop());
    a.moveTo(config([cam('keep'), cam('same'), cam('new')]));
    await new Promise((r) => setImmediate(r));
    expect(a.rows().sort()).toEqual([
      'vigil/s/d/cameras/gone/drift/summary ',
      'vigil/s/d/cameras/gone/pm25 ',
      'vigil/s/d/cameras/gone/state ',
      'vigil/s/d/cameras/keep/pm25 ',
    ]);
  });

  it('clears the PM2.5 of a camera whose pm25 section a change turned off (enabled: false)', async () => {
    const a = agentFor(config([cam('dock', { pm25 })]));
    const service = new CameraTopicsService();
    service.start(a.agent);
    cleanup.push(() => service.stop());
    a.moveTo(config([cam('dock', { pm25: { enabled: false } })]));
    await new Promise((r) => setImmediate(r));
    expect(a.rows()).toEqual(['vigil/s/d/cameras/dock/pm25 ']);
  });

  // The drift service publishes a removed camera's last window and retained summary in its own handler of
  // the same change, which may run after this one: that summary must not outlive the clear.
  it('clears after what the other handlers of the same change publish', async () => {
    const a = agentFor(config([cam('gone')]));
    const service = new CameraTopicsService();
    service.start(a.agent);
    cleanup.push(() => service.stop());
    a.config$.subscribe(() =>
      a.outbox.enqueue({
        topic: 'vigil/s/d/cameras/gone/drift/summary',
        priority: 1,
        retain: true,
        coalesceKey: 'drift-summary/gone',
        build: () => ({ last: true }),
      }),
    );
    a.moveTo(config([]));
    await new Promise((r) => setImmediate(r));
    const summary = a.rows().filter((r) => r.includes('/drift/summary'));
    expect(summary).toEqual(['vigil/s/d/cameras/gone/drift/summary ']);
  });

  it('a clear still waiting when the service stops is not lost', () => {
    const a = agentFor(config([cam('gone')]));
    const service = new CameraTopicsService();
    service.start(a.agent);
    a.moveTo(config([]));
    service.stop();
    expect(a.rows()).toContain('vigil/s/d/cameras/gone/state ');
  });
});
