import { Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CameraConfig } from '../../../config/schema.js';
import { HealthWatch } from '../../../agent/fleet/health-check.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import type { CameraState } from '../../../pipeline/camera/camera-state.js';

// The post-apply health check (docs/fleet.md "Applying", step 3): every started camera must deliver a
// frame through inference from its own model before the deadline; a `failed` camera fails it at once.
// Events go through a real rxjs Subject, as the agent's detections$ does.

type Cameras = Map<string, { config: CameraConfig; state: CameraState }>;

function setup(cams: { id: string; model: string }[]) {
  const events$ = new Subject<DetectionEvent>();
  const cameras: Cameras = new Map();
  const setState = (id: string, state: CameraState['state'], reason?: string) =>
    cameras.set(id, {
      config: { id } as CameraConfig,
      state: { camera: id, state, since: Date.now(), ...(reason && { reason }) },
    });
  const watch = new HealthWatch({ cameras }, events$, cams);
  const emit = (camera: string, modelId: string) =>
    events$.next({ camera, modelId, frameNo: 1, ts: Date.now() } as unknown as DetectionEvent);
  return { events$, cameras, setState, watch, emit };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Settles a promise into a value or an error, for assertions. */
const settle = (p: Promise<void>) =>
  p.then(
    () => ({ ok: true as const, at: Date.now() }),
    (err: Error) => ({ ok: false as const, at: Date.now(), message: err.message }),
  );

/**
 * Whether `p` settles before the event loop's next turn: woken by what just happened (an event, a state
 * already known), not by a timer. A wall-clock bound would be flaky on a loaded machine.
 */
const settlesAtOnce = (p: Promise<unknown>) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);

afterEach(() => {
  vi.useRealTimers();
});

describe('HealthWatch', () => {
  it('resolves once every camera delivered an inference from its own model', async () => {
    const { watch, emit, setState } = setup([
      { id: 'a', model: 'det' },
      { id: 'b', model: 'big' },
    ]);
    setState('a', 'streaming');
    setState('b', 'streaming');
    const done = settle(watch.wait(30_000)); // far off: only the events decide here
    emit('a', 'det');
    await sleep(30);
    emit('b', 'det'); // b's old model: not proof that b runs on its new one
    emit('c', 'big'); // a camera nobody asked about
    await sleep(300);
    let finished = false;
    void done.then(() => (finished = true));
    await sleep(0);
    expect(finished).toBe(false);
    emit('b', 'big');
    // Woken by the event, not by the next poll (which can be up to 250 ms away).
    expect(await settlesAtOnce(done)).toBe(true);
    expect((await done).ok).toBe(true);
  });

  it('events before the watch was created do not count; after wait() it stops listening', async () => {
    const events$ = new Subject<DetectionEvent>();
    const ev = { camera: 'a', modelId: 'det' } as unknown as DetectionEvent;
    events$.next(ev);
    const watch = new HealthWatch({ cameras: new Map() }, events$, [{ id: 'a', model: 'det' }]);
    expect(events$.observed).toBe(true);
    const r = await settle(watch.wait(300));
    expect(r.ok).toBe(false);
    expect(events$.observed).toBe(false);
  });

  it('an empty list of cameras is healthy at once', async () => {
    const { watch, events$ } = setup([]);
    expect(await settlesAtOnce(watch.wait(10_000))).toBe(true);
    expect(events$.observed).toBe(false);
  });

  it('at the deadline: rejects naming each camera still waiting with its state', async () => {
    const { watch, emit, setState } = setup([
      { id: 'dock', model: 'det' },
      { id: 'gate', model: 'det' },
      { id: 'roof', model: 'det' },
    ]);
    setState('dock', 'connecting', 'rtsp://10.0.0.1: connection refused');
    setState('gate', 'streaming');
    const t0 = Date.now();
    const done = settle(watch.wait(1500));
    emit('gate', 'det');
    const r = await done;
    expect(r.ok).toBe(false);
    expect(r.at - t0).toBeGreaterThanOrEqual(1490);
    expect(r.at - t0).toBeLessThan(10_000); // at the deadline, not never
    expect(!r.ok && r.message).toBe(
      'camera "dock": no inference within 1.5 s (connecting: rtsp://10.0.0.1: connection refused); ' +
        'camera "roof": no inference within 1.5 s (not running)',
    );
  });

  it('a camera that fails while waiting ends the check long before the deadline', async () => {
    const { watch, setState } = setup([{ id: 'dock', model: 'det' }]);
    setState('dock', 'connecting');
    const done = settle(watch.wait(30_000));
    // A `failed` camera fails the check long before the 30 s; the message is about it.
    await sleep(50);
    const failedAt = Date.now();
    setState('dock', 'failed', 'no frames after 5 attempts');
    const r = await done;
    expect(r.at - failedAt).toBeLessThan(10_000); // seen at the next poll (every 250 ms), not at 30 s
    expect(!r.ok && r.message).toBe('camera "dock" failed: no frames after 5 attempts');
    // A deadline already passed: refused at once, not a poll later.
    const w2 = setup([{ id: 'dock', model: 'det' }]);
    const p2 = settle(w2.watch.wait(0));
    expect(await settlesAtOnce(p2)).toBe(true);
    const r2 = await p2;
    expect(r2).toMatchObject({
      ok: false,
      message: 'camera "dock": no inference within 0 s (not running)',
    });
  });

  it('a failed camera fails it at once, naming only the failed ones', async () => {
    const { watch, setState } = setup([
      { id: 'a', model: 'det' },
      { id: 'b', model: 'det' },
    ]);
    setState('a', 'connecting');
    setState('b', 'failed', 'ffmpeg exited 1');
    const p = settle(watch.wait(20_000));
    expect(await settlesAtOnce(p)).toBe(true);
    const r = await p;
    expect(!r.ok && r.message).toBe('camera "b" failed: ffmpeg exited 1');
  });

  it('a failed camera that already delivered does not fail the check', async () => {
    const { watch, setState, emit } = setup([
      { id: 'a', model: 'det' },
      { id: 'b', model: 'det' },
    ]);
    emit('b', 'det');
    setState('b', 'failed');
    const done = settle(watch.wait(30_000));
    await sleep(50);
    emit('a', 'det');
    expect((await done).ok).toBe(true);
  });

  it('the events ending (the agent stopping) ends the wait at once, not at the deadline', async () => {
    // A SIGTERM during an apply: the agent completes detections$; waiting on would hold the process.
    const { watch, events$, setState } = setup([{ id: 'dock', model: 'det' }]);
    setState('dock', 'connecting');
    const done = settle(watch.wait(600_000));
    await sleep(30);
    events$.complete();
    expect(await settlesAtOnce(done)).toBe(true);
    expect(await done).toMatchObject({ ok: false, message: 'the agent is stopping' });
    // Already ended when the wait begins: refused at once too.
    const w2 = setup([{ id: 'dock', model: 'det' }]);
    w2.events$.complete();
    const p2 = settle(w2.watch.wait(600_000));
    expect(await settlesAtOnce(p2)).toBe(true);
  });

  it('a wall-clock step (NTP after a boot at 1970) neither ends the wait nor stretches it', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance', 'setTimeout'] });
    const { watch, emit, setState } = setup([{ id: 'a', model: 'det' }]);
    setState('a', 'streaming');
    const done = settle(watch.wait(60_000));
    vi.setSystemTime(Date.now() + 56 * 365 * 86_400_000);
    await vi.advanceTimersByTimeAsync(1000); // a few polls after the step
    emit('a', 'det');
    expect(await done).toMatchObject({ ok: true });
    // Stepped back: the deadline still comes after 60 s of the monotonic clock.
    const late = setup([{ id: 'b', model: 'det' }]);
    late.setState('b', 'streaming');
    const timedOut = settle(late.watch.wait(60_000));
    vi.setSystemTime(Date.now() - 3_600_000);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(await timedOut).toMatchObject({ ok: false });
  });

  it('close() stops listening (an apply that fails before waiting)', () => {
    const { watch, events$ } = setup([{ id: 'a', model: 'det' }]);
    expect(events$.observed).toBe(true);
    watch.close();
    expect(events$.observed).toBe(false);
  });
});
