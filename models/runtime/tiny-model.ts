/**
 * A one-node ONNX model, `y = x + x` on a float tensor of shape [1], written as protobuf bytes by hand.
 * It lets `vigil doctor` ask each execution provider for a real session (and a real run) without
 * shipping a model file or depending on a protobuf library. Field numbers are those of onnx.proto3.
 */

const wireVarint = 0;
const wireBytes = 2;

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const tag = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, value: number) => [...tag(field, wireVarint), ...varint(value)];
const bytes = (field: number, payload: number[]) => [
  ...tag(field, wireBytes),
  ...varint(payload.length),
  ...payload,
];
const str = (field: number, text: string) => bytes(field, [...new TextEncoder().encode(text)]);

/** TensorProto.DataType.FLOAT */
const float32 = 1;

/** ValueInfoProto{name, type: TypeProto{tensor_type{elem_type, shape{dim{dim_value}}}}} */
function floatTensorInfo(name: string, length: number): number[] {
  const shape = bytes(2, bytes(1, int(1, length)));
  const tensorType = [...int(1, float32), ...shape];
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}

export const tinyModelIo = { input: 'x', output: 'y', length: 1 } as const;

/** The ONNX bytes: IR version 8, default-domain opset 13, one Add node. */
export function tinyModel(): Uint8Array {
  const { input, output, length } = tinyModelIo;
  // NodeProto{input: [x, x], output: [y], name, op_type: Add}
  const node = [...str(1, input), ...str(1, input), ...str(2, output), ...str(3, 'double'), ...str(4, 'Add')];
  // GraphProto{node, name, input (11), output (12)}
  const graph = [
    ...bytes(1, node),
    ...str(2, 'vigil-probe'),
    ...bytes(11, floatTensorInfo(input, length)),
    ...bytes(12, floatTensorInfo(output, length)),
  ];
  // ModelProto{ir_version, producer_name, graph (7), opset_import (8): {domain "", version}}
  const model = [...int(1, 8), ...str(2, 'vigil'), ...bytes(7, graph), ...bytes(8, int(2, 13))];
  return Uint8Array.from(model);
}
