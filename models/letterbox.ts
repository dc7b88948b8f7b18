import type { Box, InputSpec, Letterbox } from './types.js';

/**
 * The letterbox each family was trained with. Ultralytics: scale to fit, round the scaled size, split the
 * padding in two (its `round(d ± 0.1)` rule); YOLOX: scale to fit, floor the size, pad right and bottom.
 */
export function computeLetterbox(
  srcWidth: number,
  srcHeight: number,
  spec: Pick<InputSpec, 'width' | 'height' | 'padPosition'>,
): Letterbox {
  const r = Math.min(spec.width / srcWidth, spec.height / srcHeight);
  if (spec.padPosition === 'top-left') {
    const scaledWidth = Math.max(1, Math.min(spec.width, Math.floor(srcWidth * r)));
    const scaledHeight = Math.max(1, Math.min(spec.height, Math.floor(srcHeight * r)));
    return {
      srcWidth,
      srcHeight,
      inputWidth: spec.width,
      inputHeight: spec.height,
      scaledWidth,
      scaledHeight,
      padX: 0,
      padY: 0,
    };
  }
  const scaledWidth = Math.max(1, Math.min(spec.width, roundHalfEven(srcWidth * r)));
  const scaledHeight = Math.max(1, Math.min(spec.height, roundHalfEven(srcHeight * r)));
  const dw = (spec.width - scaledWidth) / 2;
  const dh = (spec.height - scaledHeight) / 2;
  return {
    srcWidth,
    srcHeight,
    inputWidth: spec.width,
    inputHeight: spec.height,
    scaledWidth,
    scaledHeight,
    padX: Math.max(0, roundHalfEven(dw - 0.1)),
    padY: Math.max(0, roundHalfEven(dh - 0.1)),
  };
}

/** Python's round(): ties go to the even neighbour (Ultralytics' sizes come from it, JS rounds ties up). */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d !== 0.5) return Math.round(v);
  return f % 2 === 0 ? f : f + 1;
}

/** Model-input pixels -> source pixels, clipped to the source frame. */
export function toSourceBox(box: Box, lb: Letterbox): Box {
  const sx = lb.srcWidth / lb.scaledWidth;
  const sy = lb.srcHeight / lb.scaledHeight;
  const clip = (v: number, max: number) => Math.min(max, Math.max(0, v));
  return {
    x1: clip((box.x1 - lb.padX) * sx, lb.srcWidth),
    y1: clip((box.y1 - lb.padY) * sy, lb.srcHeight),
    x2: clip((box.x2 - lb.padX) * sx, lb.srcWidth),
    y2: clip((box.y2 - lb.padY) * sy, lb.srcHeight),
  };
}

/** Source pixels -> model-input pixels (the inverse of toSourceBox, without clipping). */
export function toInputBox(box: Box, lb: Letterbox): Box {
  const sx = lb.scaledWidth / lb.srcWidth;
  const sy = lb.scaledHeight / lb.srcHeight;
  return {
    x1: box.x1 * sx + lb.padX,
    y1: box.y1 * sy + lb.padY,
    x2: box.x2 * sx + lb.padX,
    y2: box.y2 * sy + lb.padY,
  };
}
