import path from 'node:path';
import type { Page } from 'playwright-core';
import { startPageAgent } from '../support/page-agent.js';
import { repoRoot } from '../support/shared.js';

// What status-page.test.ts and status-page-auth.test.ts share, and how status-page.test.ts reads a tile's
// picture back from the browser.

/** The browser globals the in-page functions below touch (this project's TypeScript has no DOM lib). */
export interface PageImage {
  naturalWidth: number;
  naturalHeight: number;
  dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    drawImage(img: PageImage, x: number, y: number): void;
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
declare const document: {
  querySelector(selector: string): PageImage | null;
  createElement(tag: 'canvas'): PageCanvas;
};

/** Screenshots land here (git-ignored): test-artifacts/status-page/*.png. */
export const artefacts = path.join(repoRoot, 'test-artifacts', 'status-page');
/** Waits on the page's live updates: generous, for a loaded machine. */
export const patient = { timeout: 20_000, interval: 250 };

export const startWithPage = (cameras: object[], auth?: object) => startPageAgent({ cameras, auth });

/** Pixels within a small distance of an #rrggbb colour (the box colour of a label), as a share of all. */
export function nearShare(pixels: ArrayLike<number>, stride: number, hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  let n = 0;
  for (let i = 0; i + 2 < pixels.length; i += stride) {
    const d = Math.abs(pixels[i]! - r) + Math.abs(pixels[i + 1]! - g) + Math.abs(pixels[i + 2]! - b);
    if (d < 60) n++;
  }
  return n / (pixels.length / stride);
}

export interface Shown {
  frame: number;
  /** Share of pixels in the label's box colour. */
  boxShare: number;
  /** Mean brightness of a 16×16 grid over the picture: enough to tell two frames apart. */
  grid: number[];
}

/** The tile's picture as the browser shows it, read back through a canvas (summarised in the page). */
export async function shown(page: Page, camera: string, colour: string): Promise<Shown> {
  const { frame, rgba, w, h } = await page.evaluate((id) => {
    const img = document.querySelector(`.tile[data-camera="${id}"] img`)!;
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    // Base64 rather than a number array: a 640×480 picture crosses the protocol in a blink.
    let bin = '';
    for (let i = 0; i < data.length; i += 0x8000) bin += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return { frame: Number(img.dataset.frame), rgba: btoa(bin), w: canvas.width, h: canvas.height };
  }, camera);
  const px = Buffer.from(rgba, 'base64');
  const grid = new Array<number>(256).fill(0);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const k = (y * w + x) * 4;
      grid[Math.floor((y * 16) / h) * 16 + Math.floor((x * 16) / w)]! += px[k]! + px[k + 1]! + px[k + 2]!;
    }
  const cell = (w / 16) * (h / 16) * 3;
  return { frame, boxShare: nearShare(px, 4, colour), grid: grid.map((v) => v / cell) };
}
