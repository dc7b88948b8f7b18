import sharp from 'sharp';
import type { InputSpec } from '../../models/types.js';
import type { DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';
import { FrameAnnotator } from './frame-annotator.js';
import type { SnapshotGeometry } from './zone-overlay.js';

export interface Snapshot {
  jpeg: Buffer;
  frameNo: number;
  ts: number;
  width: number;
  height: number;
}

export interface SnapshotRendererOptions {
  /** A camera is rendered at most once per this interval; requests in between get the cached JPEG. */
  minIntervalMs?: number;
  /** Widest picture served; wider frames are scaled down. */
  maxWidth?: number;
  /**
   * Smaller model frames are scaled up to this width (never past the source's own). Default 0: the picture
   * is the model's own pixels and the browser scales it; an upscale in libvips cost 3× the render here.
   */
  minWidth?: number;
  quality?: number;
  now?: () => number;
}

interface CameraCache {
  snapshot?: Snapshot;
  renderedAt: number;
  inFlight?: Promise<Snapshot | undefined>;
}

/**
 * Annotated JPEGs of each camera's latest processed frame, rendered only when someone asks (the hot path
 * pays nothing) and at most about once a second per camera however many people watch.
 * The event's frame is at model size and letterboxed: the picture is the scaled source region cut out of
 * it (the pixels the model saw), in RGB, with boxes and labels drawn in by FrameAnnotator, then JPEG-encoded.
 */
export class SnapshotRenderer {
  private readonly cache = new Map<string, CameraCache>();
  private readonly annotator = new FrameAnnotator();
  /** Frames whose pixels were gone (transferred to a worker and not handed back): the last JPEG stayed. */
  detachedSkips = 0;
  rendered = 0;
  private readonly minIntervalMs: number;
  private readonly maxWidth: number;
  private readonly minWidth: number;
  private readonly quality: number;
  private readonly now: () => number;

  constructor(opts: SnapshotRendererOptions = {}) {
    this.minIntervalMs = opts.minIntervalMs ?? 1000;
    this.maxWidth = opts.maxWidth ?? 960;
    this.minWidth = opts.minWidth ?? 0;
    this.quality = opts.quality ?? 80;
    // Monotonic: on the wall clock a step back froze the snapshot for as long as the step.
    this.now = opts.now ?? (() => performance.now());
  }

  /** The camera's snapshot for `event` (its latest), or the cached one; undefined if none can be made. */
  async snapshot(event: DetectionEvent, pixelOrder: InputSpec['pixelOrder']): Promise<Snapshot | undefined> {
    let c = this.cache.get(event.camera);
    if (!c) this.cache.set(event.camera, (c = { renderedAt: -Infinity }));
    if (c.inFlight) return c.inFlight;
    const fresh =
      c.snapshot && (c.snapshot.frameNo === event.frameNo || this.now() - c.renderedAt < this.minIntervalMs);
    if (fresh) return c.snapshot;
    const { letterbox: lb, data } = event.frame;
    if (data.byteLength !== lb.inputWidth * lb.inputHeight * 3) {
      this.detachedSkips++;
      return c.snapshot;
    }
    const cache = c;
    cache.renderedAt = this.now();
    // Copied now, synchronously: the agent reads a later frame into these bytes once the next one is processed
    // (frame recycling), possibly while libvips would still read them. In the common case (the model's own
    // pixels, RGB) only the picture's rows are copied, and that copy is the picture.
    const direct = this.geometry(lb).width === lb.scaledWidth && pixelOrder === 'rgb';
    const pixels = direct ? cropRows(data, lb) : Buffer.from(data);
    cache.inFlight = this.render(event, pixels, direct ? 'picture' : 'letterbox', pixelOrder)
      .then((s) => (cache.snapshot = s))
      .finally(() => (cache.inFlight = undefined));
    return cache.inFlight;
  }

  /** Where a frame with this letterbox lands in its snapshot: the crop and the JPEG's size (zone overlay). */
  geometry(lb: DetectionEvent['frame']['letterbox']): SnapshotGeometry {
    const width = Math.min(lb.srcWidth, Math.max(lb.scaledWidth, this.minWidth), this.maxWidth);
    const height = Math.max(1, Math.round((lb.scaledHeight * width) / lb.scaledWidth));
    return {
      crop: { left: lb.padX, top: lb.padY, width: lb.scaledWidth, height: lb.scaledHeight },
      width,
      height,
    };
  }

  /** Cameras with a cached snapshot. */
  get cameras(): string[] {
    return [...this.cache.keys()];
  }

  forget(camera: string): void {
    this.cache.delete(camera);
  }

  /** `pixels` is either the picture itself (RGB, cropped) or a copy of the whole letterboxed frame. */
  private async render(
    event: DetectionEvent,
    pixels: Buffer,
    holds: 'picture' | 'letterbox',
    pixelOrder: InputSpec['pixelOrder'],
  ): Promise<Snapshot> {
    const lb = event.frame.letterbox;
    const { width, height } = this.geometry(lb);
    let rgb: Buffer;
    if (holds === 'picture') {
      rgb = pixels;
    } else {
      let img = sharp(pixels, { raw: { width: lb.inputWidth, height: lb.inputHeight, channels: 3 } }).extract(
        {
          left: lb.padX,
          top: lb.padY,
          width: lb.scaledWidth,
          height: lb.scaledHeight,
        },
      );
      if (pixelOrder === 'bgr')
        img = img.recomb([
          [0, 0, 1],
          [0, 1, 0],
          [1, 0, 0],
        ]);
      if (width !== lb.scaledWidth) img = img.resize(width, height, { fit: 'fill' });
      rgb = await img.raw().toBuffer();
    }
    await this.annotator.draw(rgb, width, height, event.result.detections, width / lb.srcWidth);
    const jpeg = await sharp(rgb, { raw: { width, height, channels: 3 } })
      // No Huffman-table optimisation: it doubles the encode's CPU for ~5 % fewer bytes on a local network.
      .jpeg({ quality: this.quality, optimiseCoding: false })
      .toBuffer();
    this.rendered++;
    return { jpeg, frameNo: event.frameNo, ts: event.ts, width, height };
  }
}

/**
 * The scaled source region of a letterboxed RGB frame, as its own packed picture. TypedArray.set, not
 * Buffer.copy: a quarter of the CPU per row here (no crossing into C++ per call).
 */
function cropRows(pixels: Uint8Array, lb: DetectionEvent['frame']['letterbox']): Buffer {
  const row = lb.scaledWidth * 3;
  const out = Buffer.allocUnsafe(row * lb.scaledHeight);
  if (lb.scaledWidth === lb.inputWidth) {
    // No side bars: the picture's rows are one contiguous block.
    const from = lb.padY * row;
    out.set(pixels.subarray(from, from + out.length));
    return out;
  }
  for (let y = 0; y < lb.scaledHeight; y++) {
    const from = ((lb.padY + y) * lb.inputWidth + lb.padX) * 3;
    out.set(pixels.subarray(from, from + row), y * row);
  }
  return out;
}
