import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { type Field, fields, ProtobufError, text } from '../../../models/onnx/protobuf-reader.js';
import { ProtoWriter } from '../../../models/pm25/protobuf-writer.js';
import { tinyModel } from '../../../models/runtime/tiny-model.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { tinyDetector } from '../../support/tiny-detector.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
const list = (buf: Uint8Array, start?: number, end?: number) => [...fields(buf, start, end)];
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

/** Every field, recursing into each length-delimited one that itself parses (strings and weights may not). */
function walkAll(buf: Uint8Array, start = 0, end = buf.length, depth = 0): number {
  let n = 0;
  for (const f of fields(buf, start, end)) {
    n++;
    if (f.wireType === 2 && depth < 6) {
      try {
        n += walkAll(buf, f.start, f.end, depth + 1);
      } catch (err) {
        if (!(err instanceof ProtobufError)) throw err;
      }
    }
  }
  return n;
}

describe('fields: the wire format', () => {
  it('reads varints of one to ten bytes, exactly (bigint), with field numbers of any size', () => {
    const buf = bytes(
      0x08,
      0x96,
      0x01, // field 1, varint 150
      0x10,
      0x00, // field 2, 0
      0xf8,
      0xff,
      0xff,
      0xff,
      0x0f,
      0x7f, // field 2^29 - 1 (the largest), varint 127
      0x18,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x01, // field 3, -1 as int64: 2^64 - 1
      0x20,
      0x81,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x10, // field 4: 2^53 + 1, beyond a double's precision
    );
    expect(list(buf).map((f) => [f.no, f.wireType, f.value])).toEqual([
      [1, 0, 150n],
      [2, 0, 0n],
      [2 ** 29 - 1, 0, 127n],
      [3, 0, 2n ** 64n - 1n],
      [4, 0, 2n ** 53n + 1n],
    ]);
  });

  it('gives a length-delimited field as its [start, end) window, and a varint an empty one after it', () => {
    const buf = bytes(0x0a, 0x03, 0x61, 0x62, 0x63, 0x10, 0x05);
    const [s, v] = list(buf);
    expect(s).toEqual({ no: 1, wireType: 2, value: 0n, start: 2, end: 5 });
    expect(text(buf, s!)).toBe('abc');
    expect(v).toEqual({ no: 2, wireType: 0, value: 5n, start: 7, end: 7 });
  });

  it('skips fixed64 and fixed32 fields (not yielded) and reads on after them', () => {
    const buf = bytes(
      0x09,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8, // field 1, fixed64
      0x15,
      0x00,
      0x00,
      0x80,
      0x3f, // field 2, fixed32 (1.0f)
      0x18,
      0x07, // field 3, varint 7
      0x22,
      0x00, // field 4, empty bytes
    );
    expect(list(buf).map((f) => [f.no, f.wireType, f.value, f.end - f.start])).toEqual([
      [3, 0, 7n, 0],
      [4, 2, 0n, 0],
    ]);
  });

  it('reads only inside the window it is given', () => {
    const w = new ProtoWriter();
    w.int(1, 1)
      .message(2, (m) => m.int(7, 300).string(8, 'in'))
      .int(3, 3);
    const buf = w.finish();
    const [, msg] = list(buf);
    expect(list(buf, msg!.start, msg!.end).map((f) => f.no)).toEqual([7, 8]);
    expect(list(buf, msg!.start, msg!.end)[0]!.value).toBe(300n);
    expect(list(buf, 0, 0)).toEqual([]);
  });

  it('decodes UTF-8 text', () => {
    const w = new ProtoWriter();
    w.string(1, 'café ✓ 車');
    const buf = w.finish();
    expect(text(buf, list(buf)[0]!)).toBe('café ✓ 車');
  });
});

describe('fields: truncated and corrupt bytes fail clearly, never hang', () => {
  const err = (buf: Uint8Array, start?: number, end?: number) => {
    try {
      list(buf, start, end);
    } catch (e) {
      return e;
    }
    return undefined;
  };

  it.each([
    ['a key cut in its varint', bytes(0x80), /^truncated varint$/],
    ['a varint value cut', bytes(0x08, 0x96), /^truncated varint$/],
    ['a length cut', bytes(0x0a), /^truncated varint$/],
    [
      'bytes shorter than their length',
      bytes(0x0a, 0x05, 0x61, 0x62),
      /^field 1 runs past the end of its message \(truncated file\?\)$/,
    ],
    ['a fixed64 cut', bytes(0x09, 1, 2, 3), /^message truncated$/],
    ['a fixed32 cut', bytes(0x15, 1, 2, 3), /^message truncated$/],
    ['wire type 3 (group start)', bytes(0x0b), /^unsupported wire type 3 \(not an ONNX file\?\)$/],
    ['wire type 4 (group end)', bytes(0x0c), /^unsupported wire type 4/],
    ['wire type 6', bytes(0x0e), /^unsupported wire type 6/],
    ['wire type 7', bytes(0x0f), /^unsupported wire type 7/],
    ['an endless varint', new Uint8Array(64).fill(0x80), /^varint too long$/],
    [
      'a length beyond 2^53',
      bytes(0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
      /runs past the end/,
    ],
  ])('%s', (_, buf, message) => {
    const e = err(buf);
    expect(e).toBeInstanceOf(ProtobufError);
    expect((e as Error).message).toMatch(message);
  });

  it('a field of a sub-message may not run past that message, though the buffer goes on', () => {
    // field 1 = message of 2 bytes, holding field 2 with length 5: inside the buffer, outside its message
    const buf = bytes(0x0a, 0x02, 0x12, 0x05, 0x61, 0x62, 0x63, 0x64, 0x65);
    expect((err(buf, 2, 4) as Error).message).toMatch(/^field 2 runs past the end of its message/);
    // a fixed32 that would end past its message
    expect(err(bytes(0x0a, 0x02, 0x15, 0x00, 0x00, 0x00, 0x00), 2, 4)).toBeInstanceOf(ProtobufError);
  });

  it('bytes one short of their length are refused before the field is handed out', () => {
    const it = fields(bytes(0x0a, 0x03, 0x61, 0x62));
    expect(() => it.next()).toThrow(/^field 1 runs past the end of its message/);
    expect(list(bytes(0x0a, 0x02, 0x61, 0x62)).map((f) => f.end)).toEqual([4]); // exactly enough
  });

  it('a varint that does not end inside its message is refused before it is handed out', () => {
    // message [0, 2): field 1's varint 0x96 0x01 needs the byte after the message
    const it = fields(bytes(0x08, 0x96, 0x01), 0, 2);
    expect(() => it.next()).toThrow(ProtobufError);
    const key = fields(bytes(0x08, 0x96, 0x01), 0, 1); // the key alone fills the message, its value is outside
    expect(() => key.next()).toThrow(ProtobufError);
  });

  it('every truncation of a real small model either parses or throws a ProtobufError', () => {
    const whole = tinyDetector({
      size: [32, 32],
      output: [1, 6, 4],
      values: new Float32Array(24),
      metadata: { task: 'detect' },
    });
    const full = walkAll(whole);
    for (let n = 0; n < whole.length; n++) {
      try {
        walkAll(whole.subarray(0, n));
      } catch (e) {
        if (!(e instanceof ProtobufError)) throw e;
        continue;
      }
    }
    // the whole one parses: top-level fields cover every byte
    expect(full).toBeGreaterThan(10);
    const top = list(whole);
    expect(top.at(-1)!.end).toBe(whole.length);
  });

  it('random bytes end in a result or a ProtobufError, quickly', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const t0 = performance.now();
    let failures = 0;
    for (let i = 0; i < 3000; i++) {
      const buf = Uint8Array.from({ length: 1 + (i % 97) }, rand);
      try {
        walkAll(buf);
      } catch (e) {
        expect(e).toBeInstanceOf(ProtobufError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(1000);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('bit flips in a real model end in a result or a ProtobufError', () => {
    const whole = tinyModel();
    for (let i = 0; i < whole.length; i++)
      for (const mask of [0x01, 0x04, 0x80]) {
        const bad = whole.slice();
        bad[i] = bad[i]! ^ mask;
        try {
          walkAll(bad);
        } catch (e) {
          if (!(e instanceof ProtobufError)) throw e;
        }
      }
  });
});

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
