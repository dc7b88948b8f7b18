import { readdirSync, readFileSync } from 'node:fs';
import { firstValueFrom, Observable, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraConfig } from '../../../config/schema.js';
import { familyInput } from '../../../models/detect/families.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { InputSpec } from '../../../models/types.js';
import { planFfmpeg } from '../../../pipeline/source/ffmpeg-args.js';
import { probeSource } from '../../../pipeline/source/probe.js';
import { rawFrames } from '../../../pipeline/source/raw-frames.js';
import { secretInput, showInput } from '../../../pipeline/source/secret-input.js';
import { sourceKindOf } from '../../../pipeline/source/source-kinds.js';
import { startRtspServer, type RtspServer } from '../../support/rtsp.js';
import { hasShared, sharedPath } from '../../support/shared.js';

describe('secretInput: credentials off the command line', () => {
  const rtspArgs = ['-nostdin', '-loglevel', 'info', '-rtsp_transport', 'tcp', '-timeout', '7000000'];

  it('moves a URL with a password into a concat list on stdin, with its own options', () => {
    const s = secretInput("rtsp://admin:it's@10.0.0.5:554/stream", rtspArgs);
    expect(s.input).toBe('pipe:0');
    expect(s.args).toEqual([
      ...['-nostdin', '-loglevel', 'info', '-f', 'concat', '-safe', '0', '-protocol_whitelist'],
      'pipe,rtsp,rtsps,rtp,srtp,tcp,udp,tls,http,https,crypto',
    ]);
    expect(s.stdin).toBe(
      "ffconcat version 1.0\nfile 'rtsp://admin:it'\\''s@10.0.0.5:554/stream'\n" +
        "option rtsp_transport 'tcp'\noption timeout '7000000'\n",
    );
    expect(s.args.join(' ')).not.toContain('admin');
    expect(s.shown).toBe('rtsp://***@10.0.0.5:554/stream');
    expect(showInput('pipe:0: Server returned 401 Unauthorized', s)).toBe(
      'rtsp://***@10.0.0.5:554/stream: Server returned 401 Unauthorized',
    );
  });

  it('hides a secret query parameter of an HTTP camera too, and leaves everything else as it was', () => {
    const http = secretInput('https://cam.local/mjpg?user=a&password=x', ['-rw_timeout', '5000000']);
    expect(http).toMatchObject({ input: 'pipe:0', shown: 'https://cam.local/mjpg?user=a&password=***' });
    expect(http.args.at(-1)).toBe('pipe,http,https,tcp,tls,crypto');
    expect(http.stdin).toContain("option rw_timeout '5000000'");
    for (const [input, args] of [
      ['rtsp://10.0.0.5/stream', rtspArgs],
      ['/media/site/yard.mp4', ['-re']],
      ['/dev/video0', ['-f', 'v4l2']],
      ['rtsp://a:b@10.0.0.5/s\nfile /etc/passwd', rtspArgs],
    ] as const) {
      const s = secretInput(input, args);
      expect(s).toMatchObject({ input, args });
      expect(s.stdin).toBeUndefined();
      expect(showInput('pipe:0 is kept', s)).toBe('pipe:0 is kept');
    }
  });
});

/** The command lines of this process's ffmpeg and ffprobe children, as any local user reads them. */
function childCommandLines(): string[] {
  const lines: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]);
      if (ppid !== process.pid || !/\((ffmpeg|ffprobe)\)/.test(stat)) continue;
      lines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      // gone between the listing and the read
    }
  }
  return lines;
}

const spec: InputSpec = { width: 320, height: 320, ...familyInput.yolov8 };

describe.skipIf(!hasShared)('a camera that asks for a password (real RTSP server with Basic auth)', () => {
  let server: RtspServer;
  const withCredentials = (userInfo: string) => server.url.replace('rtsp://', `rtsp://${userInfo}@`);
  const camera = (source: string) =>
    CameraConfig.parse({ id: 'gate', source, model: 'det', connectTimeoutS: 5 });

  beforeAll(async () => {
    server = await startRtspServer(sharedPath('media', 'vtest.avi'), { credentials: 'cam:s3cret-pw' });
  });
  afterAll(() => server?.stop());

  it('streams with the right password, which no ffmpeg or ffprobe command line shows', async () => {
    const source = withCredentials('cam:s3cret-pw');
    const kind = sourceKindOf(source);
    const cam = camera(source);
    // A frozen server: ffprobe waits for its answer, long enough to read its command line.
    server.pause();
    const abort = new AbortController();
    const waiting = probeSource(source, kind.inputArgs(cam), 20_000, abort.signal).catch(() => null);
    let probeLines: string[] = [];
    while (!probeLines.length) {
      await new Promise((r) => setTimeout(r, 20));
      probeLines = childCommandLines();
    }
    abort.abort();
    await waiting;
    server.resume();
    expect(probeLines[0]).toContain('ffprobe');
    expect(probeLines[0]).toContain('pipe:0');
    expect(probeLines.join('\n')).not.toContain('s3cret');

    const probe = await probeSource(source, kind.inputArgs(cam), 20_000);
    expect(probe).toMatchObject({ width: 768, height: 576, codec: 'h264' });
    const plan = planFfmpeg(cam, kind, probe, computeLetterbox(probe.width, probe.height, spec), spec);
    let ffmpegLines: string[] = [];
    const frames = await firstValueFrom(
      new Observable<number>((sub) =>
        rawFrames(plan, { pull: false, maxOutstanding: 10 }).subscribe({
          next: (f) => {
            if (!ffmpegLines.length) ffmpegLines = childCommandLines();
            sub.next(f.data.length);
            f.release();
          },
          error: (e: unknown) => sub.error(e),
        }),
      ).pipe(take(5), toArray()),
    );
    expect(frames).toEqual(Array(5).fill(320 * 320 * 3));
    expect(ffmpegLines.join('\n')).toContain('ffmpeg');
    expect(ffmpegLines.join('\n')).not.toContain('s3cret');
  });

  it('a wrong password fails with the server’s 401 and the URL redacted, from ffprobe and from ffmpeg', async () => {
    const source = withCredentials('cam:wrong-pw');
    const kind = sourceKindOf(source);
    const cam = camera(source);
    const probeError = await probeSource(source, kind.inputArgs(cam), 20_000).then(
      () => new Error('probe passed'),
      (e: Error) => e,
    );
    expect(probeError.message).toMatch(/401 Unauthorized/);
    expect(probeError.message).not.toMatch(/wrong-pw|pipe:0/);
    const probe = { width: 768, height: 576, codec: 'h264', fps: 10, duration: null };
    const plan = planFfmpeg(cam, kind, probe, computeLetterbox(768, 576, spec), spec);
    const runError = await firstValueFrom(rawFrames(plan, { pull: false, maxOutstanding: 10 })).then(
      () => new Error('frames came'),
      (e: Error) => e,
    );
    expect(runError.message).toMatch(/401 Unauthorized/);
    expect(runError.message).toContain('rtsp://***@127.0.0.1');
    expect(runError.message).not.toMatch(/wrong-pw|pipe:0/);
  });
});
