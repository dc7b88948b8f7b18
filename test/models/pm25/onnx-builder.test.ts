import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder, OnnxType } from '../../../models/pm25/onnx-builder.js';

// Every graph here is serialised by the builder and loaded by the real onnxruntime: a field number, a type tag
// or a byte order written wrong makes the session refuse the model or compute something else.

async function session(model: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

async function runOnce(
  model: Uint8Array,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor>> {
  const s = await session(model);
  try {
    return (await s.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await s.release();
  }
}

const f32 = (values: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(values), dims);
const close = (t: ort.Tensor) => Array.from(t.data as Float32Array).map((v) => Math.round(v * 1e5) / 1e5);

describe('OnnxGraphBuilder on onnxruntime', () => {
  it('writes float, int and ints attributes that onnxruntime reads back', async () => {
    const g = new OnnxGraphBuilder('attrs');
    const x = g.input('x', OnnxType.FLOAT, [2, 3]);
    // float: LeakyRelu's alpha (the default 0.01 would give -0.04 below).
    g.output('leaky', g.op('LeakyRelu', [x], { alpha: { f: 0.25 } }), OnnxType.FLOAT, [2, 3]);
    // ints: Transpose's perm; int: ReduceMax's keepdims = 0 (default 1 would keep a dimension).
    g.output('t', g.op('Transpose', [x], { perm: { ints: [1, 0] } }), OnnxType.FLOAT, [3, 2]);
    g.output(
      'rowmax',
      g.op('ReduceMax', [x], { axes: { ints: [1] }, keepdims: { i: 0 } }),
      OnnxType.FLOAT,
      [2],
    );
    const r = await runOnce(g.build(), { x: f32([-4, 2, 1, 8, -0.5, 3], [2, 3]) });
    expect(close(r.leaky!)).toEqual([-1, 2, 1, 8, -0.125, 3]);
    expect(r.t!.dims).toEqual([3, 2]);
    expect(close(r.t!)).toEqual([-4, 8, 2, -0.5, 1, 3]);
    expect(r.rowmax!.dims).toEqual([2]);
    expect(close(r.rowmax!)).toEqual([2, 8]);
  });

  it('writes negative ints, in int and ints attributes and in int64 constants', async () => {
    const g = new OnnxGraphBuilder('negative');
    const x = g.input('x', OnnxType.FLOAT, [2, 3]);
    // axis -1 of Concat, axes [-2] of ReduceMean, a negative slice step and start, -2^40 in an int64 constant.
    g.output('cat', g.op('Concat', [x, x], { axis: { i: -1 } }), OnnxType.FLOAT, [2, 6]);
    g.output(
      'mean',
      g.op('ReduceMean', [x], { axes: { ints: [-2] }, keepdims: { i: 0 } }),
      OnnxType.FLOAT,
      [3],
    );
    const reversed = g.op('Slice', [
      x,
      g.int64s([-1]),
      g.int64s([-(2 ** 40)]),
      g.int64s([-1]),
      g.int64s([-1]),
    ]);
    g.output('rev', reversed, OnnxType.FLOAT, [2, 3]);
    const n = g.input('n', OnnxType.INT64, [2]);
    g.output('shifted', g.op('Add', [n, g.int64s([-(2 ** 40), -7])]), OnnxType.INT64, [2]);
    const r = await runOnce(g.build(), {
      x: f32([1, 2, 3, 4, 5, 9], [2, 3]),
      n: new ort.Tensor('int64', BigInt64Array.from([10n, 2n ** 41n]), [2]),
    });
    expect(r.cat!.dims).toEqual([2, 6]);
    expect(close(r.cat!)).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 9, 4, 5, 9]);
    expect(r.mean!.dims).toEqual([3]);
    expect(close(r.mean!)).toEqual([2.5, 3.5, 6]);
    expect(close(r.rev!)).toEqual([3, 2, 1, 9, 5, 4]);
    expect(Array.from(r.shifted!.data as BigInt64Array)).toEqual([10n - 2n ** 40n, 2n ** 41n - 7n]);
  });

  it('writes scalar uint8 and int64 constants (rank 0) and float constants of any shape', async () => {
    const g = new OnnxGraphBuilder('scalars');
    const u = g.input('u', OnnxType.UINT8, [4]);
    // The uint8 constant is a scalar by default; compared in uint8, as the clipping gate does.
    const byte = g.uint8s([200]);
    g.output('ge', g.op('GreaterOrEqual', [u, byte]), OnnxType.BOOL, [4]);
    g.output('byte', g.op('Cast', [byte], { to: { i: OnnxType.FLOAT } }), OnnxType.FLOAT, []);
    const i = g.input('i', OnnxType.INT64, [3]);
    const three = g.int64s([3], []);
    g.output('plus', g.op('Add', [i, three]), OnnxType.INT64, [3]);
    g.output('three', g.op('Identity', [three]), OnnxType.INT64, []);
    // Float constants: a scalar and a 2x2 matrix, row-major.
    const x = g.input('x', OnnxType.FLOAT, [2]);
    const m = g.floats([1, 2, 3, 4], [2, 2]);
    g.output('scaled', g.op('Mul', [x, g.floats([0.5], [])]), OnnxType.FLOAT, [2]);
    g.output('mx', g.op('MatMul', [g.op('Unsqueeze', [x, g.int64s([0])]), m]), OnnxType.FLOAT, [1, 2]);
    const r = await runOnce(g.build(), {
      u: new ort.Tensor('uint8', Uint8Array.from([0, 199, 200, 255]), [4]),
      i: new ort.Tensor('int64', BigInt64Array.from([-5n, 0n, 2n ** 40n]), [3]),
      x: f32([1, 10], [2]),
    });
    expect(Array.from(r.ge!.data as Uint8Array, Boolean)).toEqual([false, false, true, true]);
    expect(r.byte!.dims).toEqual([]);
    expect(close(r.byte!)).toEqual([200]);
    expect(r.three!.dims).toEqual([]);
    expect(r.three!.type).toBe('int64');
    expect(Array.from(r.plus!.data as BigInt64Array)).toEqual([-2n, 3n, 2n ** 40n + 3n]);
    expect(close(r.scaled!)).toEqual([0.5, 5]);
    expect(close(r.mx!)).toEqual([1 + 30, 2 + 40]);
  });

  it('wires every output of a multi-output op (TopK: values and indices)', async () => {
    const g = new OnnxGraphBuilder('topk');
    const x = g.input('x', OnnxType.FLOAT, [1, 5]);
    const [values, indices] = g.opN('TopK', [x, g.int64s([2])], 2, { axis: { i: -1 }, largest: { i: 0 } });
    expect(values).not.toBe(indices);
    g.output('values', values!, OnnxType.FLOAT, [1, 2]);
    g.output('indices', indices!, OnnxType.INT64, [1, 2]);
    const r = await runOnce(g.build(), { x: f32([5, -1, 3, -2, 0], [1, 5]) });
    expect(close(r.values!)).toEqual([-2, -1]);
    expect(Array.from(r.indices!.data as BigInt64Array)).toEqual([3n, 1n]);
  });

  it('gives each node and constant its own name, so repeated ops do not collide', async () => {
    const g = new OnnxGraphBuilder('names');
    const x = g.input('x', OnnxType.FLOAT, [2]);
    const a = g.op('Add', [x, g.floats([1, 1])]);
    const b = g.op('Add', [a, g.floats([10, 10])]);
    expect(new Set([a, b, x]).size).toBe(3);
    g.output('y', b, OnnxType.FLOAT, [2]);
    const r = await runOnce(g.build(), { x: f32([0, 1], [2]) });
    expect(close(r.y!)).toEqual([11, 12]);
  });

  it('writes named dynamic dimensions as such, and fixed ones as fixed', async () => {
    const g = new OnnxGraphBuilder('dynamic');
    const x = g.input('x', OnnxType.FLOAT, ['batch', 3]);
    g.output('s', g.op('ReduceSum', [x, g.int64s([1])], { keepdims: { i: 0 } }), OnnxType.FLOAT, ['batch']);
    const s = await session(g.build());
    try {
      const meta = s.inputMetadata[0]!;
      expect(meta.name).toBe('x');
      expect(meta.isTensor && meta.shape).toEqual(['batch', 3]);
      const out = s.outputMetadata[0]!;
      expect(out.name).toBe('s');
      expect(out.isTensor && out.shape).toEqual(['batch']);
      for (const rows of [1, 4]) {
        const x = f32(
          Array.from({ length: rows * 3 }, (_, i) => i),
          [rows, 3],
        );
        const r = (await s.run({ x })) as Record<string, ort.Tensor>;
        expect(r.s!.dims).toEqual([rows]);
        expect(close(r.s!)).toEqual(Array.from({ length: rows }, (_, k) => 9 * k + 3));
      }
      // The fixed dimension is enforced.
      await expect(s.run({ x: f32([1, 2, 3, 4], [2, 2]) })).rejects.toThrow();
    } finally {
      await s.release();
    }
  });

  it('declares opset 17 unless told otherwise, and onnxruntime holds the graph to the opset written', async () => {
    // ReduceMean with an `axes` attribute is opset ≤ 17; from opset 18 `axes` is an input.
    const reduceMean = () => {
      const g = new OnnxGraphBuilder('reduce');
      const x = g.input('x', OnnxType.FLOAT, [2, 2]);
      g.output(
        'm',
        g.op('ReduceMean', [x], { axes: { ints: [1] }, keepdims: { i: 0 } }),
        OnnxType.FLOAT,
        [2],
      );
      return g;
    };
    const feeds = { x: f32([1, 3, 5, 9], [2, 2]) };
    expect(close((await runOnce(reduceMean().build(), feeds)).m!)).toEqual([2, 7]);
    expect(close((await runOnce(reduceMean().build(17), feeds)).m!)).toEqual([2, 7]);
    await expect(runOnce(reduceMean().build(18), feeds)).rejects.toThrow(/axes|attribute/i);

    // BitwiseAnd appeared in opset 18: refused at the default opset, accepted when 18 is written.
    const bitwise = () => {
      const g = new OnnxGraphBuilder('bitwise');
      const a = g.input('a', OnnxType.UINT8, [2]);
      g.output('y', g.op('BitwiseAnd', [a, g.uint8s([0x0f])]), OnnxType.UINT8, [2]);
      return g;
    };
    const bytes = { a: new ort.Tensor('uint8', Uint8Array.from([0xab, 0x30]), [2]) };
    await expect(runOnce(bitwise().build(), bytes)).rejects.toThrow(/BitwiseAnd/);
    const r = await runOnce(bitwise().build(18), bytes);
    expect(Array.from(r.y!.data as Uint8Array)).toEqual([0x0b, 0x00]);
  });
});
