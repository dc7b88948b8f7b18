import { describe, expect, it } from 'vitest';
import { fields, ProtobufError } from '../../../models/onnx/protobuf-reader.js';
import { tinyModel } from '../../../models/runtime/tiny-model.js';
import { tinyDetector } from '../../support/tiny-detector.js';
import { bytes, list } from './protobuf-reader-fixture.js';

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
