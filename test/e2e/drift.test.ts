import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CameraStatePayload } from '../../agent/mqtt/payloads.js';
import { ReferenceExport } from '../../pipeline/drift/drift-records.js';
import {
  DriftPayload,
  DriftSummaryPayload,
  type DriftPayload as Drift,
} from '../../pipeline/drift/payloads.js';
import { runCli, startAgent } from '../support/agent-process.js';
import { collect, startMosquitto, type Mosquitto, type Received } from '../support/mosquitto.js';
import { hasShared, sharedPath } from '../support/shared.js';

/**
 * The drift service in real agent processes: vtest.avi played 4× fast at its own rate, 20 fps into
 * YOLO11n (int8, 320), half-second windows on the wall clock (10 frames, 2 s of the scene: 20 windows per
 * half of the video). The first half builds a reference (automatically from its first windows, then by hand
 * over all of them with `vigil drift baseline`), the second half is compared with it, and the reference is
 * exported and imported with the real CLI into a second box whose view is darkened.
 */
const json = (m: Received) => JSON.parse(m.payload.toString()) as unknown;
const topicBase = 'vigil/yard/box1/cameras/plaza';
const drift = (all: Received[]): Drift[] => {
  const seen = new Set<string>();
  return all
    .filter((m) => m.topic === `${topicBase}/drift`)
    .map((m) => DriftPayload.parse(json(m)))
    .filter((m) => !seen.has(m.id) && Boolean(seen.add(m.id)));
};
const stopped = (all: Received[]) =>
  all.some(
    (m) =>
      !m.retain && // not the previous run's
      m.topic === `${topicBase}/state` &&
      CameraStatePayload.parse(json(m)).state === 'stopped',
  );

describe.skipIf(!hasShared)('drift service in a real agent (real video, real model, real broker)', () => {
  let broker: Mosquitto;
  let dir: string;
  beforeAll(async () => {
    broker = await startMosquitto();
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-drift-e2e-'));
  });
  afterAll(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const writeConfig = (name: string, source: string, driftCfg: object) => {
    const file = path.join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      stringify({
        site: 'yard',
        device: 'box1',
        dataDir: path.join(dir, `${name}-data`),
        mqtt: { url: broker.url },
        http: { enabled: false },
        models: { det: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'), providers: ['cpu'] } },
        cameras: [{ id: 'plaza', source, model: 'det', realtime: true, fps: 20 }],
        drift: { windowMinutes: 0.5 / 60, minFrames: 5, minSamples: 5, ...driftCfg },
      }),
    );
    return file;
  };

  /** Runs an agent until its file source ends and the last window is published; returns the drift messages. */
  const runToEnd = async (config: string) => {
    const sub = await collect(broker.url, `${topicBase}/#`);
    const agent = startAgent(['run', '--config', config]);
    try {
      await sub.waitFor(stopped, 90_000);
      const n = drift(sub.messages).length;
      // the timer closes the window the last frames fell in
      await sub.waitFor((all) => drift(all).length > n, 5_000);
      expect((await agent.stop()).code).toBe(0);
      return { messages: drift(sub.messages), output: agent.output() };
    } finally {
      await agent.stop();
      await sub.close();
    }
  };

  /**
   * A stretch of vtest.avi as its own file, played 4× fast (40 fps): read at its own rate at 20 fps, a
   * half-second window on the wall clock holds 10 frames of 2 s of the scene, however fast the box is.
   */
  const clip = (file: string, ss: number, t: number, filter?: string) => {
    const vf = [filter, 'settb=1/1000', 'setpts=PTS/4'].filter(Boolean).join(',');
    execFileSync('ffmpeg', [
      ...['-loglevel', 'error', '-y', '-ss', `${ss}`, '-t', `${t}`, '-i', sharedPath('media', 'vtest.avi')],
      ...['-vf', vf, '-r', '40', '-c:v', 'mjpeg', '-q:v', '3', file],
    ]);
    return file;
  };
  const report = (label: string, msgs: Drift[]) => {
    if (!process.env.DRIFT_REPORT) return;
    for (const m of msgs) {
      const { start, frames } = m.window;
      console.log(label, start, frames, m.status, m.state, m.score, m.drivers, m.moved.slice(0, 3));
    }
  };

  // One camera whose file is the first half of the plaza, then the second half (the same source path,
  // so the same config revision): a camera that keeps looking at the same scene.
  const plazaFile = () => path.join(dir, 'plaza.avi');
  const plazaConfig = () => path.join(dir, 'plaza.yaml');
  let firstHalf: Drift[];
  let secondHalf: Drift[];

  it('first half: windows published, a reference built automatically, then one by hand over all of them', async () => {
    clip(plazaFile(), 0, 40);
    const cfg = writeConfig('plaza', plazaFile(), { autoBaselineHours: 3 / 3600 });
    const run = await runToEnd(cfg);
    firstHalf = run.messages;
    report('first', firstHalf);
    expect(run.output).toMatch(/drift reference built automatically/);
    const starts = firstHalf.map((m) => m.window.start);
    expect(new Set(starts).size).toBe(starts.length); // one message per window
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    for (const m of firstHalf) expect(m.window.end - m.window.start).toBe(500);
    const built = firstHalf.findIndex((m) => m.baseline?.built);
    expect(built).toBeGreaterThanOrEqual(2);
    expect(firstHalf.slice(0, built + 1).every((m) => m.status !== 'scored')).toBe(true);
    expect(firstHalf.slice(built + 1).every((m) => m.reference?.source === 'auto')).toBe(true);
    expect(existsSync(path.join(dir, 'plaza-data', 'drift.db'))).toBe(true);

    // the whole first half becomes the reference (the newest reference of a key is the active one)
    const from = firstHalf[0]!.window.start;
    const to = firstHalf.at(-1)!.window.end;
    const base = await runCli([
      'drift',
      'baseline',
      '-c',
      cfg,
      '--camera',
      'plaza',
      '--from',
      `${from}`,
      '--to',
      `${to}`,
    ]);
    expect(base.code, base.output).toBe(0);
    expect(base.output).toMatch(/reference 2 built: camera plaza, model det, revision \w{12}, baseline/);
  }, 90_000);

  it('second half against it: ok in all but at most 2 wall-clock windows; the summary is retained', async () => {
    expect(firstHalf, 'needs the first half').toBeDefined();
    clip(plazaFile(), 40, 40);
    secondHalf = (await runToEnd(plazaConfig())).messages;
    report('second', secondHalf);
    const scored = secondHalf.filter((m) => m.status === 'scored');
    // The two edge windows may be short, and under load one more (a full local run with other work beside it
    // scored 18 of 21): a window with too few frames is reported, not scored.
    expect(scored.length).toBeGreaterThanOrEqual(secondHalf.length - 3);
    // 10 s of wall clock make 20 windows; a slow start under load leaves fewer (one CI run scored 17)
    expect(scored.length).toBeGreaterThanOrEqual(15);
    for (const m of scored) {
      expect(m.reference).toMatchObject({ id: 2, source: 'baseline' });
      expect(m.stats.find((s) => s.name === 'image.brightness')?.psi).not.toBeNull();
      expect(m.histograms.frames).toBe(m.window.frames);
      expect(m.histograms.imageFrames).toBe(m.window.frames); // every frame's pixels were measured
    }
    // Windows here are half a second of wall clock (about 10 frames), so their frame counts follow the box's
    // load: one clean-clone CI run saw 18 ok of 20. The 19-of-20 criterion is asserted on the video
    // clock, where windows do not depend on load, in test/pipeline/drift/drift-real-video.test.ts.
    expect(scored.filter((m) => m.state === 'ok').length).toBeGreaterThanOrEqual(scored.length - 2);

    // the retained summary is there for a subscriber that comes later
    const late = await collect(broker.url, `${topicBase}/drift/summary`);
    try {
      await late.waitFor((all) => all.some((m) => m.retain), 5_000);
      const summary = DriftSummaryPayload.parse(json(late.messages.find((m) => m.retain)!));
      expect(summary).toMatchObject({ camera: 'plaza', model: 'det', state: secondHalf.at(-1)!.state });
      expect(summary.lastWindow.start).toBe(secondHalf.at(-1)!.window.start);
    } finally {
      await late.close();
    }
  }, 90_000);

  it('export/import move the reference to another box, whose darkened view alarms within 3 windows', async () => {
    expect(secondHalf, 'needs the halves').toBeDefined();
    const refFile = path.join(dir, 'plaza-ref.json');
    const exported = await runCli([
      'drift',
      'export',
      '-c',
      plazaConfig(),
      '--camera',
      'plaza',
      '-o',
      refFile,
    ]);
    expect(exported.code, exported.output).toBe(0);
    const ref = ReferenceExport.parse(JSON.parse(readFileSync(refFile, 'utf8')));
    expect(ref).toMatchObject({ camera: 'plaza', modelId: 'det', source: 'baseline' });

    // the second box: the plaza darkened as by a failing light (another source: another revision)
    const dark = clip(path.join(dir, 'dark.avi'), 40, 12, 'eq=brightness=-0.35');
    const darkCfg = writeConfig('dark', dark, { autoBaselineHours: 1 });
    const imported = await runCli(['drift', 'import', refFile, '-c', darkCfg, '--camera', 'plaza']);
    expect(imported.code, imported.output).toBe(0);
    expect(imported.output).toMatch(
      /imported: camera plaza, model det, revision \w{12}, import from plaza\/det\//,
    );

    const { messages } = await runToEnd(darkCfg);
    report('dark', messages);
    const windows = messages.filter((m) => m.status !== 'too-few-samples');
    expect(windows.length).toBeGreaterThanOrEqual(3);
    expect(windows.every((m) => m.status === 'scored' && m.reference?.source === 'import')).toBe(true);
    const firstAlarm = windows.findIndex((m) => m.state === 'alarm');
    expect(firstAlarm).toBeGreaterThanOrEqual(0);
    expect(firstAlarm).toBeLessThan(3);
    const alarm = windows[firstAlarm]!;
    expect(alarm.drivers).toContain('image.brightness');
    expect(alarm.drivers.every((d) => d.startsWith('image.'))).toBe(true);
  }, 90_000);
});
