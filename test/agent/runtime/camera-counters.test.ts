import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyConfig } from '../../../agent/fleet/apply-config.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { CameraCounters } from '../../../agent/runtime/camera-counters.js';
import { AgentMetrics } from '../../../agent/web/agent-metrics.js';
import { tempDataDir } from '../../support/idle-agent.js';
import { logLines } from '../../support/log-lines.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';
import { hasShared } from '../../support/shared.js';
import {
  streamingAgentConfig,
  vtestCamera,
  type CameraInput as Camera,
} from '../../support/streaming-agent.js';

// A camera's counts across its restarts (agent/runtime/camera-counters.ts), on a real agent: ffmpeg reading
// vtest.avi, yolo11n-320 on the CPU, and fleet pushes applied as the fleet service applies them.
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const camera = vtestCamera;

async function startedAgent(cameras: Camera[]) {
  const dataDir = tempDataDir('counters', (fn) => cleanup.push(fn));
  const config = (cams: Camera[]) => streamingAgentConfig(dataDir, { cameras: cams });
  const agent = new Agent(config(cameras), { log: logLines().log, version: '0.0.0', services: [] });
  cleanup.push(() => agent.stop(2000));
  await agent.start();
  /** Moves the agent to these cameras as a fleet push does; a push that fails has been rolled back. */
  const push = async (cams: Camera[]) => {
    const result = await applyConfig(
      agent,
      { config: agent.config },
      { config: config(cams) },
      {
        healthDeadlineMs: 30_000,
      },
    );
    if (result.ok) await result.commit();
    return result;
  };
  const stats = (id: string) => agent.cameras.get(id)!.stats.snapshot();
  const processedAtLeast = (id: string, n: number) =>
    vi.waitFor(() => expect(agent.cameras.get(id)?.stats.processed).toBeGreaterThanOrEqual(n), {
      timeout: 30_000,
    });
  return { agent, push, stats, processedAtLeast };
}

/** The camera's series in /metrics as Prometheus reads them. */
function scrape(metrics: AgentMetrics, id: string) {
  const families = parsePrometheusText(metrics.text());
  return {
    frames: sampleValue(families, 'vigil_camera_frames_total', { camera: id }),
    processed: sampleValue(families, 'vigil_camera_processed_frames_total', { camera: id }),
  };
}

describe.skipIf(!hasShared)('a camera’s counts across its restarts', () => {
  it('a push that restarts the camera continues its counts, its /metrics counters and its frame numbers', async () => {
    const { agent, push, stats, processedAtLeast } = await startedAgent([camera('a'), camera('b')]);
    const metrics = new AgentMetrics(agent, 0);
    await processedAtLeast('a', 5);
    const before = stats('a');
    const scraped = scrape(metrics, 'a');
    const lastFrameNo = agent.cameras.get('a')!.last!.frameNo;

    const result = await push([camera('a', { fps: 8 }), camera('b')]);
    expect(result.ok && result.plan.restartCameras.map((c) => c.id)).toEqual(['a']);
    // The apply waited for an inference of the new run: one more at least, on top of the old run's.
    const after = stats('a');
    expect(after.framesIn).toBeGreaterThan(before.framesIn);
    expect(after.processed).toBeGreaterThan(before.processed);
    expect(after.dropped).toBeGreaterThanOrEqual(before.dropped);
    // Prometheus reads a counter that went down as a process restart.
    const now = scrape(metrics, 'a');
    expect(now.frames).toBeGreaterThan(scraped.frames!);
    expect(now.processed).toBeGreaterThan(scraped.processed!);
    // The snapshot's frame number keeps rising (the status page shows a frame only when it is new).
    expect(agent.cameras.get('a')!.last!.frameNo).toBeGreaterThan(lastFrameNo);
    expect(agent.cameras.get('a')!.last!.frameNo).toBeGreaterThanOrEqual(before.framesIn);
  });

  it('a push rolled back restarts a camera it removed with its counts; a camera removed then added back starts from zero', async () => {
    const { agent, push, stats, processedAtLeast } = await startedAgent([camera('a'), camera('b')]);
    await processedAtLeast('a', 20);
    const before = stats('a');

    // Removes `a` and adds a camera that fails at once: the push rolls back and `a` runs again.
    const failed = await push([camera('b'), camera('x', { source: '/nonexistent/clip.mp4' })]);
    expect(failed.ok).toBe(false);
    // The new run's first inference (its runtime starts without one): counted on top of the old run's.
    await vi.waitFor(() => expect(agent.cameras.get('a')?.last).toBeDefined(), { timeout: 30_000 });
    expect(stats('a').framesIn).toBeGreaterThan(before.framesIn);
    expect(stats('a').processed).toBeGreaterThan(before.processed);

    const removed = await push([camera('b')]);
    expect(removed.ok).toBe(true);
    const added = await push([camera('a'), camera('b')]);
    expect(added.ok && added.plan.addCameras.map((c) => c.id)).toEqual(['a']);
    // Counted since it was added back: its first inference came long before 20 frames of this run.
    expect(stats('a').processed).toBeLessThan(before.processed);
  });
});

describe('CameraCounters', () => {
  it('one camera id, one set of counts for every run, until the config no longer has it', () => {
    const counters = new CameraCounters();
    const first = counters.forRun('gate');
    first.framesIn = 5;
    expect(counters.forRun('gate')).toBe(first);
    expect(counters.of('gate').framesIn).toBe(5);
    counters.retain(['dock']);
    expect(counters.of('gate').framesIn).toBe(0);
  });
});
