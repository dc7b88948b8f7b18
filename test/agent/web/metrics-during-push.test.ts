import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyConfig } from '../../../agent/fleet/apply-config.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { AgentMetrics } from '../../../agent/web/agent-metrics.js';
import { LabelCounts } from '../../../agent/web/label-counts.js';
import { statusModel } from '../../../agent/web/status-model.js';
import { tempDataDir } from '../../support/idle-agent.js';
import { logLines } from '../../support/log-lines.js';
import { parsePrometheusText, sampleValue, type Family } from '../../support/prometheus-text.js';
import { hasShared } from '../../support/shared.js';
import {
  streamingAgentConfig,
  vtestCamera,
  type CameraInput as Camera,
} from '../../support/streaming-agent.js';

// A camera a push restarts, scraped all through the push: a real agent (ffmpeg reading vtest.avi,
// yolo11n-320 on the CPU) and a push applied as the fleet service applies it. A scrape that lacks a series
// Prometheus had reads as its end (a staleness marker: a gap in graphs, `absent()` alerts fire).
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const camera = vtestCamera;

/** Every per-camera series /metrics has for a camera that has run (docs/http.md). */
const cameraSeries = (id: string): [string, Record<string, string>][] => [
  ['vigil_camera_frames_total', { camera: id }],
  ['vigil_camera_processed_frames_total', { camera: id }],
  ['vigil_camera_dropped_frames_total', { camera: id }],
  ['vigil_camera_inference_errors_total', { camera: id }],
  ['vigil_camera_gated_frames_total', { camera: id }],
  ['vigil_camera_input_fps', { camera: id }],
  ['vigil_camera_processed_fps', { camera: id }],
  ['vigil_camera_last_frame_age_seconds', { camera: id }],
  ['vigil_camera_state', { camera: id, state: 'stopped' }],
  ['vigil_inference_seconds_count', { camera: id, model: 'm' }],
];
/**
 * An agent whose camera `a` finishes stopping first, its other cameras only once /metrics was scraped after
 * that, as one with an inference in flight or a slow RTSP teardown finishes later (without it the order of
 * two stops is a race). What a scrape shows of `a` meanwhile is what Prometheus would see of it.
 */
class AFirst extends Agent {
  aStopped = false;
  scrapesSinceAStopped = 0;
  override async stopCamera(id: string, deadlineMs?: number): Promise<void> {
    if (id !== 'a') await vi.waitFor(() => expect(this.scrapesSinceAStopped).toBeGreaterThanOrEqual(3));
    await super.stopCamera(id, deadlineMs);
    if (id === 'a') this.aStopped = true;
  }
}

const missing = (families: Map<string, Family>, id: string) =>
  cameraSeries(id).filter(([name, labels]) => sampleValue(families, name, labels) === undefined);

describe.skipIf(!hasShared)('/metrics while a push restarts cameras', () => {
  it('a camera the push keeps is in every scrape, as /api/status shows it; a removed one goes, an added one comes', async () => {
    const dataDir = tempDataDir('metrics-push', (fn) => cleanup.push(fn));
    const config = (cams: Camera[]) => streamingAgentConfig(dataDir, { cameras: cams });
    const agent = new AFirst(config([camera('a'), camera('b')]), {
      log: logLines().log,
      version: '0.0.0',
      services: [],
    });
    cleanup.push(() => agent.stop(2000));
    await agent.start();
    // No cache: each scrape is built from the agent as it is at that moment.
    const metrics = new AgentMetrics(agent, 0);
    // What the web service feeds the inference histogram with.
    const observed = agent.detections$.subscribe((e) => metrics.observe(e));
    cleanup.push(() => observed.unsubscribe());
    const labels = new LabelCounts();
    await vi.waitFor(
      () => {
        for (const id of ['a', 'b']) expect(agent.cameras.get(id)?.stats.processed).toBeGreaterThanOrEqual(3);
        for (const id of ['a', 'b']) expect(missing(parsePrometheusText(metrics.text()), id)).toEqual([]);
      },
      { timeout: 30_000 },
    );

    /** Applies the push, scraping /metrics and building /api/status at every turn of the event loop. */
    const pushScraped = async (cams: Camera[], keep: string[]) => {
      let applying = true;
      agent.aStopped = false;
      agent.scrapesSinceAStopped = 0;
      const seen = {
        lacking: new Map<string, number>(),
        mismatched: new Set<string>(),
        aInGap: new Set<string>(),
        gap: 0,
      };
      const lastFrames = new Map<string, number>();
      const scraping = (async () => {
        while (applying) {
          const families = parsePrometheusText(metrics.text());
          const status = statusModel(agent, { now: Date.now(), health: null, errors: [], labels });
          if (agent.aStopped) agent.scrapesSinceAStopped++;
          // `a` stopped, its new run not started (a running camera has its stop$): what the scrape says of it.
          if (agent.aStopped && !agent.cameras.get('a')?.stop$) {
            seen.gap++;
            for (const f of families.get('vigil_camera_state')?.samples ?? [])
              if (f.labels.camera === 'a' && f.value === 1) seen.aInGap.add(f.labels.state!);
          }
          for (const id of keep) {
            for (const [name] of missing(families, id))
              seen.lacking.set(`${id}: ${name}`, (seen.lacking.get(`${id}: ${name}`) ?? 0) + 1);
            const shown = status.cameras.find((c) => c.id === id);
            const state = shown?.state.state ?? 'absent';
            const frames = sampleValue(families, 'vigil_camera_frames_total', { camera: id });
            if (shown && sampleValue(families, 'vigil_camera_state', { camera: id, state }) !== 1)
              seen.mismatched.add(`${id}: /api/status says ${state}`);
            if (frames !== undefined && frames < (lastFrames.get(id) ?? 0))
              seen.mismatched.add(`${id}: vigil_camera_frames_total went down`);
            if (frames !== undefined) lastFrames.set(id, frames);
            if (shown && frames !== undefined && frames !== shown.frames.in)
              seen.mismatched.add(`${id}: frames ${frames} in /metrics, ${shown.frames.in} in /api/status`);
          }
          await new Promise((r) => setImmediate(r));
        }
      })();
      const result = await applyConfig(
        agent,
        { config: agent.config },
        { config: config(cams) },
        {
          healthDeadlineMs: 30_000,
        },
      );
      applying = false;
      await scraping;
      if (result.ok) await result.commit();
      return { result, seen };
    };

    // Both cameras' settings change: both restart.
    const restart = await pushScraped([camera('a', { fps: 8 }), camera('b', { fps: 8 })], ['a', 'b']);
    expect(restart.result.ok && restart.result.plan.restartCameras.map((c) => c.id)).toEqual(['a', 'b']);
    // Scraped while `a` was between its two runs (the stop of `b` waited for that).
    expect(restart.seen.gap).toBeGreaterThanOrEqual(3);
    expect({
      lacking: Object.fromEntries(restart.seen.lacking),
      mismatched: [...restart.seen.mismatched],
    }).toEqual({
      lacking: {},
      mismatched: [],
    });
    expect([...restart.seen.aInGap]).toEqual(['stopped']);

    // `a` restarts, `b` goes, `c` comes: `a` stays in every scrape; after the push `b` is gone, `c` is there.
    const swap = await pushScraped([camera('a', { fps: 10 }), camera('c')], ['a']);
    expect(swap.result.ok).toBe(true);
    expect(swap.seen.gap).toBeGreaterThanOrEqual(3);
    expect(Object.fromEntries(swap.seen.lacking)).toEqual({});
    expect([...swap.seen.mismatched]).toEqual([]);
    const after = parsePrometheusText(metrics.text());
    expect(missing(after, 'b')).toEqual(cameraSeries('b'));
    expect(sampleValue(after, 'vigil_camera_frames_total', { camera: 'c' })).toBeGreaterThan(0);
    expect([...agent.cameras.keys()].sort()).toEqual(['a', 'c']);
  });
});
