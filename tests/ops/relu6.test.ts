/**
 * RELU6 int8: TFLM's Relu6Quantized, a clamp of the input bytes to [zp_in, round(6 / scale_in) + zp_in], as
 * a 256-entry table. TFLM does not requantize RELU6 (its Prepare reads only the input), while TFLite
 * does: with equal input and output quantization both agree and the TFLite runtime is the oracle; with
 * different ones tinyforge follows TFLM, checked against the formula.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UnsupportedError } from '../../compiler/errors.ts';
import type { UnaryCase } from './elementwise_harness.ts';
import { buildCases, buildUnary, expectError, expectHostC, expectTflite, makeRuns, prepare, sweep } from './elementwise_harness.ts';

// [scale, zero point] of input and output.
const QUANT: readonly (readonly [number, number])[] = [
  [0.05, -5],
  [0.0235294, -128], // 6.0 at the top of the range (MobileNet's [0, 6] quantization)
  [0.1, 127],
  [0.01, -20], // 6.0 past the int8 range
  [0.5, 0],
  [0.0371, 64],
];
const SHAPES = [[256], [5, 53], [1, 3, 9, 11]];
const CASES: UnaryCase[] = QUANT.map(([s, z], i) => ({ op: 'Relu6', input: { scale: s, zeroPoint: z }, output: { scale: s, zeroPoint: z }, shape: SHAPES[i % SHAPES.length]! }));

/** TFLM's Relu6 on input -128..127: clamp to [zp, min(127, round(6 / scale) + zp)]. */
function tflmRelu6(scale: number, zeroPoint: number): number[] {
  const six = Math.min(127, Math.round(Math.fround(6 / Math.fround(scale))) + zeroPoint);
  return Array.from({ length: 256 }, (_, i) => Math.min(Math.max(i - 128, zeroPoint), six));
}

test('relu6: reference equals the TFLite runtime when input and output quantization agree', async () => {
  const g = buildCases('relu6', CASES);
  await expectTflite(g, makeRuns(g, 3, 61));
});

test('relu6: host C and wasm (SIMD, scalar) equal the reference', async () => {
  const g = buildCases('relu6', [...CASES, { op: 'Relu6', input: { scale: 0.05, zeroPoint: -5 }, output: { scale: 0.03, zeroPoint: -128 }, shape: [300] }]);
  await expectHostC(g, makeRuns(g, 2, 62));
});

test('relu6: follows TFLM (no requantization) when the output quantization differs', () => {
  for (const [s, z] of QUANT) {
    assert.equal(Array.from(sweep('Relu6', {}, { scale: s, zeroPoint: z }, { scale: s * 0.7, zeroPoint: -128 })), tflmRelu6(s, z), `scale ${s} zp ${z}`);
  }
});

test('relu6: refuses a scale 6.0 overflows and non-int8 types', () => {
  expectError(() => prepare(buildUnary({ op: 'Relu6', input: { scale: 1e-10, zeroPoint: 0 }, output: { scale: 1e-10, zeroPoint: 0 }, shape: [4] })), UnsupportedError, /6\.0/);
  expectError(() => prepare(buildUnary({ op: 'Relu6', input: null, output: { scale: 0.1, zeroPoint: 0 }, shape: [4], inputType: 'float32' })), UnsupportedError, /float32/);
});

test.run();
