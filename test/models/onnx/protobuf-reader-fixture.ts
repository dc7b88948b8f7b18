import { fields } from '../../../models/onnx/protobuf-reader.js';

// Bytes in, fields out: shorthands the protobuf-reader*.test.ts files share.

export const bytes = (...b: number[]) => Uint8Array.from(b);
export const list = (buf: Uint8Array, start?: number, end?: number) => [...fields(buf, start, end)];
