import type { IncomingMessage, ServerResponse } from 'node:http';
import sharp from 'sharp';
import { imageToInputFrame } from '../../models/detect/image-input.js';
import { UnreadableImage } from '../../models/detect/raw-input.js';
import type { InputFrame } from '../../models/types.js';
import type { Detector } from '../../models/detect/detector.js';
import type { CameraConfig } from '../../config/schema.js';
import { annotationSvg } from './annotation-svg.js';
import { BodyTimeout, BodyTooLarge, formatBytes, readBody, send, sendError, sendJson } from './http-util.js';

export interface DetectLimits {
  /** Largest upload accepted (default 8 MiB). */
  maxBytes: number;
  /** Largest decoded image, pixels (default 40 MP): a small file can still decode to a huge picture. */
  maxPixels: number;
  /** A body not received whole within this is refused with 408 (`http.uploadTimeoutS`, default 10 s). */
  uploadTimeoutMs: number;
  /** Uploads being received at once, all models together (default 4): each may hold `maxBytes` in memory. */
  maxReceiving: number;
}

export const defaultDetectLimits: DetectLimits = {
  maxBytes: 8 * 1024 * 1024,
  maxPixels: 40_000_000,
  uploadTimeoutMs: 10_000,
  maxReceiving: 4,
};

/** Annotated pictures the API returns are at most this wide. */
const maxJpegWidth = 1280;
const unreadable = 'not an image that can be decoded (send JPEG, PNG, WebP, GIF or TIFF bytes)';
const r1 = (v: number) => Math.round(v * 10) / 10;

/**
 * `POST /api/detect[?model=ID][&format=json|jpeg]`: an image in the body → its detections, or the image
 * annotated. Runs on the model's own pool with key `api`, at most one upload per model at a time (429
 * otherwise), so a person testing a picture costs the cameras at most one queued inference. The body is
 * read whole, within `uploadTimeoutMs`, before the model's slot is taken: a slow or stalled client holds
 * only its own connection (and one of `maxReceiving`), never the model.
 */
/**
 * The model `/api/detect` runs without `?model=`: that of the first enabled camera (config order) whose model
 * is loaded, else any loaded one. Not the first in the detectors map: a model loaded late (a retry, a fleet
 * push) joins the map at its end, and the map's order is the models section's, not the cameras'.
 */
export function defaultDetectModel(
  cameras: readonly Pick<CameraConfig, 'enabled' | 'model'>[],
  detectors: ReadonlyMap<string, unknown>,
): string | undefined {
  return cameras.find((c) => c.enabled && detectors.has(c.model))?.model ?? detectors.keys().next().value;
}

export class DetectEndpoint {
  private readonly busy = new Set<string>();
  private receiving = 0;

  constructor(
    private readonly detectors: ReadonlyMap<string, Detector>,
    private readonly limits: DetectLimits = defaultDetectLimits,
    private readonly onError: (message: string) => void = () => {},
    /** The model an upload without `?model=` goes to (web-service: defaultDetectModel); absent: the first loaded. */
    private readonly defaultModel: () => string | undefined = () => detectors.keys().next().value,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const modelId = url.searchParams.get('model') ?? this.defaultModel();
    const detector = modelId === undefined ? undefined : this.detectors.get(modelId);
    if (!detector || modelId === undefined) {
      return this.refuse(
        req,
        res,
        404,
        // Not "unknown": the id may be a configured model that failed to load (its reason is on /api/status).
        `model "${modelId ?? ''}" is not loaded (loaded: ${[...this.detectors.keys()].join(', ') || 'none'})`,
      );
    }
    const format = url.searchParams.get('format') ?? 'json';
    if (format !== 'json' && format !== 'jpeg')
      return this.refuse(req, res, 400, 'format must be json or jpeg');
    if (/^multipart\//i.test(req.headers['content-type'] ?? '')) {
      return this.refuse(
        req,
        res,
        415,
        'send the image bytes as the body (curl --data-binary @image.jpg), not a multipart form',
      );
    }
    // Refused before its body is read, when it can be: a client retrying in a loop costs a header, not an upload.
    if (this.busy.has(modelId))
      return this.refuse(req, res, 429, busyReason(modelId), { 'Retry-After': '1' });
    if (this.receiving >= this.limits.maxReceiving) {
      return this.refuse(req, res, 429, 'too many uploads being received at once; try again shortly', {
        'Retry-After': '1',
      });
    }
    let body: Buffer;
    this.receiving++;
    try {
      body = await readBody(req, res, this.limits.maxBytes, this.limits.uploadTimeoutMs);
    } catch (err) {
      if (err instanceof BodyTooLarge)
        return this.refuse(req, res, 413, `${err.message}; send at most ${formatBytes(err.limit)}`);
      if (err instanceof BodyTimeout)
        return this.refuse(req, res, 408, `${err.message} (http.uploadTimeoutS); send it faster or smaller`);
      // The client went away mid-upload: no one to answer, and no error of the agent's to report.
      res.destroy();
      return;
    } finally {
      this.receiving--;
    }
    if (this.busy.has(modelId))
      return this.refuse(req, res, 429, busyReason(modelId), { 'Retry-After': '1' });
    this.busy.add(modelId);
    try {
      if (body.length === 0) return sendError(res, 400, 'empty body: send an image (JPEG, PNG, WebP, …)');
      let meta: sharp.Metadata;
      try {
        // Only the header is read here: lift sharp's own pixel limit so a bomb beyond it gets the 413 below.
        meta = await sharp(body, { limitInputPixels: false }).metadata();
      } catch {
        return sendError(res, 415, unreadable);
      }
      if (!meta.width || !meta.height) return sendError(res, 415, 'not an image: no dimensions');
      // Pictures only: an SVG (or a PDF) is a program for librsvg to run, at whatever cost it asks for.
      if (!pictureFormats.includes(meta.format))
        return sendError(res, 415, `${meta.format} is not accepted: send a JPEG, PNG, WebP, GIF or TIFF`);
      if (meta.width * meta.height > this.limits.maxPixels) {
        return sendError(
          res,
          413,
          `image of ${meta.width}×${meta.height} is over ${this.limits.maxPixels / 1e6} megapixels`,
        );
      }
      let frame: InputFrame;
      try {
        frame = await imageToInputFrame(body, detector.info.input);
      } catch (err) {
        // A header that reads but pixels that do not (a truncated JPEG) is the client's fault, not ours.
        if (err instanceof UnreadableImage) return sendError(res, 415, `${unreadable}: ${err.message}`);
        throw err;
      }
      const result = await detector.detect(frame, 'api');
      const { srcWidth, srcHeight } = frame.letterbox;
      if (format === 'json') {
        return sendJson(res, 200, {
          model: modelId,
          provider: detector.info.provider,
          image: { width: srcWidth, height: srcHeight },
          inferenceMs: r1(result.inferenceMs),
          queueMs: r1(result.queueMs),
          detections: result.detections.map((d) => ({
            label: d.label,
            classId: d.classId,
            score: Math.round(d.score * 1000) / 1000,
            box: { x1: r1(d.box.x1), y1: r1(d.box.y1), x2: r1(d.box.x2), y2: r1(d.box.y2) },
          })),
        });
      }
      const width = Math.min(srcWidth, maxJpegWidth);
      const height = Math.max(1, Math.round((srcHeight * width) / srcWidth));
      const svg = annotationSvg(width, height, result.detections, width / srcWidth);
      const jpeg = await sharp(body)
        .rotate()
        .removeAlpha()
        .toColourspace('srgb')
        .resize(width, height, { fit: 'fill' })
        .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
        .jpeg({ quality: 85 })
        .toBuffer();
      send(res, 200, jpeg, 'image/jpeg', { 'Cache-Control': 'no-store' });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.onError(`detect API: ${message}`);
      sendError(res, 500, `detection failed: ${message}`);
    } finally {
      this.busy.delete(modelId);
    }
  }

  /** Answers before the body is read, then closes the connection instead of swallowing the upload. */
  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    code: number,
    reason: string,
    headers: Record<string, string> = {},
  ): void {
    const complete = req.readableEnded;
    sendError(res, code, reason, complete ? headers : { ...headers, Connection: 'close' });
    if (!complete) res.once('finish', () => req.destroy());
  }
}

const pictureFormats: readonly string[] = ['jpeg', 'png', 'webp', 'gif', 'tiff'];

const busyReason = (modelId: string) =>
  `an upload is already being processed on model "${modelId}"; try again shortly`;
