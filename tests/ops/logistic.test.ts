/** LOGISTIC int8: TFLM's fixed-point sigmoid as a 256-entry table; reference vs TFLite runtime and host C. */
import { test } from 'uvu';
import { UnsupportedError } from '../../compiler/errors.ts';
import type { UnaryCase } from './elementwise_harness.ts';
import { buildCases, buildUnary, expectError, expectHostC, expectTflite, makeRuns, prepare } from './elementwise_harness.ts';

const OUT = { scale: 1 / 256, zeroPoint: -128 };
const SHAPES = [[262], [2, 131], [1, 7, 5, 8]];
// Scales from "everything saturates" down to "nothing does", a power of two, and zero points at both extremes.
const INPUTS = [
  { scale: 0.5, zeroPoint: 0 },
  { scale: 0.1, zeroPoint: -128 },
  { scale: 0.0625, zeroPoint: 127 },
  { scale: 0.0371, zeroPoint: 3 },
  { scale: 0.02, zeroPoint: -20 },
  { scale: 0.00390625, zeroPoint: 0 },
  { scale: 0.0007, zeroPoint: 50 },
  { scale: 4.5, zeroPoint: -1 },
];
const CASES: UnaryCase[] = INPUTS.map((input, i) => ({ op: 'Logistic', input, output: OUT, shape: SHAPES[i % SHAPES.length]! }));

test('logistic: reference equals the TFLite runtime on every input byte', async () => {
  const g = buildCases('logistic', CASES);
  await expectTflite(g, makeRuns(g, 3, 11));
});

test('logistic: host C equals the reference', async () => {
  const g = buildCases('logistic', CASES);
  await expectHostC(g, makeRuns(g, 2, 12));
});

test('logistic: refuses an output zero point other than -128 and non-int8 types', () => {
  expectError(() => prepare(buildUnary({ op: 'Logistic', input: { scale: 0.1, zeroPoint: 0 }, output: { scale: 1 / 256, zeroPoint: 0 }, shape: [4] })), UnsupportedError, /zero point -128/);
  expectError(() => prepare(buildUnary({ op: 'Logistic', input: null, output: OUT, shape: [4], inputType: 'float32' })), UnsupportedError, /float32/);
});

test.run();
