import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ModelConfig } from '../../../config/schema.js';
import type { Detector } from '../../../models/detect/detector.js';
import { UsageError } from '../usage-error.js';
import type { CliResult } from '../main.js';
import { defaultModelDir } from './models.js';

interface DetectOpts {
  model: string;
  image: string;
  json?: boolean;
  family?: string;
  inputSize?: string;
  confidence?: string;
  iou?: string;
  provider?: string[];
  dir?: string;
  tiles?: string;
  overlap: string;
  fullFrame: boolean;
}

/** `vigil detect`: one image through one model, the one-shot check of a model a site brings. */
export function registerDetect(program: Command, result: CliResult): void {
  program
    .command('detect')
    .description('detect in one image and print the boxes (source pixels)')
    .requiredOption('--model <path|id>', 'an ONNX file, or a manifest id fetched into --dir')
    .requiredOption('--image <file>', 'JPEG, PNG, WebP, …')
    .option('--json', 'print JSON')
    .option('--family <family>', 'force a family (default: from the outputs)')
    .option('--input-size <WxH>', 'input size for dynamic-shape models')
    .option('--confidence <0..1>', 'score threshold (default 0.25)')
    .option('--iou <0..1>', 'NMS IoU (default 0.45)')
    .option('--provider <name...>', 'execution providers in order (default: tensorrt cuda cpu)')
    .option('--dir <dir>', 'model directory for manifest ids (default: $VIGIL_MODEL_DIR or ./data/models)')
    .option('--tiles <CxR>', 'tiled inference: C×R overlapping tiles (plus the full frame)')
    .option('--overlap <fraction>', 'tile overlap', '0.2')
    .option('--no-full-frame', 'with --tiles: skip the full-frame pass')
    .action(async (opts: DetectOpts) => {
      try {
        result.code = await detect(opts);
      } catch (err) {
        console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
        result.code = err instanceof UsageError ? 2 : 1;
      }
    });
}

async function detect(opts: DetectOpts): Promise<number> {
  const { path: modelPath, sha256 } = await resolveModel(opts.model, opts.dir ?? defaultModelDir());
  const size = opts.inputSize ? pair(opts.inputSize, '--input-size') : undefined;
  const tiles = opts.tiles ? pair(opts.tiles, '--tiles') : undefined;
  const overlap = Number(opts.overlap);
  if (!(overlap >= 0 && overlap < 0.9))
    throw new UsageError(`--overlap: expected 0 to 0.9, got ${opts.overlap}`);
  const parsed = ModelConfig.safeParse({
    path: modelPath,
    workers: 1,
    ...(sha256 ? { sha256 } : {}),
    ...(opts.family ? { family: opts.family } : {}),
    ...(size ? { inputSize: size } : {}),
    ...(opts.confidence ? { confidence: Number(opts.confidence) } : {}),
    ...(opts.iou ? { iou: Number(opts.iou) } : {}),
    ...(opts.provider ? { providers: opts.provider } : {}),
  });
  if (!parsed.success)
    throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  if (!existsSync(opts.image)) throw new UsageError(`--image: no such file: ${opts.image}`);
  // Loaded on demand: onnxruntime and sharp are heavy for the other commands.
  const { Detector } = await import('../../../models/detect/detector.js');
  const { UnreadableImage } = await import('../../../models/detect/raw-input.js');
  const detector = await Detector.load(path.basename(modelPath, '.onnx'), parsed.data);
  try {
    const out = await (
      tiles
        ? runTiled(detector, opts.image, tiles, overlap, opts.fullFrame, parsed.data.iou)
        : runWhole(detector, opts.image)
    ).catch((err: unknown) => {
      // The decoder's reason alone ("unsupported image format") does not say which file or flag it means.
      throw err instanceof UnreadableImage ? new UsageError(`--image ${opts.image}: ${err.message}`) : err;
    });
    const { info } = detector;
    if (opts.json) {
      console.log(
        JSON.stringify(
          {
            model: {
              id: info.modelId,
              path: info.path,
              family: info.family,
              input: [info.input.width, info.input.height],
            },
            provider: info.provider,
            refused: info.refused,
            image: out.image,
            detections: out.detections.map((d) => ({
              label: d.label,
              classId: d.classId,
              score: round(d.score, 4),
              box: [d.box.x1, d.box.y1, d.box.x2, d.box.y2].map((v) => round(v, 1)),
            })),
            timing: out.timing,
            ...(out.tiles ? { tiles: out.tiles } : {}),
          },
          null,
          2,
        ),
      );
    } else {
      // On stderr: the boxes on stdout stay the same whichever provider ran.
      for (const r of info.refused) console.error(`vigil: provider ${r.provider} refused: ${r.reason}`);
      console.log(
        `${info.modelId} (${info.family}, ${info.input.width}×${info.input.height}, ${info.provider}) on ${opts.image} (${out.image.width}×${out.image.height}): ${out.detections.length} detection(s)${out.tiles ? `, ${out.tiles.passes} passes` : ''}`,
      );
      for (const d of out.detections)
        console.log(
          `${d.label} ${d.score.toFixed(2)} [${[d.box.x1, d.box.y1, d.box.x2, d.box.y2].map((v) => Math.round(v)).join(',')}]`,
        );
    }
    return 0;
  } finally {
    await detector.close();
  }
}

type Loaded = Detector;

async function runWhole(detector: Loaded, image: string) {
  const { imageToInputFrame } = await import('../../../models/detect/image-input.js');
  const frame = await imageToInputFrame(image, detector.info.input);
  const r = await detector.detect(frame);
  return {
    image: { width: frame.letterbox.srcWidth, height: frame.letterbox.srcHeight },
    detections: r.detections,
    timing: { inferenceMs: round(r.inferenceMs, 2), preMs: round(r.preMs, 2), postMs: round(r.postMs, 2) },
    tiles: undefined,
  };
}

async function runTiled(
  detector: Loaded,
  image: string,
  grid: [number, number],
  overlap: number,
  fullFrame: boolean,
  iou: number,
) {
  const { decodeImage } = await import('../../../models/detect/raw-input.js');
  const { detectTiled } = await import('../../../models/detect/tiling.js');
  const src = await decodeImage(image);
  const r = await detectTiled(detector, src, { grid, overlap, fullFrame, iou });
  return {
    image: { width: src.width, height: src.height },
    detections: r.detections,
    timing: {
      wallMs: round(r.cost.wallMs, 1),
      inferenceMs: round(r.cost.inferenceMs, 2),
      preMs: round(r.cost.preMs, 2),
      postMs: round(r.cost.postMs, 2),
    },
    tiles: { grid, overlap, fullFrame, passes: r.cost.passes, rects: r.tiles },
  };
}

/** A model path, or a manifest id installed in `dir` by `vigil models fetch` (checked against its sha256). */
async function resolveModel(model: string, dir: string): Promise<{ path: string; sha256?: string }> {
  if (existsSync(model)) return { path: model };
  const { loadManifest } = await import('../../../models/store/manifest.js');
  const entry = loadManifest().models.find((m) => m.id === model);
  if (!entry) throw new UsageError(`--model: no such file, and no manifest model "${model}"`);
  const file = path.join(dir, entry.file);
  if (!existsSync(file))
    throw new UsageError(`--model: ${model} is not in ${dir}: run \`vigil models fetch ${model}\` first`);
  return { path: file, sha256: entry.sha256 };
}

function pair(value: string, flag: string): [number, number] {
  const m = /^(\d+)[x×,](\d+)$/.exec(value.trim());
  if (!m || !Number(m[1]) || !Number(m[2]))
    throw new UsageError(
      flag === '--tiles'
        ? `--tiles: expected C×R (columns × rows) like 4x3, got ${value}`
        : `${flag}: expected W×H like 640x384, got ${value}`,
    );
  return [Number(m[1]), Number(m[2])];
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
