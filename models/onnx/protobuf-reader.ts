/**
 * Just enough of the protobuf wire format to walk an ONNX file: varints and length-delimited fields.
 * Fields we don't ask for are skipped without being decoded (an ONNX file is mostly weights).
 */
export interface Field {
  no: number;
  wireType: number;
  /** For varints. */
  value: bigint;
  /** For length-delimited fields: [start, end) in the buffer. */
  start: number;
  end: number;
}

export class ProtobufError extends Error {}

function readVarint(buf: Uint8Array, pos: number, end: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= end) throw new ProtobufError('truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [result, pos];
    shift += 7n;
    if (shift > 70n) throw new ProtobufError('varint too long');
  }
}

/** Iterates the fields of one message occupying buf[start, end). */
export function* fields(buf: Uint8Array, start = 0, end = buf.length): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const [key, p1] = readVarint(buf, pos, end);
    pos = p1;
    const no = Number(key >> 3n);
    const wireType = Number(key & 7n);
    switch (wireType) {
      case 0: {
        const [value, p2] = readVarint(buf, pos, end);
        pos = p2;
        yield { no, wireType, value, start: pos, end: pos };
        break;
      }
      case 1:
        pos += 8;
        break;
      case 2: {
        const [len, p2] = readVarint(buf, pos, end);
        const s = p2;
        const e = s + Number(len);
        if (e > end)
          throw new ProtobufError(`field ${no} runs past the end of its message (truncated file?)`);
        pos = e;
        yield { no, wireType, value: 0n, start: s, end: e };
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new ProtobufError(`unsupported wire type ${wireType} (not an ONNX file?)`);
    }
    if (pos > end) throw new ProtobufError('message truncated');
  }
}

const decoder = new TextDecoder();
export const text = (buf: Uint8Array, f: Field) => decoder.decode(buf.subarray(f.start, f.end));
