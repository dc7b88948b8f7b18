import { floorOf } from '../candidate.js';
import type { Candidate } from '../candidate.js';
import type { Decoder } from './decoder.js';
import { yolov5Rows } from './yolov5.js';
import { fmt } from './yolov8.js';
import { yoloxAnchors } from './yolox.js';

/**
 * End-to-end exports with the selection inside the graph (YOLOv10, YOLO26 `end2end`, NMS-in-graph exports):
 * `1 × K × 6`, per row x1, y1, x2, y2 in input pixels, score, class id; K is the export's max_det (300 by
 * default), unused rows score 0. A one-class YOLOX or YOLOv5 head is also `1 × N × 6`: its N is the
 * anchor count for the input, which this decoder refuses.
 */
export const end2endDecoder: Decoder = {
  family: 'end2end',
  nmsInside: true,
  refuse(dims, input) {
    if (dims.length !== 3 || (dims[0] !== 1 && dims[0] !== null) || dims[2] !== 6)
      return `expected 1×K×6 (x1, y1, x2, y2, score, class), got ${fmt(dims)}`;
    const k = dims[1];
    const { width, height } = input;
    const heads = [yoloxAnchors(width, height), yolov5Rows(width, height, [8, 16, 32])];
    if (k != null && heads.includes(k))
      return `1×${k}×6 is a one-class YOLOX/YOLOv5 head for a ${width}×${height} input, not a detection list`;
    return null;
  },
  classCount: () => null, // class ids, not scores: names come from metadata or config
  decode(out, dims, _input, t) {
    const k = dims[1]!;
    const floor = floorOf(t);
    const result: Candidate[] = [];
    for (let i = 0, o = 0; i < k; i++, o += 6) {
      const score = out[o + 4]!;
      if (!(score >= floor)) continue;
      const classId = Math.round(out[o + 5]!);
      if (classId < 0) continue;
      result.push({ x1: out[o]!, y1: out[o + 1]!, x2: out[o + 2]!, y2: out[o + 3]!, score, classId });
    }
    return result;
  },
};
