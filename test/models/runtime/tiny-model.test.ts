import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { tinyModel, tinyModelIo } from '../../../models/runtime/tiny-model.js';

/**
 * A protobuf decoder of its own (varint and length-delimited fields only, which is all the tiny model
 * uses), so the structure is checked without the project's reader. Anything else is an error.
 */
type Msg = { no: number; int?: number; bytes?: Uint8Array }[];
function decode(buf: Uint8Array): Msg {
  const out: Msg = [];
  let pos = 0;
  const varint = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated');
      const b = buf[pos++]!;
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) return v;
      mul *= 128;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    if (key % 8 === 0) out.push({ no, int: varint() });
    else if (key % 8 === 2) {
      const len = varint();
      if (pos + len > buf.length) throw new Error(`field ${no} overruns`);
      out.push({ no, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else throw new Error(`wire type ${key % 8}`);
  }
  return out;
}
const all = (m: Msg, no: number) => m.filter((f) => f.no === no);
const one = (m: Msg, no: number) => {
  const f = all(m, no);
  expect(f, `field ${no}`).toHaveLength(1);
  return f[0]!;
};
const str = (m: Msg, no: number) => new TextDecoder().decode(one(m, no).bytes);
const sub = (m: Msg, no: number) => decode(one(m, no).bytes!);

describe('tinyModel bytes (onnx.proto3 field numbers)', () => {
  const model = decode(tinyModel());

  it('ModelProto: IR version 8, producer vigil, default-domain opset 13', () => {
    expect(one(model, 1).int).toBe(8);
    expect(str(model, 2)).toBe('vigil');
    const opset = sub(model, 8);
    expect(opset.find((f) => f.no === 1)?.bytes?.length ?? 0).toBe(0); // domain "" (absent or empty)
    expect(one(opset, 2).int).toBe(13);
  });

  it('GraphProto: one Add node y = x + x, named vigil-probe', () => {
    const graph = sub(model, 7);
    expect(str(graph, 2)).toBe('vigil-probe');
    expect(all(graph, 1)).toHaveLength(1);
    const node = sub(graph, 1);
    const names = (no: number) => all(node, no).map((f) => new TextDecoder().decode(f.bytes));
    expect([names(1), names(2), str(node, 4)]).toEqual([['x', 'x'], ['y'], 'Add']);
  });

  it.each([
    [11, 'x'],
    [12, 'y'],
  ])('graph field %i is the float tensor %s of shape [1]', (field, name) => {
    const info = sub(sub(model, 7), field);
    expect(str(info, 1)).toBe(name);
    const tensorType = sub(sub(info, 2), 1);
    expect(one(tensorType, 1).int).toBe(1); // FLOAT
    const dims = all(sub(tensorType, 2), 1).map((d) => one(decode(d.bytes!), 1).int);
    expect(dims).toEqual([1]);
  });

  it('is built afresh each call, the same bytes every time', () => {
    const a = tinyModel();
    const b = tinyModel();
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a).not.toBe(b);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    a[0] = 0xff;
    expect(tinyModel()[0]).toBe(b[0]);
  });
});

describe('tinyModel in onnxruntime', () => {
  it('loads with the advertised names and doubles its input', async () => {
    expect(tinyModelIo).toEqual({ input: 'x', output: 'y', length: 1 });
    const session = await ort.InferenceSession.create(tinyModel(), { graphOptimizationLevel: 'disabled' });
    expect([session.inputNames, session.outputNames]).toEqual([[tinyModelIo.input], [tinyModelIo.output]]);
    for (const x of [1.5, -2, 0, 1e30]) {
      const input = new ort.Tensor('float32', Float32Array.from([x]), [tinyModelIo.length]);
      const y = (await session.run({ x: input })).y!;
      expect([y.type, y.dims, [...(y.data as Float32Array)]]).toEqual(['float32', [1], [Math.fround(2 * x)]]);
    }
    await session.release();
  });

  it('refuses an input of the wrong shape (its dim is fixed at 1)', async () => {
    const session = await ort.InferenceSession.create(tinyModel());
    await expect(
      session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]) }),
    ).rejects.toThrow(/dimension|shape/i);
    await session.release();
  });
});
