import { accessSync, constants, statSync } from 'node:fs';
import type { ModelConfig, ModelFamily } from '../../config/schema.js';
import { onnxElemType, parseImgsz, readOnnxInfo } from '../onnx/onnx-info.js';
import { sha256File } from '../store/hash.js';
import type { InputSpec } from '../types.js';
import { unknownClassKeys } from './class-keys.js';
import { resolveClassNames } from './class-names.js';
import { detectFamily } from './decoders/registry.js';
import { fmt } from './decoders/yolov8.js';
import { familyInput } from './families.js';

/** What the file and its config say about a model, before any session: enough to run it. */
export interface ModelPlan {
  family: ModelFamily;
  input: InputSpec;
  inputType: 'float32' | 'float16';
  classNames: string[];
}

/**
 * Checks a model file against its config without creating a session: present and whole (sha256), an ONNX
 * graph with one image input, a known output layout, class names that fit, class keys that exist. Throws
 * `model "<id>": <why>` at the first problem. `Detector.load` and `vigil doctor` share it, so the doctor
 * refuses what the agent would.
 */
export async function inspectModel(modelId: string, cfg: ModelConfig): Promise<ModelPlan> {
  const fail = (why: string): never => {
    throw new Error(`model "${modelId}": ${why}`);
  };
  try {
    accessSync(cfg.path, constants.R_OK);
    if (!statSync(cfg.path).isFile()) fail(`not a file: ${cfg.path}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') fail(`file not found: ${cfg.path}`);
    if ((err as NodeJS.ErrnoException).code === 'EACCES') fail(`file not readable: ${cfg.path}`);
    throw err;
  }
  if (cfg.sha256) {
    const got = (await sha256File(cfg.path)).sha256;
    if (got !== cfg.sha256.toLowerCase())
      fail(`${cfg.path} has sha256 ${got}, expected ${cfg.sha256} (truncated or altered): not loaded`);
  }
  let onnx;
  try {
    onnx = readOnnxInfo(cfg.path);
  } catch (err) {
    return fail(`${cfg.path}: ${(err as Error).message}`);
  }
  const input = onnx.inputs[0]!;
  if (
    onnx.inputs.length !== 1 ||
    input.dims.length !== 4 ||
    (input.dims[1] !== null && input.dims[1] !== 3)
  ) {
    fail(
      `expected one 1×3×H×W image input, found ${onnx.inputs.map((i) => `${i.name} ${fmt(i.dims)}`).join(', ')}`,
    );
  }
  if (input.elemType !== onnxElemType.float && input.elemType !== onnxElemType.float16)
    fail(`input ${input.name} has ONNX element type ${input.elemType}; expected float32 or float16`);
  const metaSize = parseImgsz(onnx.metadata.imgsz);
  const height = input.dims[2] ?? cfg.inputSize?.[1] ?? metaSize?.[0];
  const width = input.dims[3] ?? cfg.inputSize?.[0] ?? metaSize?.[1];
  if (!width || !height)
    fail('the model has a dynamic input size: set inputSize: [width, height] in its config');
  if (cfg.inputSize && input.dims[2] && (cfg.inputSize[0] !== width || cfg.inputSize[1] !== height)) {
    fail(`inputSize ${cfg.inputSize.join('×')} does not match the model's fixed input ${width}×${height}`);
  }
  let decoder;
  try {
    decoder = detectFamily(onnx, { width: width!, height: height! }, cfg.family);
  } catch (err) {
    return fail((err as Error).message);
  }
  const spec: InputSpec = { width: width!, height: height!, ...familyInput[decoder.family] };
  let classNames: string[];
  try {
    classNames = resolveClassNames({
      configured: cfg.classNames,
      metadata: onnx.metadata,
      family: decoder.family,
      classCount: decoder.classCount(onnx.outputs[0]!.dims),
      output: fmt(onnx.outputs[0]!.dims),
    });
  } catch (err) {
    return fail((err as Error).message);
  }
  const unknownKeys = unknownClassKeys(cfg, classNames);
  if (unknownKeys) fail(unknownKeys);
  return {
    family: decoder.family,
    input: spec,
    inputType: input.elemType === onnxElemType.float16 ? 'float16' : 'float32',
    classNames,
  };
}
