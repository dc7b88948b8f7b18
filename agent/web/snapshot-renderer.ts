import sharp from 'sharp';
import type { InputSpec } from '../../models/types.js';
import type { DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';
import { annotationSvg } from './annotation-svg.js';

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
  /** Smaller model frames are scaled up to this width (never past the source's own), for legible labels. */
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
 * it (the pixels the model saw), in RGB, with the boxes and labels composited as SVG.
 */
export class SnapshotRenderer {
  private readonly cache = new Map<string, CameraCache>();
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
    this.minWidth = opts.minWidth ?? 640;
    this.quality = opts.quality ?? 80;
    this.now = opts.now ?? Date.now;
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
    // Copied: another service may transfer these bytes to its own worker while libvips reads them.
    const pixels = Buffer.from(data);
    cache.inFlight = this.render(event, pixels, pixelOrder)
      .then((s) => (cache.snapshot = s))
      .finally(() => (cache.inFlight = undefined));
    return cache.inFlight;
  }

  forget(camera: string): void {
    this.cache.delete(camera);
  }

  private async render(
    event: DetectionEvent,
    pixels: Buffer,
    pixelOrder: InputSpec['pixelOrder'],
  ): Promise<Snapshot> {
    const lb = event.frame.letterbox;
    // The pixels the model saw, but at least ~640 wide (a 320 px model's frame upscaled) so labels stay legible.
    const width = Math.min(lb.srcWidth, Math.max(lb.scaledWidth, this.minWidth), this.maxWidth);
    const height = Math.max(1, Math.round((lb.scaledHeight * width) / lb.scaledWidth));
    let img = sharp(pixels, { raw: { width: lb.inputWidth, height: lb.inputHeight, channels: 3 } }).extract({
      left: lb.padX,
      top: lb.padY,
      width: lb.scaledWidth,
      height: lb.scaledHeight,
    });
    if (pixelOrder === 'bgr')
      img = img.recomb([
        [0, 0, 1],
        [0, 1, 0],
        [1, 0, 0],
      ]);
    if (width !== lb.scaledWidth) img = img.resize(width, height, { fit: 'fill' });
    const svg = annotationSvg(width, height, event.result.detections, width / lb.srcWidth);
    const jpeg = await img
      .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
      .jpeg({ quality: this.quality })
      .toBuffer();
    this.rendered++;
    return { jpeg, frameNo: event.frameNo, ts: event.ts, width, height };
  }
}
