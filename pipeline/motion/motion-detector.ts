import { MotionConfig, type MotionConfigInput } from '../../config/safety-schema.js';
import type { Box, Letterbox } from '../../models/types.js';
import { pointInPolygon } from '../safety/geometry.js';
import { GreyDownscaler } from './grey-frame.js';

export interface MotionResult {
  /** Enough cells moved. */
  moving: boolean;
  /** Most of the picture changed at once (lighting, camera moved): the background was relearnt. */
  sceneChange: boolean;
  movingCells: number;
  /** Share of unmasked pixels that differ from the background. */
  changed: number;
  /** Bounding box of the moving cells, source pixels; absent when nothing moved. */
  region?: Box;
}

/**
 * Background-subtraction motion detector on a small grey frame: a running average background with a time
 * constant (`backgroundS`, so the frame rate does not change what counts as still), a per-pixel
 * difference threshold, and cells that move when enough of their pixels changed. Whatever stops moving
 * fades into the background within seconds: a scene of people standing still is a still scene (they stay
 * tracked at the heartbeat rate). Masked regions (source-pixel polygons) never count.
 */
export class MotionDetector {
  readonly cfg: MotionConfig;
  private scaler: GreyDownscaler | undefined;
  private grey = new Uint8Array(0);
  private background = new Float32Array(0);
  /** Per grey pixel: its cell index, or -1 where masked. */
  private cellOf = new Int32Array(0);
  /** Unmasked pixels per cell. */
  private cellPixels = new Int32Array(0);
  private cellChanged = new Int32Array(0);
  private cols = 0;
  private unmasked = 0;
  private frames = 0;
  private lastTime = 0;

  constructor(cfg: MotionConfigInput = {}) {
    this.cfg = MotionConfig.parse(cfg);
  }

  /**
   * Compares one letterboxed frame with the background, then updates the background with it. `timeMs`:
   * the frame's scene time (frames must come in order); the background learns by elapsed time.
   */
  detect(data: Uint8Array, letterbox: Letterbox, timeMs: number): MotionResult {
    this.prepare(letterbox);
    const { cfg, grey, background, cellOf, cellChanged } = this;
    this.scaler!.fill(data, grey);
    const dt = Math.max(0, timeMs - this.lastTime);
    this.lastTime = timeMs;
    if (this.frames++ === 0) {
      for (let i = 0; i < grey.length; i++) background[i] = grey[i]!;
      return { moving: false, sceneChange: false, movingCells: 0, changed: 0 };
    }
    cellChanged.fill(0);
    let changed = 0;
    const alpha = 1 - Math.exp(-dt / (cfg.backgroundS * 1000));
    for (let i = 0; i < grey.length; i++) {
      const g = grey[i]!;
      const b = background[i]!;
      const d = g - b;
      const cell = cellOf[i]!;
      if ((d > cfg.pixelThreshold || -d > cfg.pixelThreshold) && cell >= 0) {
        changed++;
        cellChanged[cell]!++;
      }
      background[i] = b + alpha * d;
    }
    const share = this.unmasked ? changed / this.unmasked : 0;
    if (share > cfg.globalChange) {
      for (let i = 0; i < grey.length; i++) background[i] = grey[i]!;
      return { moving: true, sceneChange: true, movingCells: 0, changed: share };
    }
    let movingCells = 0;
    let minC = Infinity;
    let maxC = -Infinity;
    let minR = Infinity;
    let maxR = -Infinity;
    for (let c = 0; c < cellChanged.length; c++) {
      const px = this.cellPixels[c]!;
      if (!px || cellChanged[c]! / px <= cfg.cellThreshold) continue;
      movingCells++;
      const col = c % this.cols;
      const row = (c - col) / this.cols;
      minC = Math.min(minC, col);
      maxC = Math.max(maxC, col);
      minR = Math.min(minR, row);
      maxR = Math.max(maxR, row);
    }
    const moving = movingCells >= cfg.minCells;
    const result: MotionResult = { moving, sceneChange: false, movingCells, changed: share };
    if (movingCells) result.region = this.cellBox(minC, minR, maxC, maxR);
    return result;
  }

  /** (Re)builds the grey buffers, cell map and mask when the frame geometry is new. */
  private prepare(lb: Letterbox): void {
    const s = this.scaler?.letterbox;
    if (
      s &&
      s.inputWidth === lb.inputWidth &&
      s.inputHeight === lb.inputHeight &&
      s.srcWidth === lb.srcWidth &&
      s.srcHeight === lb.srcHeight &&
      s.padX === lb.padX &&
      s.padY === lb.padY
    )
      return;
    const scaler = new GreyDownscaler(lb, this.cfg.width);
    const { width, height } = scaler;
    const size = this.cfg.cellSize;
    this.cols = Math.ceil(width / size);
    const rows = Math.ceil(height / size);
    this.scaler = scaler;
    this.grey = new Uint8Array(width * height);
    this.background = new Float32Array(width * height);
    this.cellOf = new Int32Array(width * height);
    this.cellPixels = new Int32Array(this.cols * rows);
    this.cellChanged = new Int32Array(this.cols * rows);
    this.unmasked = 0;
    this.frames = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const masked = this.cfg.masks.some((poly) => pointInPolygon(scaler.toSource(x, y), poly));
        const cell = Math.floor(y / size) * this.cols + Math.floor(x / size);
        this.cellOf[i] = masked ? -1 : cell;
        if (!masked) {
          this.cellPixels[cell]!++;
          this.unmasked++;
        }
      }
    }
  }

  private cellBox(c0: number, r0: number, c1: number, r1: number): Box {
    const s = this.scaler!;
    const size = this.cfg.cellSize;
    const sx = s.letterbox.srcWidth / s.width;
    const sy = s.letterbox.srcHeight / s.height;
    return {
      x1: c0 * size * sx,
      y1: r0 * size * sy,
      x2: Math.min(s.width, (c1 + 1) * size) * sx,
      y2: Math.min(s.height, (r1 + 1) * size) * sy,
    };
  }
}
