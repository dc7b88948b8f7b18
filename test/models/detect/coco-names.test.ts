import { describe, expect, it } from 'vitest';
import { cocoNames } from '../../../models/detect/coco-names.js';
import { parseUltralyticsNames, readOnnxInfo } from '../../../models/onnx/onnx-info.js';
import { hasShared, sharedPath } from '../../support/shared.js';

describe('cocoNames', () => {
  it('lists the 80 COCO classes in training order, each once', () => {
    expect(cocoNames).toHaveLength(80);
    expect(new Set(cocoNames).size).toBe(80);
    expect([cocoNames[0], cocoNames[2], cocoNames[5], cocoNames[7], cocoNames[79]]).toEqual([
      'person',
      'car',
      'bus',
      'truck',
      'toothbrush',
    ]);
  });

  it.skipIf(!hasShared)('matches the names the YOLOv8 and YOLO11 exports carry, index for index', () => {
    for (const file of ['yolov8n-coco-int8-640.onnx', 'yolo11n-coco-int8-320.onnx']) {
      const info = readOnnxInfo(sharedPath('models', file));
      const names = parseUltralyticsNames(info.metadata.names!);
      expect(names, file).toEqual([...cocoNames]);
    }
  });
});
