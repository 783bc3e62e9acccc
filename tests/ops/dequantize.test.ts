/**
 * DEQUANTIZE int8 -> float32 (TFLM reference_ops::Dequantize: scale * (q - zp) in float32): reference vs
 * TFLite runtime and host C vs reference, compared as float32 bit patterns.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UnsupportedError } from '../../compiler/errors.ts';
import type { UnaryCase } from './elementwise_harness.ts';
import { buildCases, buildUnary, expectError, expectHostC, expectTflite, makeRuns, prepare, reference } from './elementwise_harness.ts';

const QUANT: readonly (readonly [number, number])[] = [[0.0371, 3], [0.1, -128], [0.00390625, 127], [1e-6, 0], [3.3e4, -7], [0.0235294, -1]];
const SHAPES = [[256], [3, 91], [1, 5, 5, 11]];
const CASES: UnaryCase[] = QUANT.map(([s, z], i) => ({ op: 'Dequantize', input: { scale: s, zeroPoint: z }, output: null, shape: SHAPES[i % SHAPES.length]! }));

test('dequantize: reference equals the TFLite runtime', async () => {
  const g = buildCases('dequantize', CASES);
  await expectTflite(g, makeRuns(g, 3, 81));
});

test('dequantize: host C and wasm (SIMD, scalar) equal the reference', async () => {
  const g = buildCases('dequantize', CASES);
  await expectHostC(g, makeRuns(g, 2, 82));
});

test('dequantize: is the float32 product of the scale and q - zp', () => {
  const g = buildUnary({ op: 'Dequantize', input: { scale: 0.1, zeroPoint: 3 }, output: null, shape: [256] });
  const x = Int8Array.from({ length: 256 }, (_, i) => i - 128);
  const y = new Float32Array(reference(g, [new Uint8Array(x.buffer)])[0]!.buffer);
  assert.equal(Array.from(y), Array.from(x, (q) => Math.fround(Math.fround(0.1) * (q - 3))));
});

test('dequantize: refuses non-int8 inputs', () => {
  expectError(() => prepare(buildUnary({ op: 'Dequantize', input: { scale: 0.1, zeroPoint: 0 }, output: null, shape: [4], inputType: 'uint8' })), UnsupportedError, /uint8/);
});

test.run();
