import { describe, expect, it } from 'vitest';
import { CameraConfig } from '../../../config/schema.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { InputSpec } from '../../../models/types.js';
import { planFfmpeg } from '../../../pipeline/source/ffmpeg-args.js';
import {
  ffmpegDecodersSync,
  parseDecoders,
  parseHwaccels,
  parseVersion,
} from '../../../pipeline/source/ffmpeg.js';
import { hwaccelArgs, jetsonDecoders, planHwaccel } from '../../../pipeline/source/hwaccel.js';
import { sourceKindOf } from '../../../pipeline/source/source-kinds.js';
import { familyInput } from '../../../models/detect/families.js';

const l4t = new Set(['h264', 'hevc', 'h264_nvv4l2dec', 'hevc_nvv4l2dec', 'vp9_nvv4l2dec']);
const nvmpi = new Set(['h264', 'h264_nvmpi', 'hevc_nvmpi', 'mjpeg_nvmpi']);
const stock = new Set(['h264', 'hevc', 'h264_cuvid', 'h264_v4l2m2m']);

describe('hwaccel presets -> ffmpeg arguments', () => {
  it('none decodes in software with no arguments', () => {
    expect(planHwaccel('none', 'h264', stock)).toEqual({ args: [] });
  });

  it('cuda and vaapi use ffmpeg hwaccel methods whatever the codec', () => {
    expect(hwaccelArgs('cuda', 'hevc', stock)).toEqual(['-hwaccel', 'cuda']);
    expect(hwaccelArgs('vaapi', 'h264', stock)).toEqual([
      '-hwaccel',
      'vaapi',
      '-hwaccel_device',
      '/dev/dri/renderD128',
    ]);
    // hwaccel methods leave frames in system memory: no -hwaccel_output_format, the CPU filters need them
    expect(hwaccelArgs('cuda', 'h264')).not.toContain('-hwaccel_output_format');
  });

  it('jetson picks the L4T decoder by codec', () => {
    expect(planHwaccel('jetson', 'h264', l4t)).toEqual({
      args: ['-c:v', 'h264_nvv4l2dec'],
      decoder: 'h264_nvv4l2dec',
    });
    expect(hwaccelArgs('jetson', 'hevc', l4t)).toEqual(['-c:v', 'hevc_nvv4l2dec']);
  });

  it('jetson picks the nvmpi decoder on a jetson-ffmpeg build', () => {
    expect(hwaccelArgs('jetson', 'h264', nvmpi)).toEqual(['-c:v', 'h264_nvmpi']);
    expect(hwaccelArgs('jetson', 'mjpeg', nvmpi)).toEqual(['-c:v', 'mjpeg_nvmpi']);
  });

  it('jetson prefers nvv4l2dec when an ffmpeg has both', () => {
    expect(hwaccelArgs('jetson', 'h264', new Set([...l4t, ...nvmpi]))).toEqual(['-c:v', 'h264_nvv4l2dec']);
  });

  it('jetson falls back to software, and says why, for a codec NVDEC does not take', () => {
    expect(planHwaccel('jetson', 'msmpeg4v3', l4t)).toEqual({
      args: [],
      fallback: 'no Jetson hardware decoder for msmpeg4v3: decoding in software',
    });
    expect(planHwaccel('jetson', 'mjpeg', l4t).args).toEqual([]);
  });

  it('jetson falls back to software on an ffmpeg without Jetson decoders', () => {
    expect(planHwaccel('jetson', 'h264', stock)).toEqual({
      args: [],
      fallback: 'this ffmpeg has no h264_nvv4l2dec or h264_nvmpi: decoding h264 in software',
    });
  });

  it('jetson without a known codec decodes in software', () => {
    expect(planHwaccel('jetson', undefined, l4t)).toMatchObject({
      args: [],
      fallback: expect.stringMatching(/codec unknown/),
    });
  });

  it('jetson asks the installed ffmpeg when not told (this one has no Jetson decoders)', () => {
    const installed = ffmpegDecodersSync();
    expect(installed.has('h264')).toBe(true);
    expect(hwaccelArgs('jetson', 'h264')).toEqual([]);
  });

  it('every Jetson decoder name is one of the two known families', () => {
    for (const names of Object.values(jetsonDecoders)) {
      for (const name of names) expect(name).toMatch(/^[a-z0-9]+_(nvv4l2dec|nvmpi)$/);
    }
  });

  it('the preset lands before -i, after the common input options, in the pipeline plan', () => {
    const spec: InputSpec = { width: 320, height: 320, ...familyInput.yolov8 };
    const camera = CameraConfig.parse({ id: 'c', source: 'rtsp://cam/1', model: 'm', hwaccel: 'cuda' });
    const probe = { width: 1920, height: 1080, codec: 'h264', fps: 25, duration: null };
    const plan = planFfmpeg(
      camera,
      sourceKindOf(camera.source),
      probe,
      computeLetterbox(1920, 1080, spec),
      spec,
    );
    expect(plan.inputArgs.slice(0, 6)).toEqual([
      '-nostdin',
      '-nostats',
      '-loglevel',
      'info',
      '-hwaccel',
      'cuda',
    ]);
  });
});

describe('parsing ffmpeg capability output', () => {
  it('reads decoder names past the legend', () => {
    const text = [
      'Decoders:',
      ' V..... = Video',
      ' A..... = Audio',
      ' ------',
      ' V....D h264                 H.264 / AVC',
      ' V..... h264_nvv4l2dec       NVIDIA V4L2 H.264 decoder',
      ' A....D aac                  AAC',
      '',
    ].join('\n');
    expect(parseDecoders(text)).toEqual(['h264', 'h264_nvv4l2dec', 'aac']);
  });

  it('reads hwaccel methods', () => {
    expect(parseHwaccels('Hardware acceleration methods:\nvdpau\ncuda\nvaapi\n\n')).toEqual([
      'vdpau',
      'cuda',
      'vaapi',
    ]);
  });

  it('reads release numbers from distro, release and git version strings', () => {
    expect(parseVersion('ffmpeg version 5.1.9-0+deb12u1 Copyright (c)')).toEqual({
      version: '5.1.9-0+deb12u1',
      release: [5, 1],
    });
    expect(parseVersion('ffmpeg version n7.1.1 Copyright')).toEqual({ version: 'n7.1.1', release: [7, 1] });
    expect(parseVersion('ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright')).toMatchObject({
      release: [4, 4],
    });
    expect(parseVersion('ffmpeg version N-113245-gabcdef Copyright')).toEqual({
      version: 'N-113245-gabcdef',
    });
  });
});
