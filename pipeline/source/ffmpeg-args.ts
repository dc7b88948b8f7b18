import type { CameraConfig } from '../../config/schema.js';
import type { InputSpec, Letterbox } from '../../models/types.js';
import { hwaccelArgs } from './hwaccel.js';
import type { ProbeInfo } from './probe.js';
import type { SourceKind } from './source-kinds.js';

/**
 * The filter chain that makes ffmpeg hand over model-ready pixels: rate limit, scale to the letterbox's
 * exact integer size, pad with the family's grey where the family pads, and log each frame's pts
 * (showinfo) so results can point back into the source.
 */
export function frameFilter(camera: CameraConfig, lb: Letterbox, spec: InputSpec): string {
  const pad = spec.padValue.toString(16).padStart(2, '0');
  const steps = [
    ...(camera.fps ? [`fps=${camera.fps}`] : []),
    `scale=${lb.scaledWidth}:${lb.scaledHeight}:flags=bilinear`,
    `pad=${lb.inputWidth}:${lb.inputHeight}:${lb.padX}:${lb.padY}:color=0x${pad}${pad}${pad}`,
    // No per-plane checksums: they cost about 1 ms of CPU per 768×576 frame and nobody reads them.
    'showinfo=checksum=0',
  ];
  return steps.join(',');
}

export interface FfmpegPlan {
  input: string;
  inputArgs: string[];
  outputArgs: string[];
  frameBytes: number;
}

export function planFfmpeg(
  camera: CameraConfig,
  kind: SourceKind,
  probe: ProbeInfo,
  lb: Letterbox,
  spec: InputSpec,
): FfmpegPlan {
  return {
    input: kind.input(camera),
    inputArgs: [
      '-nostdin',
      '-nostats',
      '-loglevel',
      'info',
      ...hwaccelArgs(camera.hwaccel, probe.codec),
      ...kind.inputArgs(camera),
    ],
    outputArgs: [
      '-an',
      '-sn',
      '-vf',
      frameFilter(camera, lb, spec),
      '-fps_mode',
      'passthrough',
      '-pix_fmt',
      spec.pixelOrder === 'bgr' ? 'bgr24' : 'rgb24',
      '-f',
      'rawvideo',
    ],
    frameBytes: lb.inputWidth * lb.inputHeight * 3,
  };
}
