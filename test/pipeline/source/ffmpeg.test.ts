import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  ffmpegCapabilities,
  ffprobeVersion,
  ffprobeVideo,
  spawnFfmpeg,
} from '../../../pipeline/source/ffmpeg.js';

// The real ffmpeg and ffprobe of this machine; inputs from lavfi's test source or written here.
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-ffmpeg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Sets an environment variable for one test. */
function withEnv(name: string, value: string): void {
  const before = process.env[name];
  process.env[name] = value;
  cleanup.push(() => (before === undefined ? delete process.env[name] : (process.env[name] = before)));
}

/** Pids of the running processes whose command line contains `text`. */
function processesWith(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', text]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('ffprobeVideo', () => {
  it('reads the first video stream: size, codec, frame rates and duration', async () => {
    const file = path.join(dir, 'clip.mkv');
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=96x64:rate=5:duration=2',
      '-f',
      'lavfi',
      '-i',
      'sine=duration=2',
      '-map',
      '1:a',
      '-map',
      '0:v',
      '-c:v',
      'mjpeg',
      file,
    ]);
    const probed = await ffprobeVideo(file, [], 10_000);
    // The audio stream comes first in the file: the video one is found all the same.
    expect(probed).toEqual({
      width: 96,
      height: 64,
      codec: 'mjpeg',
      avgFrameRate: '5/1',
      frameRate: '5/1',
      duration: expect.closeTo(2, 1) as number,
    });
  });

  it('a live input without a duration gives none; input arguments reach ffprobe', async () => {
    const probed = await ffprobeVideo('testsrc=size=32x24:rate=7', ['-f', 'lavfi'], 10_000);
    expect(probed).toMatchObject({ width: 32, height: 24, frameRate: '7/1' });
    expect(probed!.duration).toBeUndefined();
  });

  it('a file with no video stream gives undefined', async () => {
    const file = path.join(dir, 'tone.wav');
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=duration=0.2',
      file,
    ]);
    expect(await ffprobeVideo(file, [], 10_000)).toBeUndefined();
  });

  it('a missing file fails with ffprobe’s own cause', async () => {
    await expect(ffprobeVideo(path.join(dir, 'gone.mp4'), [], 10_000)).rejects.toThrow(
      /No such file or directory/,
    );
  });

  it('a server that accepts and never answers: killed at the timeout, no ffprobe left behind', async () => {
    const sockets = new Set<net.Socket>();
    const asked: string[] = []; // the path of each request the server got (one per probe that connected)
    const server = net.createServer((s) => {
      sockets.add(s); // accepts, says nothing
      s.once('data', (d: Buffer) => asked.push(/^GET (\S+)/.exec(d.toString('latin1'))?.[1] ?? '?'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    });
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/silent-${process.pid}`;
    // The case under test needs ffprobe connected and waiting when its timeout strikes. On a loaded machine
    // its own start can outlast 400 ms, so it is killed before it connects: then again, with twice the time.
    for (let timeoutMs = 400; ; timeoutMs *= 2) {
      const t0 = Date.now();
      await expect(ffprobeVideo(`${base}-${timeoutMs}`, [], timeoutMs)).rejects.toThrow(
        `no answer within ${timeoutMs} ms`,
      );
      expect(Date.now() - t0).toBeLessThan(timeoutMs + 10_000); // at the timeout, not hanging on
      expect(processesWith(`silent-${process.pid}`)).toEqual([]);
      if (asked.includes(`/silent-${process.pid}-${timeoutMs}`)) break; // it did connect
      expect(timeoutMs, 'ffprobe never reached the server').toBeLessThan(12_800);
    }
    expect(new Set(asked).size).toBe(asked.length); // one connection per probe, no retry of its own
  });

  it('names the variable to set when ffprobe is not there', async () => {
    withEnv('FFPROBE_PATH', path.join(dir, 'no-such-ffprobe'));
    await expect(ffprobeVideo('x.mp4', [], 1000)).rejects.toThrow(
      `${path.join(dir, 'no-such-ffprobe')} not found (PATH or FFPROBE_PATH)`,
    );
  });

  it('says so when ffprobe prints something other than JSON', async () => {
    const fake = path.join(dir, 'chatty-ffprobe');
    writeFileSync(fake, '#!/bin/sh\necho "hello, I am not JSON"\n');
    chmodSync(fake, 0o755);
    withEnv('FFPROBE_PATH', fake);
    await expect(ffprobeVideo('x.mp4', [], 5000)).rejects.toThrow(
      'ffprobe printed something other than JSON',
    );
  });
});

describe('spawnFfmpeg', () => {
  /** Runs to the end: the bytes of stdout, the stderr lines and every onExit call. */
  function runToEnd(input: string, inputArgs: string[], outputArgs: string[]) {
    const lines: string[] = [];
    const exits: (Error | undefined)[] = [];
    const chunks: Buffer[] = [];
    return new Promise<{ bytes: Buffer; lines: string[]; exits: (Error | undefined)[] }>((resolve) => {
      const proc = spawnFfmpeg(input, inputArgs, outputArgs, {
        onStderr: (l) => lines.push(l),
        onExit: (err) => {
          exits.push(err);
          // Later calls, if any, would land before this settles.
          setTimeout(() => resolve({ bytes: Buffer.concat(chunks), lines, exits }), 200);
        },
      });
      proc.stdout.on('data', (c: Buffer) => chunks.push(c));
    });
  }

  it('streams raw frames on stdout, stderr line by line, and one clean exit', async () => {
    const { bytes, lines, exits } = await runToEnd(
      'testsrc=size=16x8:rate=10',
      ['-f', 'lavfi'],
      ['-frames:v', '3', '-pix_fmt', 'rgb24', '-f', 'rawvideo'],
    );
    expect(bytes.length).toBe(3 * 16 * 8 * 3);
    expect(exits).toEqual([undefined]);
    expect(lines.some((l) => /Stream #0:0.*rawvideo/.test(l))).toBe(true);
  });

  it('a failing input: one exit, with an error, and ffmpeg’s reason on stderr', async () => {
    const { bytes, lines, exits } = await runToEnd(path.join(dir, 'gone.mp4'), [], ['-f', 'rawvideo']);
    expect(bytes.length).toBe(0);
    expect(exits).toHaveLength(1);
    expect(exits[0]).toBeInstanceOf(Error);
    expect(lines.join('\n')).toMatch(/No such file or directory/);
  });

  it('kill() ends an endless input: one exit, with an error, and no ffmpeg left', async () => {
    const marker = `size=24x16:rate=${1000 + (process.pid % 1000)}`;
    const exits: (Error | undefined)[] = [];
    let bytes = 0;
    const proc = spawnFfmpeg(
      `testsrc=${marker}`,
      ['-re', '-f', 'lavfi'],
      ['-pix_fmt', 'rgb24', '-f', 'rawvideo'],
      {
        onStderr: () => {},
        onExit: (err) => exits.push(err),
      },
    );
    proc.stdout.on('data', (c: Buffer) => (bytes += c.length));
    await vi.waitFor(() => expect(bytes).toBeGreaterThan(0), { timeout: 30_000, interval: 10 });
    proc.kill();
    await vi.waitFor(() => expect(exits.length).toBeGreaterThan(0), { timeout: 30_000, interval: 10 });
    await new Promise((r) => setTimeout(r, 100)); // a second exit, were there one, would come meanwhile
    expect(exits).toHaveLength(1);
    expect(exits[0]).toBeInstanceOf(Error);
    expect(processesWith(marker)).toEqual([]);
    proc.kill(); // twice: nothing happens
  });

  it('kill() at once, before ffmpeg has even started: it never runs on', async () => {
    const marker = `size=24x16:rate=${2000 + (process.pid % 1000)}`;
    const exits: (Error | undefined)[] = [];
    const proc = spawnFfmpeg(
      `testsrc=${marker}`,
      ['-re', '-f', 'lavfi'],
      ['-pix_fmt', 'rgb24', '-f', 'rawvideo'],
      {
        onStderr: () => {},
        onExit: (err) => exits.push(err),
      },
    );
    proc.stdout.resume();
    proc.kill(); // a camera stopped the moment its probe answered
    cleanup.push(() => {
      for (const pid of processesWith(marker)) process.kill(Number(pid), 'SIGKILL');
    });
    await vi.waitFor(() => expect(exits.length).toBeGreaterThan(0), { timeout: 30_000, interval: 10 });
    await new Promise((r) => setTimeout(r, 300)); // an ffmpeg started after the kill would show meanwhile
    expect(processesWith(marker)).toEqual([]);
    expect(exits).toHaveLength(1);
    expect(exits[0]).toBeInstanceOf(Error);
  });
});

describe('ffmpeg and ffprobe versions and capabilities', () => {
  it('reports the version, hwaccel methods and decoders of the ffmpeg that will run', async () => {
    const caps = await ffmpegCapabilities();
    const direct = /ffmpeg version (\S+)/.exec(execFileSync('ffmpeg', ['-version']).toString())![1];
    expect(caps.version).toBe(direct);
    expect(caps.decoders).toEqual(expect.arrayContaining(['h264', 'hevc', 'mjpeg', 'rawvideo']));
    expect(caps.decoders.length).toBeGreaterThan(100);
    expect(caps.hwaccels.every((h) => /^[a-z0-9_]+$/.test(h))).toBe(true);
    // ffprobe comes from the same build here.
    expect(await ffprobeVersion()).toBe(direct);
  });

  it('a missing ffmpeg is named with its variable', async () => {
    withEnv('FFMPEG_PATH', path.join(dir, 'no-such-ffmpeg'));
    await expect(ffmpegCapabilities(2000)).rejects.toThrow(
      `${path.join(dir, 'no-such-ffmpeg')} not found (PATH or FFMPEG_PATH)`,
    );
  });
});
