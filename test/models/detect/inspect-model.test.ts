import { describe, expect, it } from 'vitest';
import { ModelConfig } from '../../../config/schema.js';
import { inspectModel } from '../../../models/detect/inspect-model.js';
import { hasShared, sharedPath } from '../../support/shared.js';

const cfg = (file: string, over: Record<string, unknown> = {}) =>
  ModelConfig.parse({ path: sharedPath('models', file), ...over });

describe.skipIf(!hasShared)('inspectModel (no session)', () => {
  it('reads family, input, precision and class names from the file', async () => {
    const plan = await inspectModel('x', cfg('yolox-nano-coco-416.onnx'));
    expect(plan).toMatchObject({
      family: 'yolox',
      input: { width: 416, height: 416, pixelOrder: 'bgr', padPosition: 'top-left' },
      inputType: 'float32',
    });
    expect(plan.classNames.slice(0, 2)).toEqual(['person', 'bicycle']);
  });

  it('refuses a config that does not fit the file, naming the model and the field', async () => {
    await expect(
      inspectModel('y11', cfg('yolo11n-coco-int8-320.onnx', { inputSize: [640, 640] })),
    ).rejects.toThrow(`model "y11": inputSize 640×640 does not match the model's fixed input 320×320`);
    await expect(inspectModel('v8', cfg('yolov8n-coco-int8-640.onnx', { family: 'yolox' }))).rejects.toThrow(
      /^model "v8": output output0 does not fit family yolox: /,
    );
  });
});
