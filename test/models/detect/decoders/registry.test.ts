import { describe, expect, it } from 'vitest';
import type { ModelFamily } from '../../../../config/schema.js';
import { decoders, detectFamily } from '../../../../models/detect/decoders/registry.js';
import type { OnnxInfo } from '../../../../models/onnx/onnx-info.js';

const input = { width: 640, height: 640 };
/** Each family's own output layout for a 640×640 input, 80 classes (YOLOv5 and YOLOX: the same row width). */
const layouts: Record<ModelFamily, number[]> = {
  yolov8: [1, 84, 8400],
  yolov5: [1, 25200, 85],
  end2end: [1, 300, 6],
  yolox: [1, 8400, 85],
};
const info = (dims: (number | null)[], metadata: Record<string, string> = {}, extra = 0): OnnxInfo => ({
  metadata,
  producer: 'test',
  inputs: [{ name: 'images', elemType: 1, dims: [1, 3, 640, 640] }],
  outputs: [
    { name: 'output0', elemType: 1, dims },
    ...Array.from({ length: extra }, (_, i) => ({
      name: `output${i + 1}`,
      elemType: 1,
      dims: [1, 32, 160, 160],
    })),
  ],
});

describe('the family registry', () => {
  const families = Object.keys(layouts) as ModelFamily[];

  it.each(families)('%s accepts its own layout and refuses every other family’s', (family) => {
    for (const other of families) {
      const why = decoders[family].refuse(layouts[other], input);
      if (other === family) expect(why).toBeNull();
      else expect(why, `${family} on ${other}'s ${layouts[other].join('×')}`).toMatch(/got|head/);
    }
  });

  it.each(families)('detects %s from the output alone, with or without Ultralytics names', (family) => {
    expect(detectFamily(info(layouts[family]), input).family).toBe(family);
    expect(detectFamily(info(layouts[family], { names: "{0: 'person'}" }), input).family).toBe(family);
  });

  it('refuses an unknown layout listing what each family expected', () => {
    expect(() => detectFamily(info([1, 1000, 4]), input)).toThrow(
      /output output0 1×1000×4 matches no known detector family \(yolox: .*; yolov8: .*; yolov5: .*; end2end: expected 1×K×6/,
    );
  });

  it('refuses segmentation and pose models by task metadata, and by their extra outputs without it', () => {
    expect(() => detectFamily(info([1, 116, 8400], { task: 'segment' }, 1), input)).toThrow(
      /this is a "segment" model, not a detector/,
    );
    expect(() => detectFamily(info([1, 56, 8400], { task: 'pose' }), input)).toThrow(
      /this is a "pose" model, not a detector/,
    );
    expect(() => detectFamily(info([1, 116, 8400], {}, 1), input)).toThrow(
      /expected one output, found 2 \(output0 1×116×8400, output1 1×32×160×160\): segmentation, pose/,
    );
  });

  it('with a symbolic row count, Ultralytics names pick YOLOv5 over YOLOX', () => {
    expect(detectFamily(info([1, null, 85]), input).family).toBe('yolox');
    expect(detectFamily(info([1, null, 85], { names: "{0: 'a'}" }), input).family).toBe('yolov5');
  });
});
