import { describe, expect, it } from 'vitest';
import { text } from '../../../models/onnx/protobuf-reader.js';
import { ProtoWriter } from '../../../models/pm25/protobuf-writer.js';
import { bytes, list } from './protobuf-reader-fixture.js';

// The wire format. Bytes that are not a message: protobuf-reader-corrupt.test.ts; whole ONNX models:
// protobuf-reader-models.test.ts.

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
