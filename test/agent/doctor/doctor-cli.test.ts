import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/agent-process.js';
import { startMosquitto, type Mosquitto } from '../../support/mosquitto.js';
import { startRtspServer, type RtspServer } from '../../support/rtsp.js';
import { hasShared, sharedPath } from '../../support/shared.js';

/** The table's row for a check (and subject), as [verdict, detail]: cut at the header's column starts. */
function row(output: string, check: string, subject = ''): [string, string] | undefined {
  const lines = output.split('\n');
  const header = lines.find((l) => l.startsWith('CHECK '));
  if (!header) return undefined;
  const [s, v, d] = ['SUBJECT', 'VERDICT', 'DETAIL'].map((h) => header.indexOf(h)) as [
    number,
    number,
    number,
  ];
  for (const line of lines) {
    const cells = [line.slice(0, s), line.slice(s, v), line.slice(v, d)].map((c) => c.trim());
    if (cells[0] === check && cells[1] === subject) return [cells[2]!, line.slice(d)];
  }
  return undefined;
}

describe.skipIf(!hasShared)('vigil doctor (the real CLI, CPU only)', () => {
  let broker: Mosquitto;
  let rtsp: RtspServer;
  const model = sharedPath('models', 'yolo11n-coco-int8-320.onnx');
  const dataDir = () => mkdtempSync(path.join(tmpdir(), 'vigil-doctor-cli-'));

  beforeAll(async () => {
    [broker, rtsp] = await Promise.all([startMosquitto(), startRtspServer(sharedPath('media', 'vtest.avi'))]);
  });
  afterAll(async () => {
    await broker?.stop();
    await rtsp?.stop();
  });

  it('a healthy box: every line passes or warns, exit code 0', async () => {
    const { code, output } = await runCli([
      'doctor',
      '--source',
      rtsp.url,
      '--model',
      model,
      '--mqtt',
      broker.url,
      '--data-dir',
      dataDir(),
      '--site',
      'yard',
      '--device',
      'box1',
    ]);
    expect(row(output, 'ffmpeg')?.[0]).toBe('PASS');
    expect(row(output, 'provider', 'cpu')?.[0]).toBe('PASS');
    expect(row(output, 'provider', 'cuda')).toEqual([
      'WARN',
      expect.stringMatching(/Failed to load shared library.*; model default uses cpu$/),
    ]);
    expect(row(output, 'provider', 'tensorrt')?.[0]).toBe('WARN');
    expect(row(output, 'gpu load')?.[0]).toBe('WARN');
    expect(row(output, 'broker', broker.url)).toEqual([
      'PASS',
      expect.stringMatching(/^connected anonymously and published to vigil\/yard\/box1\/doctor/),
    ]);
    expect(row(output, 'camera', 'cam1')).toEqual([
      'PASS',
      expect.stringMatching(/^first frame after [\d.]+ s \(768x576\)$/),
    ]);
    expect(output).toMatch(/\n\d+ checks: \d+ pass, 3 warn, 0 fail, 0 skip\n/);
    expect(code).toBe(0);
  });

  it('no broker and a bad camera: those lines fail, exit code 1', async () => {
    const port = broker.port;
    await broker.stop();
    try {
      const source = 'rtsp://admin:hunter2@127.0.0.1:9/live';
      const { code, output } = await runCli([
        'doctor',
        '--source',
        source,
        '--model',
        model,
        '--mqtt',
        broker.url,
        '--data-dir',
        dataDir(),
        '--timeout',
        '5',
      ]);
      expect(row(output, 'broker', `mqtt://127.0.0.1:${port}`)).toEqual([
        'FAIL',
        `connect ECONNREFUSED 127.0.0.1:${port} (is the broker running?)`,
      ]);
      expect(row(output, 'camera', 'cam1')).toEqual([
        'FAIL',
        'rtsp://***@127.0.0.1:9/live: Connection refused',
      ]);
      expect(output).not.toContain('hunter2');
      expect(code).toBe(1);
    } finally {
      await broker.start();
    }
  });

  it('ffmpeg missing from PATH: ffmpeg, ffprobe and the camera fail, exit code 1', async () => {
    const emptyBin = mkdtempSync(path.join(tmpdir(), 'vigil-nobin-'));
    const { code, output } = await runCli(
      ['doctor', '--source', sharedPath('media', 'vtest.avi'), '--model', model, '--data-dir', dataDir()],
      { PATH: emptyBin, FFMPEG_PATH: '', FFPROBE_PATH: '' },
    );
    expect(row(output, 'ffmpeg')).toEqual(['FAIL', 'ffmpeg not found (PATH or FFMPEG_PATH)']);
    expect(row(output, 'ffprobe')).toEqual(['FAIL', 'ffprobe not found (PATH or FFPROBE_PATH)']);
    expect(row(output, 'camera', 'cam1')).toEqual(['FAIL', 'ffprobe not found (PATH or FFPROBE_PATH)']);
    expect(row(output, 'broker')?.[0]).toBe('SKIP');
    expect(code).toBe(1);
  });

  it('a config error is reported like run and check-config: exit code 2', async () => {
    const { code, output } = await runCli(['doctor', '--source', 'gopher://cam/1', '--model', model]);
    expect(output).toContain('vigil: config error: cameras[0].source: unsupported source scheme "gopher:"');
    expect(code).toBe(2);
  });
});
