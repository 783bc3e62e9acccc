/** @fileoverview Reads a model file and picks its frontend from the file's own identifier. */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Graph } from './ir/graph.ts';
import { importTflite } from './frontend/tflite/import.ts';
import { importOnnx } from './frontend/onnx/import.ts';
import type { OnnxImportOptions } from './frontend/onnx/import.ts';
import { UnsupportedError, UserError } from './errors.ts';

export function isTfliteFile(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3';
}

/** An ONNX ModelProto starts with its ir_version field (field 1, varint: tag byte 0x08). */
export function isOnnxFile(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === 0x08;
}

export type LoadOptions = OnnxImportOptions;

export function loadModelBytes(bytes: Uint8Array, name: string, options: LoadOptions = {}): Graph {
  if (isTfliteFile(bytes)) {
    if (options.inputLayout) throw new UserError('--input-layout applies to ONNX models; a TFLite model is NHWC already');
    return importTflite(bytes, name);
  }
  if (isOnnxFile(bytes)) return importOnnx(bytes, name, options);
  throw new UnsupportedError(`${name}: neither a TFLite flatbuffer (no "TFL3" identifier at byte 4) nor an ONNX model (which starts with its ir_version field)`);
}

export function loadModelFile(path: string, options: LoadOptions = {}): Graph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`cannot read model file '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const name = basename(path, extname(path));
  try {
    return loadModelBytes(bytes, name, options);
  } catch (e) {
    if (e instanceof UserError) {
      e.message = `${path}: ${e.message}`;
      throw e;
    }
    throw e;
  }
}
