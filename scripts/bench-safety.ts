/**
 * Safety benchmarks (docs/safety.md): tracking statistics and motion gating on vtest.avi with a still
 * segment appended, and fair scheduling of four file cameras sharing one model at saturation, against
 * the best bare onnxruntime configuration measured in the same run. Usage:
 *   npm run bench:safety -- [options], or node --import tsx scripts/bench-safety.ts [--parts tracking,fair] [--model yolov8n-coco-int8-640]
 *     [--workers N] [--still-s 30] [--warmup-s 5] [--measure-s 20] [--json FILE]
 */
import './lib/telemetry-off.js'; // before anything loads onnxruntime
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ModelConfig } from '../config/schema.js';
import { Detector } from '../models/detect/detector.js';
import { runFairShare, type FairShareReport } from './bench-safety/fair-share.js';
import { runTrackingAndGating, type TrackingGatingReport } from './bench-safety/tracking-gating.js';
import { tuneGarbageCollector } from '../agent/runtime/gc-tuning.js';

tuneGarbageCollector(); // as the CLI does (docs/adr/0005)

const root = path.resolve(import.meta.dirname, '..');
const shared = process.env.VIGIL_SHARED ?? path.resolve(root, '..', 'shared');
const { values: args } = parseArgs({
  options: {
    parts: { type: 'string', default: 'tracking,fair' },
    model: { type: 'string', default: 'yolov8n-coco-int8-640' },
    workers: { type: 'string' },
    'still-s': { type: 'string', default: '30' },
    'warmup-s': { type: 'string', default: '5' },
    'measure-s': { type: 'string', default: '20' },
    json: { type: 'string' },
  },
});

const parts = new Set(args.parts.split(','));
const video = path.join(shared, 'media', 'vtest.avi');
const detector = await Detector.load(
  args.model,
  ModelConfig.parse({
    path: path.join(shared, 'models', `${args.model}.onnx`),
    providers: ['cpu'],
    ...(args.workers ? { workers: Number(args.workers) } : {}),
  }),
);
const report: { tracking?: TrackingGatingReport; fair?: FairShareReport } = {};
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
try {
  if (parts.has('tracking')) {
    const r = (report.tracking = await runTrackingAndGating(detector, video, Number(args['still-s'])));
    console.log(
      `\n## Tracking on vtest.avi (${r.model}, every frame, ${r.clip.movingFrames} frames at ${r.clip.fps} fps)`,
    );
    console.log(`person tracks: ${r.tracking.personTracks} (${r.tracking.tracksPerMinute}/min)`);
    console.log(`median track length: ${r.tracking.medianTrackFrames} frames, ${r.tracking.medianTrackS} s`);
    console.log(
      `estimated id switches (fragmentations, no ground truth): ${r.tracking.estimatedIdSwitches} = ${r.tracking.estimatedIdSwitchesPerMinute}/min`,
    );
    console.log(`\n## Motion gating (vtest.avi + ${r.clip.stillFrames} still frames)`);
    const g = r.gating;
    console.log(
      `still part: inference calls ${g.still.ungatedCalls} → ${g.still.gatedCalls} (down ${pct(g.still.reduction)}, goal ≥ 80 %)`,
    );
    console.log(`moving part: inference calls ${g.moving.ungatedCalls} → ${g.moving.gatedCalls}`);
    console.log(
      `person tracks found with gating: ${g.personTracksFound.found}/${g.personTracksFound.total} (${pct(g.personTracksFound.share)}, goal ≥ 95 %); ` +
        `≥ 1 s long: ${g.longPersonTracksFound.found}/${g.longPersonTracksFound.total} (${pct(g.longPersonTracksFound.share)})`,
    );
    console.log(
      `new track ids during the still part (gated): ${g.newIdsOnStillPart}; gate cost ${g.gateMsPerFrame} ms/frame`,
    );
    console.log(`frames dropped: ${r.droppedFrames}; wall ${r.wallS} s`);
  }
  if (parts.has('fair')) {
    const r = (report.fair = await runFairShare(detector, video, {
      warmupS: Number(args['warmup-s']),
      measureS: Number(args['measure-s']),
      cameras: 4,
    }));
    console.log(`\n## Fair scheduling (${r.model}, ${r.workers} workers × ${r.intraOpThreads} threads)`);
    console.log(
      `best bare onnxruntime: ${r.bareFps} inferences/s (${r.bareConfig} workers × threads); detector alone, saturated: up to ${r.detectorFps} fps`,
    );
    for (const run of r.runs) {
      const per = Object.entries(run.fps)
        .map(([id, v]) => `${id}=${v}`)
        .join(' ');
      const share = run.priorityShare !== undefined ? `, cam1 share ${run.priorityShare}× the others` : '';
      console.log(
        `${run.name}: ${per}; aggregate ${run.aggregateFps} fps = ${pct(run.ofBare)} of best bare (goal ≥ 90 %), ${pct(run.ofDetector)} of the detector alone (${run.detectorFps} fps just before); min/max ${run.minOverMax} (goal ≥ 0.8)${share}`,
      );
    }
  }
} finally {
  await detector.close();
}
if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
