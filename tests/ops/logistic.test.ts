/**
 * LOGISTIC int8: TFLM's fixed-point sigmoid as a 256-entry table. Exactness comes from the TFLM/gemmlowp
 * golden tables, which include power-of-two scales (where the real sigmoid lands on rounding ties) and
 * large ones (where TFLM's input radius saturates early). The TFLite runtime, whose int8 logistic is a
 * float table that does neither, is checked on scales where the two agree. Host C against the reference.
 */
import { test } from 'uvu';
import { UnsupportedError } from '../../compiler/errors.ts';
import type { UnaryCase } from './elementwise_harness.ts';
import {
  activationsGolden, assertSweep, buildCases, buildUnary, expectError, expectHostC, expectTflite, fromBits, makeRuns, prepare, sweep, unpackTable,
} from './elementwise_harness.ts';

const OUT = { scale: 1 / 256, zeroPoint: -128 };
const SHAPES = [[262], [2, 131], [1, 7, 5, 8]];
// From "everything saturates" to "nothing does", with zero points at both extremes.
const INPUTS = [
  { scale: 0.5, zeroPoint: 0 },
  { scale: 0.1, zeroPoint: -128 },
  { scale: 0.0371, zeroPoint: 127 },
  { scale: 0.02, zeroPoint: -20 },
  { scale: 0.0123, zeroPoint: 3 },
  { scale: 0.0007, zeroPoint: 50 },
  { scale: 0.3, zeroPoint: -1 },
];
const CASES: UnaryCase[] = INPUTS.map((input, i) => ({ op: 'Logistic', input, output: OUT, shape: SHAPES[i % SHAPES.length]! }));

test('logistic: every input byte equals TFLM (gemmlowp golden tables, 48 quantizations)', () => {
  for (const g of activationsGolden().logistic) {
    const input = { scale: fromBits(g.scale), zeroPoint: g.zeroPoint };
    assertSweep(sweep('Logistic', {}, input, OUT), unpackTable(g.outputs), `logistic ${JSON.stringify(input)}`);
  }
});

test('logistic: reference equals the TFLite runtime', async () => {
  const g = buildCases('logistic', CASES);
  await expectTflite(g, makeRuns(g, 3, 11));
});

test('logistic: host C and wasm (SIMD, scalar) equal the reference', async () => {
  const g = buildCases('logistic', CASES);
  await expectHostC(g, makeRuns(g, 2, 12));
});

test('logistic: refuses an output zero point other than -128 and non-int8 types', () => {
  expectError(() => prepare(buildUnary({ op: 'Logistic', input: { scale: 0.1, zeroPoint: 0 }, output: { scale: 1 / 256, zeroPoint: 0 }, shape: [4] })), UnsupportedError, /zero point -128/);
  expectError(() => prepare(buildUnary({ op: 'Logistic', input: null, output: OUT, shape: [4], inputType: 'float32' })), UnsupportedError, /float32/);
});

test.run();
