/**
 * RELU int8: TFLM's ReluQuantized (requantize to the output scale, clamp at the output zero point) as a
 * 256-entry table; reference vs TFLite runtime and host C vs reference.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UnsupportedError } from '../../compiler/errors.ts';
import type { UnaryCase } from './elementwise_harness.ts';
import { buildCases, buildUnary, expectError, expectHostC, expectTflite, makeRuns, prepare, sweep } from './elementwise_harness.ts';

// [input scale, input zero point, output scale, output zero point]
const QUANT: readonly (readonly [number, number, number, number])[] = [
  [0.05, -5, 0.05, -5], // same quantization: a clamp
  [0.05, -5, 0.03, -128],
  [0.1, 127, 0.2, -128],
  [0.02, -128, 0.01, 0],
  [0.03, 0, 0.5, 127], // the output zero point is the maximum: a constant
  [0.007, 40, 0.0031, -100],
];
const SHAPES = [[256], [5, 53], [1, 3, 9, 11]];
const CASES: UnaryCase[] = QUANT.map(([si, zi, so, zo], i) => ({
  op: 'Relu', input: { scale: si, zeroPoint: zi }, output: { scale: so, zeroPoint: zo }, shape: SHAPES[i % SHAPES.length]!,
}));

test('relu: reference equals the TFLite runtime', async () => {
  const g = buildCases('relu', CASES);
  await expectTflite(g, makeRuns(g, 3, 51));
});

test('relu: host C and wasm (SIMD, scalar) equal the reference', async () => {
  const g = buildCases('relu', CASES);
  await expectHostC(g, makeRuns(g, 2, 52));
});

test('relu: with equal quantization it is max(x, zero point)', () => {
  const out = sweep('Relu', {}, { scale: 0.05, zeroPoint: -5 }, { scale: 0.05, zeroPoint: -5 });
  assert.equal(Array.from(out), Array.from({ length: 256 }, (_, i) => Math.max(i - 128, -5)));
});

test('relu: refuses non-int8 types', () => {
  expectError(() => prepare(buildUnary({ op: 'Relu', input: null, output: { scale: 0.1, zeroPoint: 0 }, shape: [4], inputType: 'float32' })), UnsupportedError, /float32/);
});

test.run();
