/**
 * @fileoverview Paths to ../shared (models, golden vectors), which CI lays beside the checkout.
 * They are test fixtures only and are never copied into the project.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const SHARED = resolve(REPO_ROOT, '../shared');

if (!existsSync(SHARED)) throw new Error(`tests need the shared models and golden vectors at ${SHARED}`);

export interface GoldenModel {
  readonly name: string;
  readonly path: string;
}

/** Every model that has TFLM golden vectors. */
export const GOLDEN_MODELS: readonly GoldenModel[] = [
  { name: 'hello_world_int8', path: join(SHARED, 'models/tflm/hello_world_int8.tflite') },
  { name: 'kws_ref_model', path: join(SHARED, 'models/mlperf-tiny/kws_ref_model.tflite') },
  { name: 'pretrainedResnet_quant', path: join(SHARED, 'models/mlperf-tiny/pretrainedResnet_quant.tflite') },
  { name: 'vww_96_int8', path: join(SHARED, 'models/mlperf-tiny/vww_96_int8.tflite') },
];

export const GOLDEN_CASES = 8;

export function goldenInput(model: string, k: number): Uint8Array {
  return readFileSync(join(SHARED, 'golden/tflm', model, `input${k}.bin`));
}

export function goldenOutput(model: string, k: number): Uint8Array {
  return readFileSync(join(SHARED, 'golden/tflm', model, `output${k}.bin`));
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
