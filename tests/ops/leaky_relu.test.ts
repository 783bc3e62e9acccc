/**
 * LEAKY_RELU int8: TFLM's QuantizeLeakyRelu (identity and alpha multipliers) as a 256-entry table;
 * reference vs TFLite runtime (alpha below 0, 0, small, above 1; scales up and down; zero points at the
 * extremes) and host C vs reference.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UnsupportedError } from '../../compiler/errors.ts';
import type { UnaryCase } from './elementwise_harness.ts';
import { buildCases, buildUnary, expectError, expectHostC, expectTflite, makeRuns, prepare, sweep } from './elementwise_harness.ts';
import { leakyRelu } from '../../compiler/ops/leaky_relu.ts';

// [alpha, input scale, input zero point, output scale, output zero point]
const QUANT: readonly (readonly [number, number, number, number, number])[] = [
  [0.2, 0.05, -5, 0.045, 10],
  [0.01, 0.1, 127, 0.1, 127],
  [0.3, 0.02, -128, 0.013, -128],
  [0, 0.04, 0, 0.02, -50],
  [-0.5, 0.03, 20, 0.05, 0],
  [1.7, 0.01, -3, 0.03, 4],
  [0.1, 0.002, 60, 0.2, -1], // output scale >> input scale: everything near the zero point
];
const SHAPES = [[257], [3, 87], [2, 2, 2, 33]];
const CASES: UnaryCase[] = QUANT.map(([alpha, si, zi, so, zo], i) => ({
  op: 'LeakyRelu', attrs: { alpha }, input: { scale: si, zeroPoint: zi }, output: { scale: so, zeroPoint: zo }, shape: SHAPES[i % SHAPES.length]!,
}));

test('leaky relu: reference equals the TFLite runtime', async () => {
  const g = buildCases('leaky_relu', CASES);
  await expectTflite(g, makeRuns(g, 3, 41));
});

test('leaky relu: host C and wasm (SIMD, scalar) equal the reference', async () => {
  const g = buildCases('leaky_relu', CASES);
  await expectHostC(g, makeRuns(g, 2, 42));
});

test('leaky relu: alpha is read as float32, like the .tflite stores it', () => {
  assert.equal(leakyRelu.tflite!.attrs({ alpha: Math.fround(0.2) }), { alpha: Math.fround(0.2) });
  // 0.2 and its float32 rounding give the same table.
  const q = { scale: 0.05, zeroPoint: -5 };
  const o = { scale: 0.045, zeroPoint: 10 };
  assert.equal(sweep('LeakyRelu', { alpha: 0.2 }, q, o), sweep('LeakyRelu', { alpha: Math.fround(0.2) }, q, o));
});

test('leaky relu: refuses non-int8 types', () => {
  expectError(() => prepare(buildUnary({ op: 'LeakyRelu', attrs: { alpha: 0.1 }, input: null, output: { scale: 0.1, zeroPoint: 0 }, shape: [4], inputType: 'float32' })), UnsupportedError, /float32/);
});

test.run();
