import { ProtoWriter } from '../../models/pm25/protobuf-writer.js';
import { floatToHalf, halfToFloat } from '../../models/runtime/float16.js';

const FLOAT = 1;
const FLOAT16 = 10;

export interface TinyDetectorSpec {
  inputType?: 'float32' | 'float16';
  /** Input height and width: a number is fixed, a string a symbolic (dynamic) dimension. */
  size: [number | string, number | string];
  /** The detection output's dims and its value: `values + max(input tensor) · gain`. */
  output: number[];
  values: Float32Array;
  gain?: Float32Array;
  metadata?: Record<string, string>;
  /** Further constant outputs (a segmentation model's mask prototypes, say). */
  extra?: { name: string; dims: number[] }[];
}

/**
 * A real ONNX detector in miniature, for the layouts no real model here has: its output is a constant
 * tensor of the wanted layout plus the input's maximum times a gain, so a test controls the boxes and sees
 * its input arrive (scaled, in fp16 when asked). Computes in float32 between Casts, like mixed-precision
 * exports, so onnxruntime's CPU kernels suffice.
 */
export function tinyDetector(spec: TinyDetectorSpec): Uint8Array {
  const elem = spec.inputType === 'float16' ? FLOAT16 : FLOAT;
  const w = new ProtoWriter();
  w.int(1, 8); // ir_version
  w.string(2, 'vigil-test');
  w.message(8, (o) => o.string(1, '').int(2, 17));
  w.message(7, (g) => {
    const node = (op: string, inputs: string[], output: string, attrs: (m: ProtoWriter) => void = () => {}) =>
      g.message(1, (n) => {
        for (const i of inputs) n.string(1, i);
        n.string(2, output);
        n.string(4, op);
        attrs(n);
      });
    const intAttr = (name: string, v: number) => (n: ProtoWriter) =>
      n.message(5, (a) => a.string(1, name).int(3, v).int(20, 2));
    const gain = spec.gain ?? new Float32Array(spec.values.length);
    if (elem === FLOAT16) node('Cast', ['images'], 'x', intAttr('to', FLOAT));
    node('ReduceMax', [elem === FLOAT16 ? 'x' : 'images'], 'max', intAttr('keepdims', 0));
    node('Mul', ['max', 'gain'], 'scaled');
    node('Add', ['scaled', 'values'], elem === FLOAT16 ? 'y' : 'output0');
    if (elem === FLOAT16) node('Cast', ['y'], 'output0', intAttr('to', FLOAT16));
    for (const e of spec.extra ?? []) node('Identity', [`${e.name}_const`], e.name);
    g.string(2, 'tiny-detector');
    const tensor = (name: string, dims: number[], data: Float32Array) =>
      g.message(5, (t) => {
        for (const d of dims) t.int(1, d);
        t.int(2, FLOAT).string(8, name);
        t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      });
    tensor('values', spec.output, spec.values);
    tensor('gain', spec.output, gain);
    for (const e of spec.extra ?? [])
      tensor(`${e.name}_const`, e.dims, new Float32Array(e.dims.reduce((a, b) => a * b, 1)));
    valueInfo(g, 11, 'images', elem, [1, 3, ...spec.size]);
    valueInfo(g, 12, 'output0', elem, spec.output);
    for (const e of spec.extra ?? []) valueInfo(g, 12, e.name, FLOAT, e.dims);
  });
  for (const [key, value] of Object.entries(spec.metadata ?? {}))
    w.message(14, (m) => m.string(1, key).string(2, value));
  return w.finish();
}

function valueInfo(g: ProtoWriter, field: number, name: string, elem: number, dims: (number | string)[]) {
  g.message(field, (v) => {
    v.string(1, name);
    v.message(2, (type) =>
      type.message(1, (t) => {
        t.int(1, elem);
        t.message(2, (shape) => {
          for (const d of dims)
            shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        });
      }),
    );
  });
}

/** Half-precision rounding of a float, as an fp16 graph output carries it. */
export const viaHalf = (v: number) => halfToFloat(floatToHalf(v));

/** Ultralytics names metadata for `n` classes. */
export const ultralyticsNames = (names: string[]) => `{${names.map((n, i) => `${i}: '${n}'`).join(', ')}}`;
