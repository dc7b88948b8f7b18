import type { CameraConfig } from '../../config/schema.js';
import { ffmpegDecodersSync } from './ffmpeg.js';

export type HwaccelPreset = CameraConfig['hwaccel'];

/** What a preset turns into for one stream. */
export interface HwaccelPlan {
  /** ffmpeg arguments placed before `-i`. */
  args: string[];
  /** The hardware decoder or hwaccel method in use; absent when decoding in software. */
  decoder?: string;
  /** Why a hardware preset decodes in software for this stream (shown by `vigil doctor`). */
  fallback?: string;
}

/**
 * Jetson decoders by the codec name ffprobe reports, best first: NVIDIA's L4T ffmpeg calls them
 * `*_nvv4l2dec`, the jetson-ffmpeg (libnvmpi) patches `*_nvmpi`. Both drive the NVDEC engine through
 * V4L2, so whichever this ffmpeg has is as good.
 */
export const jetsonDecoders: Record<string, readonly string[]> = {
  h264: ['h264_nvv4l2dec', 'h264_nvmpi'],
  hevc: ['hevc_nvv4l2dec', 'hevc_nvmpi'],
  vp8: ['vp8_nvv4l2dec', 'vp8_nvmpi'],
  vp9: ['vp9_nvv4l2dec', 'vp9_nvmpi'],
  mpeg4: ['mpeg4_nvv4l2dec', 'mpeg4_nvmpi'],
  mpeg2video: ['mpeg2_nvv4l2dec', 'mpeg2_nvmpi'],
  av1: ['av1_nvv4l2dec'],
  mjpeg: ['mjpeg_nvmpi'],
};

/** The render node the vaapi preset opens (the first GPU; a box with two sets it up by hand). */
export const vaapiDevice = '/dev/dri/renderD128';

/**
 * Decode arguments per hardware preset. Frames always come back to system memory (no
 * `-hwaccel_output_format`), because the filter chain scales, pads and pipes raw pixels on the CPU:
 * what a preset buys is the decode itself, usually the costliest step for H.264/HEVC at 1080p.
 * - cuda: desktop NVIDIA GPUs through NVDEC (`-hwaccel cuda`); ffmpeg fails if no device opens.
 * - vaapi: Intel/AMD iGPUs; likewise fails without the render node.
 * - jetson: Jetson has no `-hwaccel` method for its NVDEC; a decoder is picked by codec instead. When
 *   this ffmpeg has none for the codec (MJPEG on nvv4l2dec, a stock ffmpeg), the stream is decoded in
 *   software rather than not at all, and `fallback` says so.
 *
 * `available` is the set of decoder names of the ffmpeg that will run; by default it is asked once.
 */
export function planHwaccel(
  preset: HwaccelPreset,
  codec?: string,
  available?: ReadonlySet<string>,
): HwaccelPlan {
  switch (preset) {
    case 'none':
      return { args: [] };
    case 'cuda':
      return { args: ['-hwaccel', 'cuda'], decoder: 'cuda' };
    case 'vaapi':
      return { args: ['-hwaccel', 'vaapi', '-hwaccel_device', vaapiDevice], decoder: 'vaapi' };
    case 'jetson': {
      if (!codec) return { args: [], fallback: 'codec unknown: decoding in software' };
      const candidates = jetsonDecoders[codec];
      if (!candidates)
        return { args: [], fallback: `no Jetson hardware decoder for ${codec}: decoding in software` };
      const have = available ?? ffmpegDecodersSync();
      const decoder = candidates.find((d) => have.has(d));
      if (!decoder) {
        return {
          args: [],
          fallback: `this ffmpeg has no ${candidates.join(' or ')}: decoding ${codec} in software`,
        };
      }
      return { args: ['-c:v', decoder], decoder };
    }
  }
}

/** Just the arguments (see planHwaccel). */
export function hwaccelArgs(
  preset: HwaccelPreset,
  codec?: string,
  available?: ReadonlySet<string>,
): string[] {
  return planHwaccel(preset, codec, available).args;
}
