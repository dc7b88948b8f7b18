import { copyFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CameraState } from '../../../pipeline/camera/camera-state.js';
import { hasShared } from '../../support/shared.js';
import { range, readCommitted } from '../../support/store-forward.js';
import {
  camera,
  cleanUp,
  cleanup,
  ffmpegChildren,
  recordDetections,
  seqsOn,
  setup,
  until,
  yolo,
} from './agent-fixture.js';

// A camera or model that fails, in the real agent of agent-fixture.ts: the rest runs on.
afterEach(cleanUp);

describe.skipIf(!hasShared)('Agent, with real ffmpeg, onnxruntime and outbox', () => {
  it('a camera whose source is dead fails alone: the other camera keeps detecting', async () => {
    const { agent, lines, dbFile } = setup([
      camera('live'),
      camera('dead', { source: '/nonexistent/dead.avi' }), // fails while 'live' runs
    ]);
    const events = recordDetections(agent);
    await agent.start();
    await until('dead failed', () => agent.cameras.get('dead')!.state.state === 'failed');
    const after = events.length;
    await until('3 more live detections', () => events.length >= after + 3);
    expect(agent.cameras.get('dead')!.state).toMatchObject({
      reason: 'source file not found: /nonexistent/dead.avi',
    });
    expect(agent.cameras.get('live')!.state.state).toBe('streaming');
    expect(new Set(events.map((e) => e.camera))).toEqual(new Set(['live']));
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'camera failed', camera: 'dead' }),
    );
    await agent.stop(2000);
    const [row] = readCommitted(dbFile).rows.filter((r) => r.topic === agent.topics.camera('dead').state);
    expect(row).toBeDefined(); // its retained state waits in the outbox like everything else
    expect(seqsOn(dbFile, agent.topics.camera('live').detections)).toEqual(range(1, events.length));
  });

  it('when no model can load, the start fails naming each model and why; nothing runs', async () => {
    const junk = path.join(tmpdir(), `vigil-junk-${process.pid}.onnx`);
    writeFileSync(junk, 'not an onnx model');
    cleanup.push(() => rmSync(junk, { force: true }));
    const { agent, dbFile } = setup([camera('b', { model: 'gone' }), camera('c', { model: 'junk' })], {
      models: { gone: { path: '/nonexistent/gone.onnx' }, junk: { path: junk } },
    });
    const err = await agent.start().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      /^model "gone": file not found: \/nonexistent\/gone\.onnx; model "junk": \S+junk/,
    );
    expect(agent.cameras.size).toBe(0);
    expect(agent.detectors.size).toBe(0);
    expect(() => agent.outbox.depth()).toThrow(/not open/);
    expect(ffmpegChildren()).toEqual([]);
    expect(readCommitted(dbFile).rows).toEqual([]);
    await agent.stop(2000); // already stopped: a no-op
  });

  it('a model that cannot load fails only its cameras; it is retried and its cameras start once it loads', async () => {
    const later = path.join(tmpdir(), `vigil-later-${process.pid}.onnx`);
    cleanup.push(() => rmSync(later, { force: true }));
    const { agent, lines, dbFile } = setup(
      [camera('a'), camera('b', { model: 'later' })],
      {
        models: {
          m: { path: yolo, providers: ['cpu'], workers: 1 },
          later: { path: later, providers: ['cpu'] },
        },
      },
      [],
      100,
    );
    const events = recordDetections(agent);
    const states: CameraState[] = [];
    agent.states$.subscribe((st) => states.push(st));
    await agent.start();
    const reason = `model "later": file not found: ${later}`;
    expect(agent.cameras.get('b')?.state).toMatchObject({ state: 'failed', reason });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'model could not be loaded: its cameras wait for it, the others run',
        model: 'later',
        cameras: ['b'],
        retryInS: 0.1,
      }),
    );
    // Camera a runs meanwhile.
    await until('a detects', () => events.some((e) => e.camera === 'a'));
    // Retried with a growing delay, reported each time.
    await until(
      'two retries',
      () => lines.filter((l) => l.msg === 'model still cannot be loaded').length >= 2,
    );
    expect(lines.filter((l) => l.msg === 'model still cannot be loaded').map((l) => l.retryInS)).toEqual(
      expect.arrayContaining([0.2, 0.4]),
    );
    expect(events.some((e) => e.camera === 'b')).toBe(false);
    // The file arrives: the next attempt loads it and camera b starts.
    copyFileSync(yolo, `${later}.part`);
    renameSync(`${later}.part`, later); // whole, never half-copied when an attempt reads it
    await until('b detects', () => events.some((e) => e.camera === 'b'));
    expect(agent.cameras.get('b')?.state.state).toBe('streaming');
    expect(agent.detectors.has('later')).toBe(true);
    await agent.stop(2000);
    // Reported as each happened (states$ is what the outbox and the status page get): failed at start and
    // at each failed retry, then live.
    const bStates = states.filter((st) => st.camera === 'b').map((st) => st.state);
    expect(bStates.slice(0, 3)).toEqual(['failed', 'failed', 'failed']);
    // The same failure, reported again at each retry, keeps the time it began.
    const failedSince = states
      .filter((st) => st.camera === 'b' && st.state === 'failed')
      .map((st) => st.since);
    expect(new Set(failedSince).size).toBe(1);
    expect(bStates).toContain('streaming');
    expect(bStates.at(-1)).toBe('stopped');
    expect(readCommitted(dbFile).rows.some((r) => r.topic === agent.topics.camera('b').state)).toBe(true);
    expect(ffmpegChildren()).toEqual([]);
  });
});
