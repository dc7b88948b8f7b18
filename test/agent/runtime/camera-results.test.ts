import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CameraConfig, OutboxConfig } from '../../../config/schema.js';
import type { CameraRuntime } from '../../../agent/runtime/agent-types.js';
import { CameraResults, type ResultsHost } from '../../../agent/runtime/camera-results.js';
import { topics } from '../../../agent/mqtt/topics.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import type { CameraFrame } from '../../../pipeline/camera/camera-frames.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import type { CameraState } from '../../../pipeline/camera/camera-state.js';
import { CameraStats } from '../../../pipeline/camera/camera-stats.js';
import { logLines } from '../../support/log-lines.js';

// A real outbox (SQLite file) and the real logger; the link is absent, as with no broker configured.

let dir: string;
let host: ResultsHost & { outbox: Outbox };
let lines: ReturnType<typeof logLines>['lines'];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-camera-results-'));
  const outbox = Outbox.open(path.join(dir, 'outbox.db'), OutboxConfig.parse({ synchronous: 'OFF' }));
  const logged = logLines();
  lines = logged.lines;
  host = {
    outbox,
    link: undefined,
    topics: topics('vigil', 's1', 'd1'),
    log: logged.log,
    cameras: new Map(),
    detections$: new Subject<DetectionEvent>(),
    states$: new Subject<CameraState>(),
  };
});

afterEach(() => {
  host.outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function runtime(id: string): CameraRuntime {
  const config = CameraConfig.parse({ id, source: 'file:///x.mp4', model: 'm' });
  return { config, state: { camera: id, state: 'connecting', since: 1 }, stats: new CameraStats() };
}

/** The rows committed so far: topic and payload. */
const rows = () =>
  host.outbox
    .next(100, new Set())
    .map((r) => ({ topic: r.topic, payload: JSON.parse(r.payload.toString()) }));

describe('CameraResults', () => {
  it('commits a state, keeps it on the current run only, logs it and tells subscribers', () => {
    const results = new CameraResults(host);
    const current = runtime('cam1');
    const old = runtime('cam1');
    host.cameras.set('cam1', current);
    const told: CameraState[] = [];
    host.states$.subscribe((s) => told.push(s));
    const failed: CameraState = { camera: 'cam1', state: 'failed', since: 2, reason: 'model missing' };
    results.state(old, failed); // a run that was replaced: its runtime is not the camera's any more
    expect(old.state.state).toBe('connecting');
    results.state(current, failed);
    expect(current.state).toEqual(failed);
    expect(told).toEqual([failed, failed]);
    expect(lines.map((l) => [l.level, l.msg, l.reason])).toEqual([
      ['warn', 'camera state', 'model missing'],
      ['warn', 'camera state', 'model missing'],
    ]);
    // Retained and coalesced: one row, the latest state.
    expect(rows()).toEqual([
      { topic: 'vigil/s1/d1/cameras/cam1/state', payload: expect.objectContaining(failed) },
    ]);
  });

  it('commits each detection in its stream and recycles the previous frame once the next is out', () => {
    const results = new CameraResults(host);
    const run = runtime('cam1');
    const recycled: number[] = [];
    const event = (frameNo: number): DetectionEvent => ({
      camera: 'cam1',
      frameNo,
      ts: 1000 + frameNo,
      pts: frameNo / 10,
      srcWidth: 640,
      srcHeight: 480,
      modelId: 'm',
      provider: 'cpu',
      result: { detections: [], inferenceMs: 5, preMs: 1, postMs: 1, queueMs: 0 },
      frame: { recycle: () => void recycled.push(frameNo) } as unknown as CameraFrame,
    });
    const told: number[] = [];
    host.detections$.subscribe((e) => told.push(e.frameNo));
    results.detection(run, event(1));
    expect(recycled).toEqual([]);
    results.detection(run, event(2));
    expect(recycled).toEqual([1]);
    expect(run.last?.frameNo).toBe(2);
    expect(told).toEqual([1, 2]);
    expect(rows().map((r) => [r.topic, r.payload.seq, r.payload.ts])).toEqual([
      ['vigil/s1/d1/cameras/cam1/detections', 1, 1001],
      ['vigil/s1/d1/cameras/cam1/detections', 2, 1002],
    ]);
  });

  it('ends a pipeline without a safety chain quietly: nothing committed', () => {
    const results = new CameraResults(host);
    const run = runtime('cam1');
    results.pipelineEnded(run);
    expect(run.safety).toBeUndefined();
    expect(rows()).toEqual([]);
  });
});
