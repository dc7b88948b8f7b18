import { describe, expect, it } from 'vitest';
import { ProtoWriter } from '../../../models/pm25/protobuf-writer.js';

describe('ProtoWriter', () => {
  it('writes the wire format of the protobuf encoding guide', () => {
    // Field 1 varint 150 is the guide's example: 08 96 01.
    expect(Array.from(new ProtoWriter().int(1, 150).finish())).toEqual([0x08, 0x96, 0x01]);
    // Field 2 string "testing": 12 07 74 65 73 74 69 6e 67.
    expect(Array.from(new ProtoWriter().string(2, 'testing').finish())).toEqual([
      0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67,
    ]);
    // Negative int64 is ten bytes of two's complement; float is fixed32 little-endian.
    expect(new ProtoWriter().int(1, -1).finish()).toHaveLength(11);
    expect(Array.from(new ProtoWriter().float(2, 1).finish())).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f]);
    // Embedded message: field 3, length 3, then the inner 08 96 01.
    expect(Array.from(new ProtoWriter().message(3, (m) => m.int(1, 150)).finish())).toEqual([
      0x1a, 0x03, 0x08, 0x96, 0x01,
    ]);
  });
});
