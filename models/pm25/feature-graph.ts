import type { Pm25CameraConfig, PixelRect } from '../../config/pm25-schema.js';
import { OnnxGraphBuilder, OnnxType } from './onnx-builder.js';
import {
  CLIP_HIGH_BYTE,
  CLIP_LOW_BYTE,
  DARK_PATCH,
  THUMB_FACTOR,
  checkRegions,
  darkCount,
  rectSize,
  thumbRect,
} from './raw-features.js';

/** Names of the graph's input and outputs (read back by FeatureExtractor). */
export const GRAPH_INPUT = 'rgb';
export const outputNames = {
  sky: 'sky',
  targetQ: (i: number) => `target${i}_q`,
  targetDark: (i: number) => `target${i}_dark`,
  nearQ: 'near_q',
  nearDark: 'near_dark',
  nearGradient: 'near_gradient',
  nearGrey: 'near_grey',
  clipped: 'clipped',
  thumb: 'thumb',
} as const;

const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
const SOBEL_Y = [-1, -2, -1, 0, 0, 0, 1, 2, 1];

/**
 * The per-frame feature graph for one camera's regions: uint8 HWC frame in, region statistics out. Everything
 * per pixel (linearisation, ratios to the sky, dark channel with min-pooling, darkest-share means by TopK,
 * Sobel gradients, clipping, registration thumbnail) runs inside onnxruntime.
 */
export function buildFeatureGraph(cfg: Pm25CameraConfig): Uint8Array {
  checkRegions(cfg);
  const { width: W, height: H } = cfg.frame;
  const g = new OnnxGraphBuilder('vigil_pm25_features');
  const rgb = g.input(GRAPH_INPUT, OnnxType.UINT8, [H, W, 3]);
  // Slice the uint8 frame first: only the regions' pixels are converted, not the whole frame.
  const sliceHwc = ([x0, y0, x1, y1]: PixelRect) =>
    g.op('Slice', [rgb, g.int64s([y0, x0]), g.int64s([y1, x1]), g.int64s([0, 1])]);
  const encoded = (rect: PixelRect) =>
    g.op(
      'Transpose',
      [g.op('Mul', [g.op('Cast', [sliceHwc(rect)], { to: { i: OnnxType.FLOAT } }), g.floats([1 / 255], [])])],
      {
        perm: { ints: [2, 0, 1] },
      },
    );
  const linear = (rect: PixelRect) =>
    cfg.gamma === 1 ? encoded(rect) : g.op('Pow', [encoded(rect), g.floats([cfg.gamma], [])]);
  const reshape = (x: string, dims: number[]) => g.op('Reshape', [x, g.int64s(dims)]);
  const out = (name: string, x: string, n: number) => g.output(name, reshape(x, [n]), OnnxType.FLOAT, [n]);

  const airlight = g.op('ReduceMean', [linear(cfg.sky)], { axes: { ints: [1, 2] }, keepdims: { i: 1 } });
  out(outputNames.sky, airlight, 3);

  /** Mean of the k smallest values along the last axis of a [rows, n] tensor. */
  const lowMean = (x: string, k: number) => {
    const [values] = g.opN('TopK', [x, g.int64s([k])], 2, { axis: { i: -1 }, largest: { i: 0 } });
    return g.op('ReduceMean', [values!], { axes: { ints: [1] }, keepdims: { i: 0 } });
  };

  const regionDark = (rect: PixelRect, fraction: number, qName: string, darkName: string) => {
    const { w, h } = rectSize(rect);
    const k = darkCount(w * h, fraction);
    const ratio = g.op('Div', [linear(rect), airlight]);
    out(qName, lowMean(reshape(ratio, [3, w * h]), k), 3);
    const minC = reshape(g.op('ReduceMin', [ratio], { axes: { ints: [0] }, keepdims: { i: 1 } }), [
      1,
      1,
      h,
      w,
    ]);
    // Min-pool = −maxpool(−x); MaxPool ignores its padding, like the reference's clipped window.
    const r = (DARK_PATCH - 1) / 2;
    const pooled = g.op('Neg', [
      g.op('MaxPool', [g.op('Neg', [minC])], {
        kernel_shape: { ints: [DARK_PATCH, DARK_PATCH] },
        pads: { ints: [r, r, r, r] },
        strides: { ints: [1, 1] },
      }),
    ]);
    out(darkName, lowMean(reshape(pooled, [1, w * h]), k), 1);
  };
  cfg.targets.forEach((t, i) =>
    regionDark(t.rect, t.darkFraction, outputNames.targetQ(i), outputNames.targetDark(i)),
  );
  regionDark(cfg.near.rect, 0.1, outputNames.nearQ, outputNames.nearDark);

  const near = rectSize(cfg.near.rect);
  const grey = reshape(
    g.op('ReduceMean', [linear(cfg.near.rect)], { axes: { ints: [0] }, keepdims: { i: 1 } }),
    [1, 1, near.h, near.w],
  );
  const sobel = g.op('Conv', [grey, g.floats([...SOBEL_X, ...SOBEL_Y], [2, 1, 3, 3])]);
  const magnitude = g.op('Sqrt', [
    g.op('ReduceSum', [g.op('Mul', [sobel, sobel]), g.int64s([1])], { keepdims: { i: 0 } }),
  ]);
  out(outputNames.nearGradient, g.op('ReduceMean', [magnitude], { keepdims: { i: 0 } }), 1);
  out(outputNames.nearGrey, g.op('ReduceMean', [grey], { keepdims: { i: 0 } }), 1);

  // Clipping on the raw bytes: a pixel whose brightest channel is 0 or 255.
  const brightest = g.op('ReduceMax', [sliceHwc(cfg.exposure)], { axes: { ints: [2] }, keepdims: { i: 0 } });
  const isClipped = g.op('Or', [
    g.op('LessOrEqual', [brightest, g.uint8s([CLIP_LOW_BYTE])]),
    g.op('GreaterOrEqual', [brightest, g.uint8s([CLIP_HIGH_BYTE])]),
  ]);
  out(
    outputNames.clipped,
    g.op('ReduceMean', [g.op('Cast', [isClipped], { to: { i: OnnxType.FLOAT } })], { keepdims: { i: 0 } }),
    1,
  );

  const reg = thumbRect(cfg.registration);
  const { w: rw, h: rh } = rectSize(reg);
  const regGrey = reshape(g.op('ReduceMean', [encoded(reg)], { axes: { ints: [0] }, keepdims: { i: 1 } }), [
    1,
    1,
    rh,
    rw,
  ]);
  const thumb = g.op('AveragePool', [regGrey], {
    kernel_shape: { ints: [THUMB_FACTOR, THUMB_FACTOR] },
    strides: { ints: [THUMB_FACTOR, THUMB_FACTOR] },
  });
  out(outputNames.thumb, thumb, (rw / THUMB_FACTOR) * (rh / THUMB_FACTOR));

  return g.build();
}
