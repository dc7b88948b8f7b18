import { readFileSync } from 'node:fs';
import { fields, ProtobufError, text } from './protobuf-reader.js';

/** A graph input or output: name, ONNX element type, and dims (null where symbolic). */
export interface TensorInfo {
  name: string;
  elemType: number;
  dims: (number | null)[];
}

export interface OnnxInfo {
  metadata: Record<string, string>;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  producer: string;
}

/** ONNX TensorProto.DataType values we care about. */
export const onnxElemType = { float: 1, uint8: 2, int8: 3, float16: 10 } as const;

function tensorInfo(buf: Uint8Array, start: number, end: number): TensorInfo {
  let name = '';
  let elemType = 0;
  const dims: (number | null)[] = [];
  for (const f of fields(buf, start, end)) {
    if (f.no === 1 && f.wireType === 2) name = text(buf, f);
    if (f.no !== 2 || f.wireType !== 2) continue; // TypeProto
    for (const t of fields(buf, f.start, f.end)) {
      if (t.no !== 1 || t.wireType !== 2) continue; // TypeProto.Tensor
      for (const tt of fields(buf, t.start, t.end)) {
        if (tt.no === 1 && tt.wireType === 0) elemType = Number(tt.value);
        if (tt.no !== 2 || tt.wireType !== 2) continue; // TensorShapeProto
        for (const d of fields(buf, tt.start, tt.end)) {
          if (d.no !== 1 || d.wireType !== 2) continue;
          let dim: number | null = null;
          for (const dv of fields(buf, d.start, d.end))
            if (dv.no === 1 && dv.wireType === 0) dim = Number(dv.value);
          dims.push(dim !== null && dim > 0 ? dim : null);
        }
      }
    }
  }
  return { name, elemType, dims };
}

/**
 * Reads metadata_props and the graph's real inputs/outputs from an ONNX file (onnxruntime-node exposes
 * neither the metadata nor symbolic dims). Throws a clear error for a file that is not a whole ONNX model.
 */
export function readOnnxInfo(source: string | Uint8Array): OnnxInfo {
  const buf = typeof source === 'string' ? readFileSync(source) : source;
  const info: OnnxInfo = { metadata: {}, inputs: [], outputs: [], producer: '' };
  let sawGraph = false;
  try {
    for (const f of fields(buf)) {
      if (f.no === 2 && f.wireType === 2) info.producer = text(buf, f);
      if (f.no === 14 && f.wireType === 2) {
        let key = '';
        let value = '';
        for (const kv of fields(buf, f.start, f.end)) {
          if (kv.no === 1) key = text(buf, kv);
          if (kv.no === 2) value = text(buf, kv);
        }
        info.metadata[key] = value;
      }
      if (f.no === 7 && f.wireType === 2) {
        sawGraph = true;
        const initializers = new Set<string>();
        const inputs: TensorInfo[] = [];
        for (const g of fields(buf, f.start, f.end)) {
          if (g.no === 5 && g.wireType === 2) {
            for (const t of fields(buf, g.start, g.end))
              if (t.no === 8 && t.wireType === 2) initializers.add(text(buf, t));
          }
          if (g.no === 11 && g.wireType === 2) inputs.push(tensorInfo(buf, g.start, g.end));
          if (g.no === 12 && g.wireType === 2) info.outputs.push(tensorInfo(buf, g.start, g.end));
        }
        // Old exporters list weights as inputs too; the real inputs are those without an initializer.
        info.inputs = inputs.filter((i) => !initializers.has(i.name));
      }
    }
  } catch (err) {
    if (err instanceof ProtobufError) throw new Error(`not a valid ONNX file: ${err.message}`);
    throw err;
  }
  if (!sawGraph || !info.inputs.length || !info.outputs.length) {
    throw new Error('not a valid ONNX file: no graph with inputs and outputs');
  }
  return info;
}

/** Ultralytics writes `names` as a Python dict literal: {0: 'person', 1: 'bicycle', …}. */
export function parseUltralyticsNames(value: string): string[] | undefined {
  const names: string[] = [];
  const re = /(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;
  for (let m = re.exec(value); m; m = re.exec(value))
    names[Number(m[1])] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  if (!names.length) return undefined;
  return Array.from(names, (n, i) => n ?? `class${i}`);
}

/** `[640, 640]` or `640` -> [height, width] as Ultralytics writes imgsz. */
export function parseImgsz(value: string | undefined): [number, number] | undefined {
  if (!value) return undefined;
  const nums = value.match(/\d+/g)?.map(Number) ?? [];
  if (nums.length === 1) return [nums[0]!, nums[0]!];
  if (nums.length >= 2) return [nums[0]!, nums[1]!];
  return undefined;
}
