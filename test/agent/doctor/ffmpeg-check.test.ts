import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkFfmpeg } from '../../../agent/doctor/ffmpeg-check.js';
import type { VigilConfigInput } from '../../../config/schema.js';
import { doctorConfig } from './config.js';

const saved = { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH };
afterEach(() => {
  for (const [name, value] of [
    ['FFMPEG_PATH', saved.ffmpeg],
    ['FFPROBE_PATH', saved.ffprobe],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** The vaapi preset's device: absent on this box (no GPU render node in the container). */
const hasRenderNode = existsSync('/dev/dri/renderD128');

type Camera = NonNullable<VigilConfigInput['cameras']>[number];
const cam = (id: string, hwaccel: Camera['hwaccel'], enabled = true): Camera => ({
  id,
  source: `/${id}.mp4`,
  model: 'det',
  hwaccel,
  enabled,
});

/** This box's ffmpeg, read here by hand: what the check should report. */
function realFfmpeg() {
  const run = (bin: string, arg: string) => execFileSync(bin, ['-hide_banner', arg], { encoding: 'utf8' });
  const version = /version (\S+)/.exec(run('ffmpeg', '-version'))![1]!;
  const probeVersion = /version (\S+)/.exec(run('ffprobe', '-version'))![1]!;
  const hwaccels = run('ffmpeg', '-hwaccels')
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean);
  const body = run('ffmpeg', '-decoders').split(/^ -+$/m)[1]!;
  const decoders = body
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[1])
    .filter((d): d is string => !!d);
  const families = new Map<string, number>();
  for (const d of decoders) {
    const family = d.slice(d.lastIndexOf('_') + 1);
    if (
      d.includes('_') &&
      [
        'cuvid',
        'nvv4l2dec',
        'nvmpi',
        'qsv',
        'v4l2m2m',
        'vaapi',
        'rkmpp',
        'mediacodec',
        'videotoolbox',
        'amf',
        'vulkan',
      ].includes(family)
    )
      // prettier-ignore
      families.set(family, (families.get(family) ?? 0) + 1);
  }
  const summary = [...families].map(([f, n]) => `${f} x${n}`).join(', ') || 'none';
  return { version, probeVersion, hwaccels, summary };
}

/** A stand-in ffmpeg for what cannot be installed here (an old release, Jetson decoders). */
function fakeFfmpeg(versionLine: string, hwaccels: string[], decoders: string[], exitCode = 0): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-fakeff-'));
  const bin = path.join(dir, 'ffmpeg');
  const lines = (xs: string[]) => xs.map((x) => `echo '${x}'`).join('\n');
  writeFileSync(
    bin,
    `#!/bin/sh
case "$2" in
  -version) echo '${versionLine}' ;;
  -hwaccels) echo 'Hardware acceleration methods:'
${lines(hwaccels)} ;;
  -decoders) echo 'Decoders:'
echo ' V..... = Video'
echo ' ------'
${lines(decoders.map((d) => ` V....D ${d}  some decoder`))} ;;
esac
exit ${exitCode}
`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

describe('ffmpeg check (this box’s real ffmpeg and ffprobe)', () => {
  it('reports the version, hwaccels and hardware decoder families as ffmpeg itself lists them', async () => {
    const real = realFfmpeg();
    const results = await checkFfmpeg(doctorConfig());
    expect(results).toEqual([
      {
        check: 'ffmpeg',
        verdict: 'pass',
        detail: `${real.version}; hwaccels: ${real.hwaccels.join(', ')}; hardware decoders: ${real.summary}`,
      },
      { check: 'ffprobe', verdict: 'pass', detail: real.probeVersion },
    ]);
  });

  it('gives one line per configured preset, naming its cameras; none and disabled cameras add nothing', async () => {
    const results = await checkFfmpeg(
      doctorConfig({
        cameras: [
          cam('a', 'cuda'),
          cam('b', 'none'),
          cam('c', 'cuda'),
          cam('d', 'vaapi', false),
          cam('e', 'jetson'),
        ],
      }),
    );
    expect(results.slice(2)).toEqual([
      {
        check: 'hwaccel',
        subject: 'cuda',
        verdict: 'pass',
        detail: '-hwaccel cuda available (cameras a, c); the camera check shows a device opens',
      },
      {
        check: 'hwaccel',
        subject: 'jetson',
        verdict: 'warn',
        detail: 'this ffmpeg has no Jetson decoders (*_nvv4l2dec, *_nvmpi): camera e decodes in software',
      },
    ]);
  });

  it('fails ffmpeg (and skips the presets) when FFMPEG_PATH points at nothing; ffprobe is checked alone', async () => {
    process.env.FFMPEG_PATH = '/nonexistent/ffmpeg';
    const results = await checkFfmpeg(doctorConfig({ cameras: [cam('a', 'cuda'), cam('b', 'jetson')] }));
    expect(results).toEqual([
      { check: 'ffmpeg', verdict: 'fail', detail: '/nonexistent/ffmpeg not found (PATH or FFMPEG_PATH)' },
      { check: 'ffprobe', verdict: 'pass', detail: realFfmpeg().probeVersion },
      { check: 'hwaccel', subject: 'cuda', verdict: 'skip', detail: 'ffmpeg did not run' },
      { check: 'hwaccel', subject: 'jetson', verdict: 'skip', detail: 'ffmpeg did not run' },
    ]);
  });

  it('fails ffprobe alone when FFPROBE_PATH points at nothing', async () => {
    process.env.FFPROBE_PATH = '/nonexistent/ffprobe';
    const [ffmpeg, ffprobe] = await checkFfmpeg(doctorConfig());
    expect(ffmpeg?.verdict).toBe('pass');
    expect(ffprobe).toEqual({
      check: 'ffprobe',
      verdict: 'fail',
      detail: '/nonexistent/ffprobe not found (PATH or FFPROBE_PATH)',
    });
  });
});

describe('ffmpeg check (stand-in binaries)', () => {
  const verdictOf = async (versionLine: string) => {
    process.env.FFMPEG_PATH = fakeFfmpeg(versionLine, [], []);
    return (await checkFfmpeg(doctorConfig()))[0]!;
  };

  it('needs release 5.1 or later; a build without a release number is let through', async () => {
    expect(await verdictOf('ffmpeg version 5.0.3 Copyright')).toEqual({
      check: 'ffmpeg',
      verdict: 'fail',
      detail: '5.0.3 is older than 5.1: the pipeline needs -fps_mode',
    });
    expect((await verdictOf('ffmpeg version 4.9 Copyright')).verdict).toBe('fail');
    expect((await verdictOf('ffmpeg version 5.1 Copyright')).verdict).toBe('pass');
    expect((await verdictOf('ffmpeg version n6.0 Copyright')).verdict).toBe('pass');
    expect((await verdictOf('ffmpeg version 10.0 Copyright')).verdict).toBe('pass');
    expect(await verdictOf('ffmpeg version N-113-gabcdef Copyright')).toEqual({
      check: 'ffmpeg',
      verdict: 'pass',
      detail: 'N-113-gabcdef; hwaccels: none; hardware decoders: none',
    });
  });

  it('counts hardware decoders by family and passes the Jetson preset with the decoders it found', async () => {
    process.env.FFMPEG_PATH = fakeFfmpeg(
      'ffmpeg version 6.0-l4t Copyright',
      ['cuda', 'vaapi'],
      ['h264', 'h264_nvv4l2dec', 'hevc_nvv4l2dec', 'mjpeg_nvmpi', 'h264_cuvid', 'libdav1d', 'foo_cuvid_x'],
    );
    const results = await checkFfmpeg(
      doctorConfig({ cameras: [cam('a', 'jetson'), cam('b', 'vaapi'), cam('c', 'cuda')] }),
    );
    expect(results[0]).toEqual({
      check: 'ffmpeg',
      verdict: 'pass',
      detail: '6.0-l4t; hwaccels: cuda, vaapi; hardware decoders: nvv4l2dec x2, nvmpi x1, cuvid x1',
    });
    expect(results.slice(2)).toEqual([
      {
        check: 'hwaccel',
        subject: 'jetson',
        verdict: 'pass',
        detail: 'h264_nvv4l2dec, hevc_nvv4l2dec, mjpeg_nvmpi (camera a)',
      },
      {
        check: 'hwaccel',
        subject: 'vaapi',
        ...(hasRenderNode
          ? { verdict: 'pass', detail: '-hwaccel vaapi on /dev/dri/renderD128 (camera b)' }
          : {
              verdict: 'fail',
              detail:
                '/dev/dri/renderD128 is missing (pass the device to the container?): camera b will not start',
            }),
      },
      {
        check: 'hwaccel',
        subject: 'cuda',
        verdict: 'pass',
        detail: '-hwaccel cuda available (camera c); the camera check shows a device opens',
      },
    ]);
  });

  it('fails cuda and vaapi presets on an ffmpeg without those hwaccels', async () => {
    process.env.FFMPEG_PATH = fakeFfmpeg('ffmpeg version 7.1 Copyright', ['vdpau'], []);
    const results = await checkFfmpeg(doctorConfig({ cameras: [cam('a', 'cuda'), cam('b', 'vaapi')] }));
    expect(results.slice(2)).toEqual([
      { check: 'hwaccel', subject: 'cuda', verdict: 'fail', detail: 'this ffmpeg has no cuda hwaccel: camera a will not start' }, // prettier-ignore
      { check: 'hwaccel', subject: 'vaapi', verdict: 'fail', detail: 'this ffmpeg has no vaapi hwaccel: camera b will not start' }, // prettier-ignore
    ]);
  });

  it('checks each preset against its own hwaccel', async () => {
    // vaapi without cuda: cuda fails; vaapi gets past the hwaccel to the device check
    process.env.FFMPEG_PATH = fakeFfmpeg('ffmpeg version 7.1 Copyright', ['vaapi'], []);
    const results = await checkFfmpeg(doctorConfig({ cameras: [cam('a', 'cuda'), cam('b', 'vaapi')] }));
    expect(results.slice(2).map((r) => [r.subject, r.verdict, r.detail.split(':')[0]])).toEqual([
      ['cuda', 'fail', 'this ffmpeg has no cuda hwaccel'],
      hasRenderNode
        ? ['vaapi', 'pass', '-hwaccel vaapi on /dev/dri/renderD128 (camera b)']
        : ['vaapi', 'fail', '/dev/dri/renderD128 is missing (pass the device to the container?)'],
    ]);
    // cuda without vaapi
    process.env.FFMPEG_PATH = fakeFfmpeg('ffmpeg version 7.1 Copyright', ['cuda'], []);
    const again = await checkFfmpeg(doctorConfig({ cameras: [cam('a', 'cuda'), cam('b', 'vaapi')] }));
    expect(again.slice(2).map((r) => [r.subject, r.verdict])).toEqual([
      ['cuda', 'pass'],
      ['vaapi', 'fail'],
    ]);
    expect(again[3]!.detail).toBe('this ffmpeg has no vaapi hwaccel: camera b will not start');
  });

  it('fails an ffmpeg that exits with an error, with the first line of why', async () => {
    process.env.FFMPEG_PATH = fakeFfmpeg('ffmpeg version 6.0', [], [], 1);
    const [ffmpeg] = await checkFfmpeg(doctorConfig({ cameras: [cam('a', 'cuda')] }));
    expect(ffmpeg).toMatchObject({
      check: 'ffmpeg',
      verdict: 'fail',
      detail: expect.stringMatching(/^Command failed: /),
    });
    expect(ffmpeg!.detail).not.toContain('\n');
  });
});
