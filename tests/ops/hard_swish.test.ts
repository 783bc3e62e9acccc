/**
 * HARD_SWISH int8: TFLite's 16-bit fixed-point reference HardSwish as a 256-entry table. Checked against
 * TFLM's algorithm on the real gemmlowp int16 primitives (golden tables, 96 quantizations: reluish shifts
 * left and right, output shifts down to -24, the int16 wrap of the zero point addition), against the
 * TFLite runtime, and host C against the reference.
 */
import { test } from 'uvu';
import { UnsupportedError } from '../../compiler/errors.ts';
import type { UnaryCase } from './elementwise_harness.ts';
import {
  activationsGolden, assertSweep, buildCases, buildUnary, expectError, expectHostC, expectTflite, fromBits, makeRuns, prepare, sweep, unpackTable,
} from './elementwise_harness.ts';

// [input scale, input zero point, output scale, output zero point]
const QUANT: readonly (readonly [number, number, number, number])[] = [
  [0.05, -5, 0.035, -20], // MobileNetV3-like
  [0.1, -128, 0.08, -128],
  [0.02, 127, 0.03, 127],
  [0.003, 10, 0.002, 0], // reluish multiplier < 0.5: right shift
  [0.6, 0, 0.5, -100], // reluish multiplier >> 1: saturating left shifts
  [0.0002, 3, 0.5, -7], // output multiplier < 2^-16
  [0.8, -3, 0.01, 5], // output multiplier >= 0.5: zero point added in wrapping int16
];
const SHAPES = [[260], [4, 65], [1, 2, 3, 45]];
const CASES: UnaryCase[] = QUANT.map(([si, zi, so, zo], i) => ({
  op: 'HardSwish', input: { scale: si, zeroPoint: zi }, output: { scale: so, zeroPoint: zo }, shape: SHAPES[i % SHAPES.length]!,
}));

test('hard swish: every input byte equals TFLM (gemmlowp golden tables)', () => {
  for (const g of activationsGolden().hardSwish) {
    const input = { scale: fromBits(g.inputScale), zeroPoint: g.inputZeroPoint };
    const output = { scale: fromBits(g.outputScale), zeroPoint: g.outputZeroPoint };
    const what = `hard swish ${JSON.stringify(input)} -> ${JSON.stringify(output)}`;
    if (g.outputs === null) {
      expectError(() => sweep('HardSwish', {}, input, output), UnsupportedError, /output scale/);
    } else {
      assertSweep(sweep('HardSwish', {}, input, output), unpackTable(g.outputs), what);
    }
  }
});

test('hard swish: reference equals the TFLite runtime', async () => {
  const g = buildCases('hard_swish', CASES);
  await expectTflite(g, makeRuns(g, 3, 31));
});

test('hard swish: host C and wasm (SIMD, scalar) equal the reference', async () => {
  const g = buildCases('hard_swish', CASES);
  await expectHostC(g, makeRuns(g, 2, 32));
});

test('hard swish: refuses an output scale below input scale / 128 and non-int8 types', () => {
  expectError(() => prepare(buildUnary({ op: 'HardSwish', input: { scale: 1, zeroPoint: 0 }, output: { scale: 0.001, zeroPoint: 0 }, shape: [4] })), UnsupportedError, /output scale/);
  expectError(() => prepare(buildUnary({ op: 'HardSwish', input: null, output: { scale: 0.1, zeroPoint: 0 }, shape: [4], inputType: 'float32' })), UnsupportedError, /float32/);
});

test.run();
