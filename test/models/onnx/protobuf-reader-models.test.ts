import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { type Field, ProtobufError, text } from '../../../models/onnx/protobuf-reader.js';
import { tinyModel } from '../../../models/runtime/tiny-model.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { tinyDetector } from '../../support/tiny-detector.js';
import { list } from './protobuf-reader-fixture.js';

const strings = (buf: Uint8Array, fs: Field[], no: number) =>
  fs.filter((f) => f.no === no && f.wireType === 2).map((f) => text(buf, f));

/** Walks an ONNX ModelProto the way a reader of it would: model, graph, nodes, graph I/O. */
function walkModel(buf: Uint8Array) {
  const top = list(buf);
  const graphs = top.filter((f) => f.no === 7);
  const graph = list(buf, graphs[0]!.start, graphs[0]!.end);
  const nodes = graph.filter((f) => f.no === 1).map((n) => list(buf, n.start, n.end));
  const ioName = (f: Field) => strings(buf, list(buf, f.start, f.end), 1)[0];
  const opsets = top.filter((f) => f.no === 8).map((o) => list(buf, o.start, o.end));
  return {
    top,
    graphs: graphs.length,
    irVersion: top.find((f) => f.no === 1 && f.wireType === 0)?.value,
    producer: strings(buf, top, 2)[0],
    opTypes: new Set(nodes.flatMap((n) => strings(buf, n, 4))),
    nodes: nodes.length,
    initializers: graph.filter((f) => f.no === 5).length,
    inputs: graph.filter((f) => f.no === 11).map(ioName),
    outputs: graph.filter((f) => f.no === 12).map(ioName),
    defaultOpset: opsets
      .filter((o) => !strings(buf, o, 1)[0])
      .map((o) => Number(o.find((f) => f.no === 2)!.value))[0],
  };
}

describe('fields on models the project builds', () => {
  it('tinyModel: one Add node, x in, y out, opset 13', () => {
    const m = walkModel(tinyModel());
    expect(m).toMatchObject({
      graphs: 1,
      irVersion: 8n,
      producer: 'vigil',
      nodes: 1,
      initializers: 0,
      inputs: ['x'],
      outputs: ['y'],
      defaultOpset: 13,
    });
    expect([...m.opTypes]).toEqual(['Add']);
  });

  it('tinyDetector: its nodes, constant initializers and metadata', () => {
    const buf = tinyDetector({
      inputType: 'float16',
      size: [64, 'h'],
      output: [1, 84, 2],
      values: new Float32Array(168),
      metadata: { task: 'detect', imgsz: '[64, 64]' },
      extra: [{ name: 'protos', dims: [1, 4] }],
    });
    const m = walkModel(buf);
    expect(m).toMatchObject({
      producer: 'vigil-test',
      initializers: 3,
      inputs: ['images'],
      outputs: ['output0', 'protos'],
      defaultOpset: 17,
    });
    expect([...m.opTypes].sort()).toEqual(['Add', 'Cast', 'Identity', 'Mul', 'ReduceMax']);
    const meta = m.top
      .filter((f) => f.no === 14)
      .map((f) =>
        strings(buf, list(buf, f.start, f.end), 1).concat(strings(buf, list(buf, f.start, f.end), 2)),
      );
    expect(meta).toEqual([
      ['task', 'detect'],
      ['imgsz', '[64, 64]'],
    ]);
  });
});

describe.skipIf(!hasShared)('fields on the real ONNX files in ../shared/models', () => {
  ort.env.logLevel = 'fatal';
  it.each([
    ['yolov8n-coco-int8-640.onnx', 'ConvInteger'],
    ['yolo11n-coco-int8-320.onnx', 'ConvInteger'],
    ['yolox-nano-coco-416.onnx', 'Conv'],
  ])('%s: the whole file parses and agrees with onnxruntime', async (file, op) => {
    const buf = readFileSync(sharedPath('models', file));
    const m = walkModel(buf);
    expect(m.top.at(-1)!.end).toBe(buf.length);
    expect(m.graphs).toBe(1);
    expect(Number(m.irVersion)).toBeGreaterThanOrEqual(3);
    expect(m.nodes).toBeGreaterThan(50);
    expect(m.initializers).toBeGreaterThan(50);
    expect(m.opTypes).toContain(op);
    const session = await ort.InferenceSession.create(buf);
    // old exporters list weights as graph inputs too; the real ones come first
    expect(m.inputs.slice(0, session.inputNames.length)).toEqual(session.inputNames);
    expect(m.outputs).toEqual(session.outputNames);
    await session.release();
  });

  it('a truncated real file is refused with a clear error at the cut, not read on', () => {
    const buf = readFileSync(sharedPath('models', 'yolov8n-coco-int8-640.onnx'));
    for (const n of [1, 100, 4096, 1_000_000, buf.length - 1]) {
      let e: unknown;
      try {
        list(buf.subarray(0, n));
      } catch (x) {
        e = x;
      }
      expect(e, `cut at ${n}`).toBeInstanceOf(ProtobufError);
      expect((e as Error).message).toMatch(/truncated|runs past the end/);
    }
  });
});
