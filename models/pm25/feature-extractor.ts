import ort from 'onnxruntime-node';
import type { Pm25CameraConfig } from '../../config/pm25-schema.js';
import type { ProviderName } from '../../config/schema.js';
import { firstLoadable } from '../runtime/provider-probe.js';
import { GRAPH_INPUT, buildFeatureGraph, outputNames } from './feature-graph.js';
import {
  THUMB_FACTOR,
  rectSize,
  thumbRect,
  type RawFeatures,
  type RegionDark,
  type RgbFrame,
} from './raw-features.js';

const providerIds: Record<ProviderName, string> = { tensorrt: 'tensorrt', cuda: 'cuda', cpu: 'cpu' };

/** Runs one camera's feature graph on onnxruntime (CPU here, the GPU on a Jetson). */
export class FeatureExtractor {
  private constructor(
    private readonly cfg: Pm25CameraConfig,
    private readonly session: ort.InferenceSession,
  ) {}

  static async create(cfg: Pm25CameraConfig, providers: ProviderName[] = ['cpu']): Promise<FeatureExtractor> {
    const graph = buildFeatureGraph(cfg);
    // One provider per try, as the detector does: given the whole list, onnxruntime fails outright on the
    // first one whose library does not load (TensorRT on a CPU box) instead of moving on to the next.
    const { value: session } = await firstLoadable(providers, (p) =>
      ort.InferenceSession.create(graph, {
        executionProviders: [providerIds[p]],
        // Small graph, shared cores: one thread keeps the detector's workers undisturbed.
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      }),
    );
    return new FeatureExtractor(cfg, session);
  }

  async run(frame: RgbFrame): Promise<RawFeatures> {
    const { width, height } = this.cfg.frame;
    if (frame.width !== width || frame.height !== height) {
      throw new Error(`frame is ${frame.width}x${frame.height}, config expects ${width}x${height}`);
    }
    const input = new ort.Tensor('uint8', frame.rgb, [height, width, 3]);
    const r = await this.session.run({ [GRAPH_INPUT]: input });
    const get = (name: string) => r[name]!.data as Float32Array;
    const triple = (name: string) => Array.from(get(name)) as [number, number, number];
    const dark = (q: string, d: string): RegionDark => ({ q: triple(q), dark: get(d)[0]! });
    const reg = rectSize(thumbRect(this.cfg.registration));
    return {
      sky: triple(outputNames.sky),
      targets: this.cfg.targets.map((_, i) => dark(outputNames.targetQ(i), outputNames.targetDark(i))),
      near: dark(outputNames.nearQ, outputNames.nearDark),
      nearGradient: get(outputNames.nearGradient)[0]!,
      nearGrey: get(outputNames.nearGrey)[0]!,
      clipped: get(outputNames.clipped)[0]!,
      thumb: Float32Array.from(get(outputNames.thumb)),
      thumbWidth: reg.w / THUMB_FACTOR,
      thumbHeight: reg.h / THUMB_FACTOR,
    };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
