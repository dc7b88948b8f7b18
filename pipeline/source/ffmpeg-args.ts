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
export function frameFilter(
  camera: CameraConfig,
  lb: Letterbox,
  spec: InputSpec,
  opts: { arrivalTime?: boolean } = {},
): string {
  const pad = spec.padValue.toString(16).padStart(2, '0');
  const steps = [
    ...(opts.arrivalTime ? [arrivalTime] : []),
    ...(camera.fps ? [rateLimit(camera.fps)] : []),
    `scale=${lb.scaledWidth}:${lb.scaledHeight}:flags=bilinear`,
    `pad=${lb.inputWidth}:${lb.inputHeight}:${lb.padX}:${lb.padY}:color=0x${pad}${pad}${pad}`,
    // No per-plane checksums: they cost about 1 ms of CPU per 768×576 frame and nobody reads them.
    'showinfo=checksum=0',
  ];
  return steps.join(',');
}

/**
 * At most `fps` frames a second: the first frame of each 1/fps slot of source time, each frame once. Not
 * ffmpeg's fps filter, which makes a constant rate: it copies frames to fill a slower source or a gap (a
 * 10 fps camera with fps 25 handed 2.5 copies of each frame to inference). A frame without a time passes.
 */
function rateLimit(fps: number): string {
  const slot = (t: string) => `floor(${t}*${fps}+1e-6)`;
  return `select=gte(isnan(t)+isnan(prev_selected_t)+gt(${slot('t')}\\,${slot('prev_selected_t')})\\,1)`;
}

/**
 * Frames stamped with when they came (ms since ffmpeg started) instead of their own pts. MJPEG over HTTP
 * carries no timestamps: ffmpeg numbers its frames as if at 25 fps, so a 10 fps camera's pts ran at 0.4×
 * real time and `fps: 2` handed on 0.8 frames a second (measured).
 */
const arrivalTime = 'settb=1/1000,setpts=(RTCTIME-RTCSTART)/1000';

/** A source whose frames have no timestamps of their own: an MJPEG stream over HTTP. */
export function needsArrivalTime(kind: SourceKind, probe: ProbeInfo): boolean {
  return kind.name === 'http' && probe.codec === 'mjpeg';
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
      frameFilter(camera, lb, spec, { arrivalTime: needsArrivalTime(kind, probe) }),
      '-fps_mode',
      'passthrough',
      '-pix_fmt',
      spec.pixelOrder === 'bgr' ? 'bgr24' : 'rgb24',
      // One output thread: with ffmpeg 5.1's default, each raw frame came out only once the next one had
      // been filtered, a frame late (measured). At 10 fps that is 100 ms; the PM2.5 side stream (a frame
      // per 20 s, keyframes only) missed its 20 s connect deadline with its first frame.
      '-threads',
      '1',
      '-f',
      'rawvideo',
    ],
    frameBytes: lb.inputWidth * lb.inputHeight * 3,
  };
}
