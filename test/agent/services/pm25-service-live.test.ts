import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { logLines } from '../../support/log-lines.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import mqtt from 'mqtt';
import { startMosquitto } from '../../support/mosquitto.js';
import { ServiceSupervisor } from '../../../agent/runtime/service-supervisor.js';
import { Pm25Service } from '../../../agent/services/pm25-service.js';
import { Pm25Payload } from '../../../models/pm25/payloads.js';
import { hasShared } from '../../support/shared.js';
import { milanClip, milanPm25 } from '../../support/milan-camera.js';
import { cleanup, serviceAgent, until, useCleanup } from './pm25-service-fixture.js';

// The service on a live source: the looped Milan clip, real ffmpeg side streams, windows published.

useCleanup();

/** A camera on the looped clip with 9 s windows, deadlines short enough for a test. */
const liveCamera = (id: string, source: string) => ({
  id,
  source,
  model: 'm',
  loop: true,
  realtime: true,
  connectTimeoutS: 3,
  stallTimeoutS: 2,
  pm25: { ...milanPm25(), sampleEveryS: 2, windowMinutes: 0.15 },
});

/** This process's ffmpeg children reading `source`. */
const reading = (source: string) =>
  execFileSync('ps', ['-ww', '--ppid', String(process.pid), '-o', 'args='])
    .toString()
    .split('\n')
    .filter((l) => l.includes(`-i ${source} `)).length;

describe.skipIf(!hasShared)('Pm25Service on a live source', () => {
  // The side stream once never gave the estimator a frame: ffmpeg held each frame until the next (past the
  // connect deadline), a frame every sampleEveryS counted as a stall, and the frame's shared memory made
  // onnxruntime throw "Invalid argument". Later, a camera's keyframe every 25 s (vtest.avi) counted as a
  // stall at every keyframe: the deadlines knew the sampling period but not the keyframe interval.
  it('publishes windows from a stream whose keyframes come further apart than the camera deadlines', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-live-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    // Looped, the side stream (keyframes only) gets a frame every 8 s, past the camera's 2 s stall deadline
    // plus 2 × sampleEveryS.
    const clip = milanClip(dir);
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const { log, lines } = logLines('debug');
    const agent = serviceAgent(dir, broker.url, log, liveCamera('cam1', clip));
    const subscriber = await mqtt.connectAsync(broker.url);
    cleanup.push(() => subscriber.endAsync());
    const payloads: Pm25Payload[] = [];
    subscriber.on('message', (_t, m) => payloads.push(Pm25Payload.parse(JSON.parse(m.toString()))));
    await subscriber.subscribeAsync('vigil/s/d/cameras/cam1/pm25', { qos: 1 });

    const sup = new ServiceSupervisor([new Pm25Service()], agent, log, 30);
    cleanup.push(() => sup.stopAll());
    await sup.startAll();
    const failures = () => lines.filter((l) => l.level === 'error' || l.msg === 'camera stalled, restarting');
    await vi.waitFor(() => expect(payloads.length, JSON.stringify(failures())).toBeGreaterThanOrEqual(2), {
      timeout: 45_000,
      interval: 50,
    });
    // Windows of 9 s, each with the keyframes sampled in it; the side stream never counted as stalled.
    for (const p of payloads) expect(p).toMatchObject({ camera: 'cam1', windowMinutes: 0.15 });
    expect(payloads.every((p) => p.frames >= 1)).toBe(true);
    expect(failures()).toEqual([]);
  });

  // A camera whose file was gone once restarted the whole service every 5 s: the other cameras' windows
  // never closed, and their PM2.5 was never published.
  it("keeps publishing a camera's windows while another camera's side stream keeps failing", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-two-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const { log, lines } = logLines('debug');
    const agent = serviceAgent(dir, broker.url, log, [
      liveCamera('good', milanClip(dir)),
      liveCamera('gone', path.join(dir, 'gone.mp4')),
    ]);
    const sup = new ServiceSupervisor([new Pm25Service({ restartDelayMs: 100 })], agent, log, 30);
    cleanup.push(() => sup.stopAll());
    await sup.startAll();
    const windows = () => agent.pm25.get('good') ?? [];
    const failed = () => lines.filter((l) => l.msg === 'PM2.5 stage failed, restarting it');
    await vi.waitFor(() => expect(windows().length).toBeGreaterThanOrEqual(2), {
      timeout: 45_000,
      interval: 50,
    });
    expect(failed().length).toBeGreaterThanOrEqual(2);
    expect(failed().every((l) => l.camera === 'gone')).toBe(true);
    expect(lines.filter((l) => l.msg === 'service failed, restarting it')).toEqual([]);
    expect(agent.pm25.get('gone') ?? []).toEqual([]);
  });

  // A push that removed a camera left its side stream (ffmpeg, estimator) running and publishing for ever.
  it('follows the config a push gives the agent: a removed camera stops, a changed one restarts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-push-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const { log } = logLines('debug');
    const clip = milanClip(dir);
    const air = liveCamera('air', clip);
    const agent = serviceAgent(dir, broker.url, log, air);
    const sup = new ServiceSupervisor([new Pm25Service()], agent, log, 30);
    cleanup.push(() => sup.stopAll());
    await sup.startAll();
    const first = agent.config;
    await until(() => (agent.pm25.get('air') ?? []).length >= 1, 'a first window');
    expect(reading(clip)).toBe(1);

    agent.config = { ...first, cameras: [] };
    await until(() => reading(clip) === 0, 'the removed camera no longer read');
    expect(agent.pm25.has('air')).toBe(false);

    // Back with another source (a copy of the clip): one side stream, on the new source.
    const moved = path.join(dir, 'moved.mp4');
    copyFileSync(clip, moved);
    agent.config = { ...first, cameras: [{ ...first.cameras[0]!, source: moved }] };
    await until(() => reading(moved) === 1, 'the camera read again, from its new source');
    await until(() => (agent.pm25.get('air') ?? []).length >= 1, 'windows again');
    expect(reading(clip)).toBe(0);
  });

  // `pm25.enabled: false` once changed nothing: the side stream (an ffmpeg, an estimator) ran all the same.
  it('starts no side stream for a camera whose pm25 section is not enabled', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-off-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const { log, lines } = logLines('debug');
    const clip = milanClip(dir);
    const offClip = path.join(dir, 'off.mp4');
    copyFileSync(clip, offClip);
    const off = liveCamera('off', offClip);
    // The disabled camera comes first: the service starts cameras in order, so it would be running by now.
    const agent = serviceAgent(dir, broker.url, log, [
      { ...off, pm25: { ...off.pm25, enabled: false } },
      liveCamera('on', clip),
    ]);
    const sup = new ServiceSupervisor([new Pm25Service()], agent, log, 30);
    cleanup.push(() => sup.stopAll());
    await sup.startAll();
    const sideStream = (camera: string) =>
      lines.filter((l) => l.msg === 'pm25 side stream' && l.camera === camera).map((l) => l.state);
    await until(() => sideStream('on').includes('streaming'), 'the enabled camera streaming');
    expect(reading(clip)).toBe(1);
    expect(sideStream('off')).toEqual([]);
    expect(reading(offClip)).toBe(0);
  });
});
