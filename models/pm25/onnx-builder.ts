import { ProtoWriter } from './protobuf-writer.js';

/** ONNX TensorProto.DataType values used here. */
export const OnnxType = { FLOAT: 1, UINT8: 2, INT64: 7, BOOL: 9 } as const;
export type OnnxType = (typeof OnnxType)[keyof typeof OnnxType];

export type OnnxAttr = { i: number } | { f: number } | { ints: number[] };

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, OnnxAttr>;
}

interface Initializer {
  name: string;
  type: OnnxType;
  dims: number[];
  raw: Uint8Array;
}

interface ValueInfo {
  name: string;
  type: OnnxType;
  /** A number is a fixed size; a string a named dynamic dimension. */
  dims: (number | string)[];
}

/**
 * Builds an ONNX graph node by node and serialises it (field numbers from onnx/onnx.proto). Names are
 * generated so callers only wire outputs to inputs.
 */
export class OnnxGraphBuilder {
  private nodes: NodeSpec[] = [];
  private initializers: Initializer[] = [];
  private inputs: ValueInfo[] = [];
  private outputs: ValueInfo[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  input(name: string, type: OnnxType, dims: (number | string)[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }

  /** Marks `value` as a graph output called `name` (an Identity keeps internal names free). */
  output(name: string, value: string, type: OnnxType, dims: (number | string)[]): void {
    this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], attrs: {} });
    this.outputs.push({ name, type, dims });
  }

  floats(values: number[], dims: number[] = [values.length]): string {
    const raw = new Uint8Array(values.length * 4);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.constant(OnnxType.FLOAT, dims, raw);
  }

  uint8s(values: number[], dims: number[] = []): string {
    return this.constant(OnnxType.UINT8, dims, Uint8Array.from(values));
  }

  int64s(values: number[], dims: number[] = [values.length]): string {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    return this.constant(OnnxType.INT64, dims, raw);
  }

  private constant(type: OnnxType, dims: number[], raw: Uint8Array): string {
    const name = this.fresh('const');
    this.initializers.push({ name, type, dims, raw });
    return name;
  }

  /** Adds a node and returns its single output's name. */
  op(op: string, inputs: string[], attrs: Record<string, OnnxAttr> = {}): string {
    return this.opN(op, inputs, 1, attrs)[0]!;
  }

  opN(op: string, inputs: string[], outputs: number, attrs: Record<string, OnnxAttr> = {}): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(op.toLowerCase()));
    this.nodes.push({ op, inputs, outputs: names, attrs });
    return names;
  }

  /** Serialised ModelProto. */
  build(opset = 17): Uint8Array {
    const w = new ProtoWriter();
    w.int(1, 8); // ir_version 8 (ONNX 1.10+), readable by every onnxruntime Vigil supports
    w.string(2, 'vigil');
    w.message(8, (o) => o.string(1, '').int(2, opset));
    w.message(7, (g) => {
      for (const n of this.nodes) g.message(1, (m) => writeNode(m, n));
      g.string(2, this.name);
      for (const t of this.initializers) g.message(5, (m) => writeTensor(m, t));
      for (const v of this.inputs) g.message(11, (m) => writeValueInfo(m, v));
      for (const v of this.outputs) g.message(12, (m) => writeValueInfo(m, v));
    });
    return w.finish();
  }
}

function writeNode(w: ProtoWriter, n: NodeSpec): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(4, n.op);
  for (const [name, a] of Object.entries(n.attrs)) {
    w.message(5, (m) => {
      m.string(1, name);
      if ('i' in a) m.int(3, a.i).int(20, 2);
      else if ('f' in a) m.float(2, a.f).int(20, 1);
      else {
        for (const v of a.ints) m.int(8, v);
        m.int(20, 7);
      }
    });
  }
}

function writeTensor(w: ProtoWriter, t: Initializer): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.type);
  w.string(8, t.name);
  w.bytes(9, t.raw);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.type);
      tensor.message(2, (shape) => {
        for (const d of v.dims)
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}
