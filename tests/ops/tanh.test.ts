/**
 * TANH int8: TFLM's fixed-point tanh as a 256-entry table. Exactness comes from the TFLM/gemmlowp golden
 * tables (power-of-two scales with rounding ties, large scales where TFLM's input radius saturates early);
 * the TFLite runtime (a float table, which does neither) is checked on scales where the two agree; host C
 * against the reference.
 */
import { test } from 'uvu';
import { UnsupportedError } from '../../compiler/errors.ts';
import type { UnaryCase } from './elementwise_harness.ts';
import {
  activationsGolden, assertSweep, buildCases, buildUnary, expectError, expectHostC, expectTflite, fromBits, makeRuns, prepare, sweep, unpackTable,
} from './elementwise_harness.ts';

const OUT = { scale: 1 / 128, zeroPoint: 0 };
const SHAPES = [[263], [2, 131], [3, 3, 3, 11]];
const INPUTS = [
  { scale: 0.5, zeroPoint: 0 },
  { scale: 0.1, zeroPoint: -128 },
  { scale: 0.0371, zeroPoint: 127 },
  { scale: 0.02, zeroPoint: -20 },
  { scale: 0.0123, zeroPoint: 3 },
  { scale: 0.0007, zeroPoint: 50 },
  { scale: 0.3, zeroPoint: -1 },
];
const CASES: UnaryCase[] = INPUTS.map((input, i) => ({ op: 'Tanh', input, output: OUT, shape: SHAPES[i % SHAPES.length]! }));

test('tanh: every input byte equals TFLM (gemmlowp golden tables, 48 quantizations)', () => {
  for (const g of activationsGolden().tanh) {
    const input = { scale: fromBits(g.scale), zeroPoint: g.zeroPoint };
    assertSweep(sweep('Tanh', {}, input, OUT), unpackTable(g.outputs), `tanh ${JSON.stringify(input)}`);
  }
});

test('tanh: reference equals the TFLite runtime', async () => {
  const g = buildCases('tanh', CASES);
  await expectTflite(g, makeRuns(g, 3, 21));
});

test('tanh: host C and wasm (SIMD, scalar) equal the reference', async () => {
  const g = buildCases('tanh', CASES);
  await expectHostC(g, makeRuns(g, 2, 22));
});

test('tanh: refuses non-int8 types', () => {
  expectError(() => prepare(buildUnary({ op: 'Tanh', input: null, output: OUT, shape: [4], inputType: 'float32' })), UnsupportedError, /float32/);
});

test.run();
