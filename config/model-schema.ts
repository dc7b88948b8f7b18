import { z } from 'zod';
import { ModelSessionConfig } from './detect-schema.js';

/** Execution providers Vigil knows how to ask onnxruntime for, in the order a box usually prefers. */
export const providerNames = ['tensorrt', 'cuda', 'cpu'] as const;
export const ProviderName = z.enum(providerNames);
export type ProviderName = z.infer<typeof ProviderName>;

/** Detector families with a decoder in models/detect/decoders (explicit registry there). */
export const modelFamilies = ['yolov8', 'yolov5', 'end2end', 'yolox'] as const;
export const ModelFamily = z.enum(modelFamilies);
export type ModelFamily = z.infer<typeof ModelFamily>;

export const ClassPolicy = z.strictObject({
  confidence: z.number().min(0).max(1).optional().describe('Minimum score for this class, 0 to 1.'),
  minArea: z
    .number()
    .nonnegative()
    .optional()
    .describe('Smallest box kept, in source pixels² (drops far-off specks and noise).'),
});

/** TensorRT provider options (passed on by the patched Jetson binding only, see docs/jetson.md). */
export const TensorRtConfig = z.strictObject({
  fp16: z.boolean().default(true).describe('Build FP16 engines. Default: true.'),
  engineCacheDir: z
    .string()
    .min(1)
    .optional()
    .describe('Built engines are cached here (relative: to dataDir). Default: <dataDir>/tensorrt.'),
  timingCacheDir: z
    .string()
    .min(1)
    .optional()
    .describe('Where the TensorRT timing cache is kept. Default: the engine cache dir.'),
  workspaceMiB: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Builder workspace limit, MiB; TensorRT's default (device memory) when omitted."),
});
export type TensorRtConfig = z.infer<typeof TensorRtConfig>;

export const ModelConfig = z.strictObject({
  path: z.string().min(1).describe('The ONNX file; relative to the config file.'),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, '64 hex digits')
    .optional()
    .describe(
      'The file must hash to this (64 hex digits; models/manifest.json has them): a truncated or altered file is refused.',
    ),
  family: ModelFamily.optional().describe(
    "Output layout: yolov8 (YOLOv8/YOLO11), yolov5, end2end (YOLOv10/YOLO26) or yolox. Detected from the model's outputs when omitted.",
  ),
  inputSize: z
    .tuple([z.number().int().positive(), z.number().int().positive()])
    .optional()
    .describe('Input size [width, height]: needed for dynamic-shape models, otherwise read from the model.'),
  classNames: z
    .array(z.string())
    .optional()
    .describe("Class names; the model's own metadata is used when absent, COCO for YOLOX."),
  providers: z
    .array(ProviderName)
    .min(1)
    .default(['tensorrt', 'cuda', 'cpu'])
    .describe(
      'Execution providers tried in order; the first that loads runs. Default: [tensorrt, cuda, cpu].',
    ),
  tensorrt: TensorRtConfig.optional().describe(
    'TensorRT provider options (fp16 on, engine cache in <dataDir>/tensorrt by default).',
  ),
  cudaDeviceId: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('GPU index for the cuda and tensorrt providers. Default: 0.'),
  workers: z
    .number()
    .int()
    .positive()
    .max(64)
    .optional()
    .describe(
      'Inference worker threads for this model (one session each), shared by its cameras; default: the core count divided by intraOpThreads.',
    ),
  intraOpThreads: z
    .number()
    .int()
    .positive()
    .max(64)
    .default(1)
    .describe('onnxruntime threads per session. Default: 1.'),
  session: ModelSessionConfig.optional().describe('onnxruntime session options beyond threads.'),
  confidence: z.number().min(0).max(1).default(0.25).describe('Minimum score, 0 to 1. Default: 0.25.'),
  iou: z.number().min(0).max(1).default(0.45).describe('Class-aware NMS overlap, 0 to 1. Default: 0.45.'),
  classes: z
    .record(z.string(), ClassPolicy)
    .default({})
    .describe("Per model-class overrides, keyed by the model's class name."),
  labels: z
    .record(z.string(), z.string())
    .default({})
    .describe(
      'Model class name -> site label, e.g. { truck: forklift }. Classes not listed keep their model name unless onlyMapped; a key the model lacks is refused.',
    ),
  onlyMapped: z
    .boolean()
    .default(false)
    .describe('Drop detections whose class is not in labels. Default: false.'),
});
export type ModelConfig = z.infer<typeof ModelConfig>;
