import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { filter, lastValueFrom, map, tap } from 'rxjs';
import { silentLogger } from '../../config/logger.js';
import { CameraConfig } from '../../config/schema.js';
import type { Detector } from '../../models/detect/detector.js';
import { cameraFrames, type CameraFrame } from '../../pipeline/camera/camera-frames.js';
import { MotionGate } from '../../pipeline/motion/motion-gate.js';
import { latestWins } from '../../pipeline/operators/latest-wins.js';
import { probeSource } from '../../pipeline/source/probe.js';
import { DetectionTracker } from '../../pipeline/tracking/detection-tracker.js';
import { estimatedIdSwitches, median, tracksFound, tracksOf, type TrackPoint } from './track-stats.js';

export interface TrackingGatingReport {
  model: string;
  clip: { movingFrames: number; stillFrames: number; fps: number };
  tracking: {
    personTracks: number;
    medianTrackFrames: number;
    medianTrackS: number;
    tracksPerMinute: number;
    estimatedIdSwitches: number;
    estimatedIdSwitchesPerMinute: number;
  };
  gating: {
    still: { ungatedCalls: number; gatedCalls: number; reduction: number };
    moving: { ungatedCalls: number; gatedCalls: number };
    personTracksFound: { found: number; total: number; share: number };
    /** Same, for tracks of at least 10 frames (1 s). */
    longPersonTracksFound: { found: number; total: number; share: number };
    newIdsOnStillPart: number;
    gateMsPerFrame: number;
  };
  droppedFrames: number;
  wallS: number;
}

/**
 * One pass over vtest.avi with a still segment appended (its last frame held for `stillS`, ffmpeg
 * tpad=stop_mode=clone). Every frame is inferred (the ungated reference); the motion gate judges every
 * frame too, and a second tracker sees only the frames it lets through, with the same detections: so
 * both runs see identical model output and differ only by gating.
 */
export async function runTrackingAndGating(
  detector: Detector,
  video: string,
  stillS: number,
): Promise<TrackingGatingReport> {
  const t0 = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-safety-'));
  try {
    const clip = path.join(dir, 'vtest-still.avi');
    execFileSync('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-i',
      video,
      '-vf',
      `tpad=stop_mode=clone:stop_duration=${stillS}`,
      '-c:v',
      'mjpeg',
      '-q:v',
      '3',
      clip,
    ]);
    const src = await probeSource(video, []);
    const fps = src.fps || 10;
    const movingFrames = Math.round((src.duration ?? 0) * fps);

    const camera = CameraConfig.parse({ id: 'bench', source: clip, model: 'm', realtime: false });
    const gate = new MotionGate({ enabled: true }, { realtime: false });
    const ungated = new DetectionTracker({}, { realtime: false });
    const gatedTracker = new DetectionTracker({}, { realtime: false });
    const all: TrackPoint[] = [];
    const gatedPoints: TrackPoint[] = [];
    const inferredByGate = new Set<number>();
    let frames = 0;
    let dropped = 0;
    let gateMs = 0;
    const concurrency = Math.max(1, detector.info.workers);
    const record = (
      out: TrackPoint[],
      frame: number,
      t: number,
      dets: { trackId?: number; label: string; box: TrackPoint['box'] }[],
    ) => {
      for (const d of dets)
        if (d.trackId !== undefined) out.push({ frame, t, trackId: d.trackId, label: d.label, box: d.box });
    };

    await lastValueFrom(
      cameraFrames({
        camera,
        spec: detector.info.input,
        maxOutstanding: concurrency + 1,
        log: silentLogger,
        onState: () => {},
      }).pipe(
        // the gate sees the frame's bytes before they go to a worker, in order
        map((frame: CameraFrame) => {
          const g0 = performance.now();
          const pass = gate.shouldInfer(frame);
          gateMs += performance.now() - g0;
          return { frame, pass };
        }),
        latestWins(
          async ({ frame, pass }) => {
            try {
              const result = await detector.detect(frame, 'bench');
              return { frameNo: frame.frameNo, ts: frame.ts, pts: frame.pts, pass, result };
            } finally {
              frame.release();
            }
          },
          {
            concurrency,
            onDrop: ({ frame }) => {
              dropped++;
              frame.release();
            },
          },
        ),
        filter((r) => r !== null),
        tap((r) => {
          frames++;
          const ref = ungated.track(r);
          record(all, r.frameNo, r.pts, ref.detections);
          if (r.pass) {
            inferredByGate.add(r.frameNo);
            const g = gatedTracker.track(r);
            record(gatedPoints, r.frameNo, r.pts, g.detections);
          }
        }),
      ),
      { defaultValue: null },
    );

    const stillFrames = frames - movingFrames;
    const moving = (p: TrackPoint) => p.frame < movingFrames;
    const refTracks = tracksOf(all.filter(moving), 'person');
    const lengths = refTracks.map((t) => t.points.length);
    const minutes = movingFrames / fps / 60;
    const switches = estimatedIdSwitches(refTracks, { width: src.width, height: src.height }, 2.5);
    const gatedMovingCalls = [...inferredByGate].filter((f) => f < movingFrames).length;
    const gatedStillCalls = inferredByGate.size - gatedMovingCalls;
    const found = tracksFound(refTracks, gatedPoints.filter(moving), inferredByGate);
    const longFound = tracksFound(
      refTracks.filter((t) => t.points.length >= 10),
      gatedPoints.filter(moving),
      inferredByGate,
    );
    const idsBeforeStill = new Set(gatedPoints.filter(moving).map((p) => p.trackId));
    const newIdsOnStill = new Set(
      gatedPoints.filter((p) => !moving(p) && !idsBeforeStill.has(p.trackId)).map((p) => p.trackId),
    );
    const r3 = (v: number) => Math.round(v * 1000) / 1000;
    return {
      model: detector.info.modelId,
      clip: { movingFrames, stillFrames, fps },
      tracking: {
        personTracks: refTracks.length,
        medianTrackFrames: median(lengths),
        medianTrackS: r3(median(refTracks.map((t) => t.last - t.first))),
        tracksPerMinute: r3(refTracks.length / minutes),
        estimatedIdSwitches: switches,
        estimatedIdSwitchesPerMinute: r3(switches / minutes),
      },
      gating: {
        still: {
          ungatedCalls: stillFrames,
          gatedCalls: gatedStillCalls,
          reduction: r3(1 - gatedStillCalls / Math.max(1, stillFrames)),
        },
        moving: { ungatedCalls: movingFrames, gatedCalls: gatedMovingCalls },
        personTracksFound: { ...found, share: r3(found.found / Math.max(1, found.total)) },
        longPersonTracksFound: { ...longFound, share: r3(longFound.found / Math.max(1, longFound.total)) },
        newIdsOnStillPart: newIdsOnStill.size,
        gateMsPerFrame: r3(gateMs / Math.max(1, frames)),
      },
      droppedFrames: dropped,
      wallS: Math.round((performance.now() - t0) / 100) / 10,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
