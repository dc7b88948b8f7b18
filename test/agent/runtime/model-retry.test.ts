import { afterEach, describe, expect, it, vi } from 'vitest';
import { VigilConfig, type ModelConfig } from '../../../config/schema.js';
import type { Detector } from '../../../models/detect/detector.js';
import { ModelRetry, type ModelRetryHost } from '../../../agent/runtime/model-retry.js';
import { logLines } from '../../support/log-lines.js';

// The retry's own rules, on an in-memory host (the real agent's path is in agent-failures.test.ts, with real models).
afterEach(() => vi.useRealTimers());

function host(loads: (id: string, cfg: ModelConfig) => Promise<Detector>) {
  const { log, lines } = logLines();
  const h = {
    config: VigilConfig.parse({
      site: 's',
      device: 'd',
      models: { m: { path: '/m.onnx' } },
      cameras: [
        { id: 'a', source: 'a.mp4', model: 'm' },
        { id: 'off', source: 'b.mp4', model: 'm', enabled: false },
      ],
    }),
    detectors: new Map<string, Detector>(),
    log,
    isStopping: false as boolean,
    loadModel: vi.fn((id: string, cfg: ModelConfig) => loads(id, cfg)),
    startCamera: vi.fn(),
    cameraFailed: vi.fn(),
  } satisfies ModelRetryHost;
  return { h, lines };
}
const detector = () => ({ close: vi.fn(async () => {}) }) as unknown as Detector;

describe('ModelRetry', () => {
  it('reports the enabled cameras failed, retries with a doubling delay up to the cap, then starts them', async () => {
    vi.useFakeTimers();
    let fails = 4;
    const { h, lines } = host(async () => {
      if (fails-- > 0) throw new Error('model "m": file not found: /m.onnx');
      return detector();
    });
    new ModelRetry(h, 100, 400).failed('m', 'model "m": file not found: /m.onnx');
    expect(h.cameraFailed).toHaveBeenCalledTimes(1);
    expect(h.cameraFailed.mock.calls[0]![0].id).toBe('a');
    // Attempts at 100, +200, +400, +400 (capped) fail; the one at +400 more loads.
    for (const [wait, attempts] of [
      [99, 0],
      [1, 1],
      [200, 2],
      [400, 3],
      [399, 3],
      [1, 4],
      [400, 5],
    ] as const) {
      await vi.advanceTimersByTimeAsync(wait);
      expect(h.loadModel).toHaveBeenCalledTimes(attempts);
    }
    expect(lines.filter((l) => l.msg === 'model still cannot be loaded').map((l) => l.retryInS)).toEqual([
      0.2, 0.4, 0.4, 0.4,
    ]);
    expect(h.cameraFailed).toHaveBeenCalledTimes(5); // at first, then at each failed attempt
    expect(h.detectors.has('m')).toBe(true);
    expect(h.startCamera.mock.calls.map(([c]) => c.id)).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.loadModel).toHaveBeenCalledTimes(5);
  });

  it('stops retrying when cancelled, and when the agent stops', async () => {
    vi.useFakeTimers();
    const { h } = host(async () => Promise.reject(new Error('nope')));
    const retry = new ModelRetry(h, 100);
    retry.failed('m', 'nope');
    expect(retry.waiting).toEqual(['m']);
    retry.cancelAll();
    expect(retry.waiting).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.loadModel).not.toHaveBeenCalled();

    const other = host(async () => detector());
    new ModelRetry(other.h, 100).failed('m', 'nope');
    other.h.isStopping = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(other.h.loadModel).not.toHaveBeenCalled();
  });

  it('a fleet push that replaced the model takes over: a detector that loads after it is closed, not used', async () => {
    vi.useFakeTimers();
    const late = detector();
    let finish!: (d: Detector) => void;
    const { h } = host(() => new Promise<Detector>((r) => (finish = r)));
    new ModelRetry(h, 100).failed('m', 'nope');
    await vi.advanceTimersByTimeAsync(100);
    expect(h.loadModel).toHaveBeenCalledTimes(1);
    // Meanwhile the fleet applies a config whose model m is another object (another file).
    h.config = { ...h.config, models: { m: { ...h.config.models.m!, path: '/other.onnx' } } };
    finish(late);
    await vi.advanceTimersByTimeAsync(0);
    expect(late.close).toHaveBeenCalledTimes(1);
    expect(h.detectors.size).toBe(0);
    expect(h.startCamera).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.loadModel).toHaveBeenCalledTimes(1);
  });

  it('a fleet apply and an attempt never overlap: pause() waits for the attempt, and holds the next one', async () => {
    vi.useFakeTimers();
    let finish!: (err: Error) => void;
    const { h } = host(() => new Promise<Detector>((_, reject) => (finish = reject)));
    const retry = new ModelRetry(h, 100, 100);
    retry.failed('m', 'nope');
    await vi.advanceTimersByTimeAsync(100);
    expect(h.loadModel).toHaveBeenCalledTimes(1); // in progress
    let resume: (() => void) | undefined;
    void retry.pause().then((r) => (resume = r));
    await vi.advanceTimersByTimeAsync(0);
    expect(resume).toBeUndefined();
    finish(new Error('still missing'));
    await vi.advanceTimersByTimeAsync(0);
    expect(resume).toBeDefined();
    expect(retry.failing().get('m')!.reason).toBe('still missing');
    // The next attempt comes due while paused: it waits for the resume.
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.loadModel).toHaveBeenCalledTimes(1);
    resume!();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.loadModel).toHaveBeenCalledTimes(2);
  });

  it('follow(): retried with the config a push left it, or dropped when nothing uses it any more', async () => {
    vi.useFakeTimers();
    const { h, lines } = host(async () => Promise.reject(new Error('nope')));
    const retry = new ModelRetry(h, 100, 100);
    retry.failed('m', 'nope');
    // A push kept the model but moved its file (e.g. a fleet path): the next attempts use the new one.
    h.config = { ...h.config, models: { m: { ...h.config.models.m!, path: '/new.onnx' } } };
    retry.follow();
    await vi.advanceTimersByTimeAsync(100);
    expect(h.loadModel.mock.calls.map(([, cfg]) => cfg.path)).toEqual(['/new.onnx']);
    // A push disabled its last camera.
    h.config = { ...h.config, cameras: h.config.cameras.map((c) => ({ ...c, enabled: false })) };
    retry.follow();
    expect([retry.failing().size, retry.waiting]).toEqual([0, []]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.loadModel).toHaveBeenCalledTimes(1);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'model retry stopped', model: 'm', why: 'no camera uses it any more' }),
    );
  });
});
