import { describe, expect, it } from 'vitest';
import { parseImgsz, parseUltralyticsNames, readOnnxInfo } from '../../../models/onnx/onnx-info.js';
import { hasShared, sharedPath } from '../../support/shared.js';

describe('ONNX metadata reader', () => {
  it.skipIf(!hasShared)('reads Ultralytics metadata_props and the graph I/O from the file', () => {
    const info = readOnnxInfo(sharedPath('models', 'yolov8n-coco-int8-640.onnx'));
    expect(info.inputs).toEqual([{ name: 'images', elemType: 1, dims: [1, 3, 640, 640] }]);
    expect(info.outputs).toEqual([{ name: 'output0', elemType: 1, dims: [1, 84, 8400] }]);
    expect(info.metadata.task).toBe('detect');
    expect(parseImgsz(info.metadata.imgsz)).toEqual([640, 640]);
    const names = parseUltralyticsNames(info.metadata.names!)!;
    expect(names).toHaveLength(80);
    expect([names[0], names[7], names[79]]).toEqual(['person', 'truck', 'toothbrush']);
  });

  it.skipIf(!hasShared)('finds no metadata in the YOLOX export', () => {
    const info = readOnnxInfo(sharedPath('models', 'yolox-nano-coco-416.onnx'));
    expect(info.metadata).toEqual({});
    expect(info.outputs[0]!.dims).toEqual([1, 3549, 85]);
  });

  it('parses names dicts with either quote style and escapes', () => {
    expect(parseUltralyticsNames(`{0: 'person', 1: "fork lift", 2: 'o\\'clock'}`)).toEqual([
      'person',
      'fork lift',
      "o'clock",
    ]);
    expect(parseUltralyticsNames('nonsense')).toBeUndefined();
    expect(parseImgsz('960')).toEqual([960, 960]);
    expect(parseImgsz('[384, 640]')).toEqual([384, 640]);
  });

  it('refuses bytes that are not a model', () => {
    expect(() => readOnnxInfo(new TextEncoder().encode('hello world, not a model'))).toThrow(
      /not a valid ONNX file/,
    );
  });
});
