import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VigilConfig, type VigilConfigInput } from '../../../config/schema.js';
import { Agent } from '../../../agent/runtime/agent.js';
import type { AgentService } from '../../../agent/runtime/services.js';
import type { Detector } from '../../../models/detect/detector.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import { logLines } from '../../support/log-lines.js';
import { sharedPath } from '../../support/shared.js';
import { readCommitted, sleep } from '../../support/store-forward.js';

// The agent the agent*.test.ts files share, the real thing end to end in one process: SQLite outbox in a
// tmp dir, ffmpeg reading vtest.avi, onnxruntime workers running yolo11n-320 on the CPU.

/** What a test leaves to undo, undone last first by cleanUp (each test file's afterEach). */
export const cleanup: (() => unknown)[] = [];
export async function cleanUp(): Promise<void> {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  // stop() kills ffmpeg without waiting for it to be reaped: a test must not see the previous one's.
  await until('the ffmpeg of a stopped agent gone', () => ffmpegChildren().length === 0, 20_000);
}

const video = sharedPath('media', 'vtest.avi');
export const yolo = sharedPath('models', 'yolo11n-coco-int8-320.onnx');
export const camera = (id: string, extra: object = {}) => ({
  id,
  source: video,
  model: 'm',
  fps: 10,
  loop: true,
  ...extra,
});

export function setup(
  cameras: object[],
  extra: Partial<VigilConfigInput> = {},
  services: AgentService[] = [],
  modelRetryMs?: number,
) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-agent-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = VigilConfig.parse({
    site: 's',
    device: 'd',
    dataDir,
    http: { enabled: false },
    models: { m: { path: yolo, providers: ['cpu'], workers: 1 } },
    cameras,
    ...extra,
  });
  const { log, lines } = logLines();
  const agent = new Agent(config, {
    log,
    version: '9.9.9',
    services,
    // Capped at 1 s: on a slow machine the doubling would otherwise outgrow the test's waits.
    ...(modelRetryMs === undefined ? {} : { modelRetryMs, modelRetryMaxMs: 1000 }),
  });
  cleanup.push(() => agent.stop(2000));
  return { agent, lines, dataDir, dbFile: path.join(dataDir, 'outbox.db') };
}

/** Every detection event, in order, as services see it. */
export function recordDetections(agent: Agent): DetectionEvent[] {
  const events: DetectionEvent[] = [];
  agent.detections$.subscribe((e) => events.push(e));
  return events;
}

export async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(25))
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
}

/** This process's ffmpeg children (running or not yet reaped). */
export function ffmpegChildren(): string[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)]).toString();
    return out.split('\n').filter((l) => l.includes('ffmpeg'));
  } catch {
    return []; // ps exits 1 when there are no children at all
  }
}

/** Runs one blank frame through a detector: rejects once its worker pool is closed. */
export function detectOnce(d: Detector) {
  const { width, height } = d.info.input;
  return d.detect({
    data: new Uint8Array(width * height * 3),
    letterbox: computeLetterbox(width, height, d.info.input),
  });
}

export const seqsOn = (db: string, topic: string) =>
  readCommitted(db)
    .rows.filter((r) => r.topic === topic)
    .map((r) => r.seq);
