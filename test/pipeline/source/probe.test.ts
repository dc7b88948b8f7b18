import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegBinary } from '../../../pipeline/source/ffmpeg.js';
import { probeSource } from '../../../pipeline/source/probe.js';
import { freePort } from '../../support/free-port.js';
import { hasShared, sharedPath } from '../../support/shared.js';

describe.skipIf(!hasShared)('probeSource on real media (real ffprobe)', () => {
  const vtest = sharedPath('media', 'vtest.avi');

  it('reads the first video stream: geometry, codec, rate and duration', async () => {
    expect(await probeSource(vtest, [])).toEqual({
      width: 768,
      height: 576,
      codec: 'msmpeg4v3',
      fps: 10,
      duration: 79.5,
    });
  });

  it('drops the reader-only -re and -stream_loop arguments, which ffprobe refuses', async () => {
    const info = await probeSource(vtest, ['-re', '-stream_loop', '-1']);
    expect(info).toMatchObject({ width: 768, height: 576, fps: 10 });
  });

  it('keeps the other input arguments', async () => {
    // a forced demuxer that does not fit the file shows the arguments reach ffprobe
    await expect(probeSource(vtest, ['-f', 'rawvideo'])).rejects.toThrow();
    expect(await probeSource(vtest, ['-f', 'avi'])).toMatchObject({ codec: 'msmpeg4v3' });
  });

  it('a still image is a one-frame video', async () => {
    const info = await probeSource(sharedPath('media', 'bus.jpg'), []);
    expect(info).toMatchObject({ width: 810, height: 1080, codec: 'mjpeg' });
  });

  it('a missing file names the path and the cause', async () => {
    const missing = sharedPath('media', 'no-such-clip.mp4');
    await expect(probeSource(missing, [])).rejects.toThrow(`${missing}: No such file or directory`);
  });
});

describe('probeSource errors', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-probe-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a file that is not media gives ffprobe’s cause, without its banner', async () => {
    const text = path.join(dir, 'notes.mp4');
    writeFileSync(text, 'not a video, just some words\n'.repeat(50));
    const err = await probeSource(text, []).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`${text}: Invalid data found when processing input`);
  });

  it('media without a video stream says so', async () => {
    const wav = path.join(dir, 'tone.wav');
    execFileSync(ffmpegBinary(), ['-v', 'error', '-f', 'lavfi', '-i', 'sine=d=0.5', '-y', wav]);
    await expect(probeSource(wav, [])).rejects.toThrow(`no video stream in ${wav}`);
  });

  it('redacts credentials from a refused connection', async () => {
    const port = await freePort();
    const url = `rtsp://admin:s3cret@127.0.0.1:${port}/stream`;
    const err = (await probeSource(url, []).catch((e: Error) => e)) as Error;
    expect(err.message).toBe(`rtsp://***@127.0.0.1:${port}/stream: Connection refused`);
  });

  it('a source that never answers rejects at the timeout, naming it, and its ffprobe is gone', async () => {
    const closed: Promise<void>[] = [];
    const server = net.createServer((s) => {
      s.on('error', () => {});
      // Read (and ignore) the request, so that the peer's end reaches us.
      s.resume();
      closed.push(new Promise((resolve) => s.once('close', () => resolve())));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      await expect(
        probeSource(`rtsp://user:pw@127.0.0.1:${port}/silent`, ['-rtsp_transport', 'tcp'], 300),
      ).rejects.toThrow('no answer within 300 ms');
      // ffprobe was killed, so its connection closes from its side: a camera retrying does not pile them up.
      expect(closed).toHaveLength(1);
      await closed[0];
    } finally {
      server.close();
    }
  });
});
