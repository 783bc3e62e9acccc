/**
 * SOFTMAX int8 -> int8 (output 1/256, zero point -128), TFLM's reference_ops::Softmax with the per-element
 * exp(x - max) taken from a 256-entry table indexed by max - x. Checked: the table form against the direct
 * port on every (max, x) pair; both against TFLM on the real gemmlowp header (golden rows); the reference
 * against the TFLite runtime; host C against the reference.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UnsupportedError } from '../../compiler/errors.ts';
import { softmax, softmaxExpTable, softmaxQuant, softmaxRowTflm } from '../../compiler/ops/softmax.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import type { UnaryCase } from './elementwise_harness.ts';
import { activationsGolden, buildCases, buildUnary, expectError, expectHostC, expectTflite, fromBits, makeRuns, prepare, reference } from './elementwise_harness.ts';

const OUT = { scale: 1 / 256, zeroPoint: -128 };

/** The kernel's table form on `rows` rows of `depth` elements. */
function tableForm(x: Int8Array, depth: number, beta: number, scale: number): Int8Array {
  const q = softmaxQuant(beta, scale)!;
  const y = new Int8Array(x.length);
  softmax.evaluate({ outer: x.length / depth, depth, expTable: softmaxExpTable(q) }, [x], [y]);
  return y;
}

test('softmax: the table form equals the direct port on every (max, x) pair', () => {
  // Pairs [max, x] and [x, max] for every x <= max; quantizations from "only the maximum counts" to "all count".
  const pairs: number[] = [];
  for (let max = -128; max < 128; max++) for (let x = -128; x <= max; x++) pairs.push(max, x, x, max);
  const x = Int8Array.from(pairs);
  for (const [beta, scale] of [[1, 0.1], [1, 1], [0.5, 0.004], [2, 0.25], [1, 10], [1e-3, 0.5]] as const) {
    const q = softmaxQuant(beta, scale)!;
    const y = tableForm(x, 2, beta, scale);
    for (let r = 0; r < x.length / 2; r++) {
      const direct = softmaxRowTflm(x.subarray(2 * r, 2 * r + 2), q);
      if (direct[0] !== y[2 * r] || direct[1] !== y[2 * r + 1]) {
        assert.unreachable(`beta ${beta} scale ${scale} row [${x[2 * r]}, ${x[2 * r + 1]}]: direct ${direct}, table ${y.subarray(2 * r, 2 * r + 2)}`);
      }
    }
  }
  // Longer random rows.
  const random = new Random(90);
  for (let i = 0; i < 300; i++) {
    const depth = random.int(3, 64);
    const beta = Math.fround(2 ** (random.next() * 4 - 2));
    const scale = Math.fround(2 ** (random.next() * 10 - 9));
    const row = random.int8Array(depth, random.int(-128, 0), 127);
    assert.equal(Array.from(tableForm(row, depth, beta, scale)), Array.from(softmaxRowTflm(row, softmaxQuant(beta, scale)!)), `beta ${beta} scale ${scale}`);
  }
});

test('softmax: rows equal TFLM on the real gemmlowp (golden rows)', () => {
  for (const g of activationsGolden().softmax) {
    const beta = fromBits(g.beta);
    const scale = fromBits(g.scale);
    const row = Int8Array.from(g.input);
    if (g.output === null) {
      // TFLM aborts on its output-exponent check; the direct port refuses too (the kernel clamps the shift to 31).
      assert.throws(() => softmaxRowTflm(row, softmaxQuant(beta, scale)!), /exponent/);
      continue;
    }
    const graph = buildUnary({ op: 'Softmax', attrs: { beta }, input: { scale, zeroPoint: 0 }, output: OUT, shape: [1, row.length] });
    const y = new Int8Array(reference(graph, [new Uint8Array(row.buffer)])[0]!.buffer);
    assert.equal(Array.from(y), g.output, `beta ${beta} scale ${scale} row ${g.input.slice(0, 8)}...`);
  }
});

// [beta, input scale, input zero point, shape]
const CONFIGS: readonly (readonly [number, number, number, readonly number[]])[] = [
  [1, 0.1, 0, [1, 10]],
  [1, 0.0371, -128, [4, 37]],
  [1, 0.2, 127, [2, 3, 5]],
  [1, 0.05, 3, [2, 1000]],
  [0.5, 0.3, -20, [3, 64]],
  [2, 0.01, 10, [5, 12]],
  [1e-3, 2, 0, [3, 7]],
  [1, 0.1, 0, [6, 1]],
];
const CASES: UnaryCase[] = CONFIGS.map(([beta, scale, zeroPoint, shape]) => ({ op: 'Softmax', attrs: { beta }, input: { scale, zeroPoint }, output: OUT, shape }));

test('softmax: reference equals the TFLite runtime', async () => {
  const g = buildCases('softmax', CASES);
  await expectTflite(g, makeRuns(g, 4, 91));
});

test('softmax: host C and wasm (SIMD, scalar) equal the reference', async () => {
  // Many rows per configuration, so that a rounding slip anywhere in the row arithmetic shows.
  const many: UnaryCase[] = [[1, 0.1, 24], [1, 0.0371, 61], [0.7, 0.25, 10], [1, 0.01, 300]].map(([beta, scale, depth]) => ({
    op: 'Softmax', attrs: { beta }, input: { scale: scale!, zeroPoint: 0 }, output: OUT, shape: [Math.ceil(12000 / depth!), depth!],
  }));
  const long: UnaryCase = { op: 'Softmax', attrs: { beta: 1 }, input: { scale: 0.001, zeroPoint: 0 }, output: OUT, shape: [1, 4095] };
  const g = buildCases('softmax', [...CASES, ...many, long]);
  const runs = makeRuns(g, 2, 92);
  // All-equal rows: the largest sums of exps (and, for 4095 elements, the clamped output shift).
  const flat = runs[0]!.map((b) => new Uint8Array(b.length).fill(0x7f));
  await expectHostC(g, [...runs, flat]);
});

test('softmax: refuses other output quantizations, a zero beta and rows longer than 4095', () => {
  const input = { scale: 0.1, zeroPoint: 0 };
  expectError(() => prepare(buildUnary({ op: 'Softmax', attrs: { beta: 1 }, input, output: { scale: 1 / 256, zeroPoint: 0 }, shape: [1, 4] })), UnsupportedError, /1\/256/);
  expectError(() => prepare(buildUnary({ op: 'Softmax', attrs: { beta: 1 }, input, output: { scale: 1 / 255, zeroPoint: -128 }, shape: [1, 4] })), UnsupportedError, /1\/256/);
  expectError(() => prepare(buildUnary({ op: 'Softmax', attrs: { beta: 0 }, input, output: OUT, shape: [1, 4] })), UnsupportedError, /beta/);
  expectError(() => prepare(buildUnary({ op: 'Softmax', attrs: { beta: 1 }, input, output: OUT, shape: [1, 4096] })), UnsupportedError, /4095/);
  expectError(() => prepare(buildUnary({ op: 'Softmax', attrs: { beta: 1 }, input: null, output: OUT, shape: [1, 4], inputType: 'float32' })), UnsupportedError, /float32/);
});

test.run();
