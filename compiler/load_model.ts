/** @fileoverview Reads a model file and picks its frontend from the file's own identifier. */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Graph } from './ir/graph.ts';
import { importTflite } from './frontend/tflite/import.ts';
import { UnsupportedError, UserError } from './errors.ts';

export function isTfliteFile(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3';
}

export function loadModelBytes(bytes: Uint8Array, name: string): Graph {
  if (isTfliteFile(bytes)) return importTflite(bytes, name);
  throw new UnsupportedError(`${name}: not a TFLite flatbuffer (no "TFL3" identifier at byte 4)`);
}

export function loadModelFile(path: string): Graph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`cannot read model file '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const name = basename(path, extname(path));
  try {
    return loadModelBytes(bytes, name);
  } catch (e) {
    if (e instanceof UserError) {
      e.message = `${path}: ${e.message}`;
      throw e;
    }
    throw e;
  }
}
