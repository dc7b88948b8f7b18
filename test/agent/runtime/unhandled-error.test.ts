import { config as rxConfig } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentService } from '../../../agent/runtime/services.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import { startIdleAgent } from '../../support/idle-agent.js';
import { logLines } from '../../support/log-lines.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Lets RxJS's deferred rethrow (a setTimeout of 0) run. */
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('an exception thrown in a subscriber callback', () => {
  it('is logged with its stack through the agent logger; the process, the subscriber and the agent live on', async () => {
    const { log, lines } = logLines();
    // What reaches the process's last resort: in the agent, an uncaught exception ends it.
    const uncaught: unknown[] = [];
    const record = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', record);
    cleanup.push(() => process.off('uncaughtException', record));

    let seenByBuggy = 0;
    let seenByOther = 0;
    // A service with a bug in its detections$ handler, and a healthy one beside it.
    const buggy: AgentService = {
      name: 'buggy',
      start: (a) =>
        void a.detections$.subscribe(() => {
          seenByBuggy++;
          throw new Error(`handler bug #${seenByBuggy}`);
        }),
      stop: () => {},
    };
    const other: AgentService = {
      name: 'other',
      start: (a) => void a.detections$.subscribe(() => seenByOther++),
      stop: () => {},
    };
    const { agent } = await startIdleAgent({
      log,
      services: [buggy, other],
      defer: (fn) => cleanup.push(fn),
    });

    const event = { camera: 'cam1' } as unknown as DetectionEvent;
    agent.detections$.next(event);
    await settle();
    agent.detections$.next(event);
    await settle();

    expect(uncaught).toEqual([]);
    const logged = lines.filter((l) => l.msg === 'unhandled error in a subscriber, carrying on');
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'error',
        reason: 'handler bug #1',
        stack: expect.stringContaining('handler bug #1'),
      }),
      expect.objectContaining({
        level: 'error',
        reason: 'handler bug #2',
        stack: expect.stringContaining('unhandled-error.test.ts'),
      }),
    ]);
    // Still subscribed, both of them; the agent still takes events.
    expect([seenByBuggy, seenByOther]).toEqual([2, 2]);
    expect(agent.detections$.closed).toBe(false);

    // The handler belongs to the running agent: once it stops, RxJS's config is as it found it.
    await agent.stop(1000);
    expect(rxConfig.onUnhandledError).toBeNull();
  });
});
