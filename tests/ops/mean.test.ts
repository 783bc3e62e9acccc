/**
 * MEAN (int8). TFLM (recent) has two int8 paths: equal input/output quantization -> raw int32 sum divided
 * by the count with truncation (reference_ops::Mean); otherwise the integer-only QuantizedMeanOrSum with
 * 1/count folded into the multiplier. Checked here:
 * - equal quantization: the reference equals the real TFLite runtime byte for byte (same algorithm), except
 *   for keep_dims 4-D means over H,W, which that TFLite build sends to an older special kernel;
 * - different quantization: the reference equals an independent 64-bit (BigInt) port of TFLM's
 *   QuantizedMeanOrSum, over ranks 1-5, kept and dropped dimensions, zero points at the extremes, scale
 *   ratios below and above 1 and large counts. The TFLite runtime cannot be the oracle there: it predates
 *   the integer-only kernel (TF PR 52014); its bytes are reproduced below from its own float algorithms,
 *   which shows where and why it differs;
 * - the host C kernel (ASan/UBSan) equals the reference; bad models are refused with the right error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import type { TensorRef } from '../../compiler/frontend/builder/builder.ts';
import { graphToTflite } from '../../compiler/frontend/builder/to_tflite.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { quantizeMultiplier, roundHalfAwayFromZero } from '../../compiler/ops/common/fixed_point.ts';
import { InvalidModelError, UnsupportedError } from '../../compiler/errors.ts';
import { loadTfliteRuntime } from '../oracles/tflite_runtime.ts';
import { runHostAndWasm } from '../helpers/backends.ts';

type Q = readonly [scale: number, zeroPoint: number];
interface Case {
  readonly shape: readonly number[];
  readonly axes: readonly number[];
  readonly keepDims: boolean;
  readonly qIn: Q;
  readonly qOut: Q;
}

const f = Math.fround;
const resolve = (c: Case) => [...new Set(c.axes.map((a) => (a < 0 ? a + c.shape.length : a)))];
const isSpatial4d = (c: Case) => {
  const axes = resolve(c);
  return c.keepDims && c.shape.length === 4 && axes.length === 2 && axes.includes(1) && axes.includes(2);
};

/** Same quantization in and out: TFLM's truncating reference_ops::Mean. */
const EQUAL: readonly Case[] = [
  { shape: [1, 7, 5, 6], axes: [1, 2], keepDims: false, qIn: [0.05, -3], qOut: [0.05, -3] },
  { shape: [2, 3, 4, 5], axes: [3], keepDims: false, qIn: [0.1, 127], qOut: [0.1, 127] },
  { shape: [2, 3, 4, 5], axes: [0, 2], keepDims: true, qIn: [0.02, -128], qOut: [0.02, -128] },
  { shape: [2, 3, 4, 5], axes: [-1, 1, 3], keepDims: false, qIn: [0.3, 0], qOut: [0.3, 0] },
  { shape: [6, 7], axes: [0], keepDims: true, qIn: [1, 5], qOut: [1, 5] },
  { shape: [3, 4, 5], axes: [0, 1, 2], keepDims: false, qIn: [0.07, -9], qOut: [0.07, -9] },
  { shape: [11], axes: [0], keepDims: true, qIn: [0.07, -9], qOut: [0.07, -9] },
];

/** Different quantization: TFLM's QuantizedMeanOrSum. */
const REQUANT: readonly Case[] = [
  { shape: [1, 7, 5, 6], axes: [1, 2], keepDims: true, qIn: [0.05, -3], qOut: [0.02, 10] },
  { shape: [2, 7, 5, 6], axes: [2, 1], keepDims: true, qIn: [0.05, -3], qOut: [0.11, -100] },
  { shape: [1, 7, 5, 6], axes: [1, 2], keepDims: false, qIn: [0.05, -3], qOut: [0.013, 77] },
  { shape: [1, 32, 32, 4], axes: [1, 2], keepDims: true, qIn: [0.02, 0], qOut: [0.004, -5] },
  { shape: [2, 3, 4, 5], axes: [3], keepDims: false, qIn: [0.05, 127], qOut: [0.06, 127] },
  { shape: [2, 3, 4, 5], axes: [0, 2], keepDims: true, qIn: [0.1, 0], qOut: [0.0125, 0] },
  { shape: [2, 3, 4, 5], axes: [-1, 1], keepDims: false, qIn: [0.05, -3], qOut: [0.05, -4] },
  { shape: [6, 7], axes: [0], keepDims: true, qIn: [0.8, 20], qOut: [0.05, -20] },
  { shape: [3, 4, 5], axes: [0, 1, 2], keepDims: false, qIn: [0.05, -3], qOut: [0.02, 10] },
  { shape: [2, 2, 3, 2, 3], axes: [0, 2, 4], keepDims: true, qIn: [0.05, -128], qOut: [0.1, -100] },
  { shape: [1, 1, 9, 1], axes: [1, 3], keepDims: false, qIn: [0.05, -3], qOut: [0.07, 3] },
];

function addCase(b: GraphBuilder, c: Case, k: number): TensorRef {
  const x = b.input(`x${k}`, c.shape, { scale: c.qIn[0], zeroPoint: c.qIn[1] });
  const axis = b.int32Constant(`axis${k}`, c.axes);
  return b.add('Mean', [x, axis], { keepDims: c.keepDims }, { scale: c.qOut[0], zeroPoint: c.qOut[1] });
}

function singleGraph(c: Case): Graph {
  const b = new GraphBuilder('mean_case');
  b.output(addCase(b, c, 0));
  return b.build();
}

function inputsFor(c: Case, random: Random, count: number): Int8Array[] {
  const n = elementCount(c.shape);
  const runs = Array.from({ length: count }, () => random.int8Array(n));
  runs.push(new Int8Array(n).fill(-128), new Int8Array(n).fill(127));
  return runs;
}

const bytes = (x: Int8Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
const hex = (u: Uint8Array | Int8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('hex');

/** int32 sums per output element (row-major over the kept dimensions), and the count per output. */
function reduceSums(x: Int8Array, shape: readonly number[], axes: readonly number[]): { sums: number[]; count: number } {
  const kept = shape.map((d, k) => (axes.includes(k) ? 1 : d));
  const sums = new Array<number>(elementCount(kept)).fill(0);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < x.length; i++) {
    let o = 0;
    for (let k = 0; k < shape.length; k++) o = o * kept[k]! + (axes.includes(k) ? 0 : idx[k]!);
    sums[o]! += x[i]!;
    for (let k = shape.length - 1; k >= 0 && ++idx[k]! === shape[k]; k--) idx[k] = 0;
  }
  return { sums, count: axes.reduce((n, k) => n * shape[k]!, 1) };
}

/** gemmlowp / TFLite MultiplyByQuantizedMultiplier (double rounding) in 64-bit BigInt arithmetic. */
function mbqm64(x: number, m: number, shift: number): number {
  const left = BigInt(Math.max(shift, 0));
  const right = BigInt(Math.max(-shift, 0));
  const a = BigInt.asIntN(32, BigInt(x) << left);
  const ab = a * BigInt(m);
  const high = (ab + (ab >= 0n ? 1n << 30n : 1n - (1n << 30n))) / (1n << 31n);
  if (right === 0n) return Number(high);
  const mask = (1n << right) - 1n;
  const rem = high & mask;
  const threshold = (mask >> 1n) + (high < 0n ? 1n : 0n);
  return Number((high >> right) + (rem > threshold ? 1n : 0n));
}

/** TFLM reduce_common.cc EvalIntegerMean for int8, ported independently. */
function tflmMean(x: Int8Array, c: Case): Int8Array {
  const { sums, count } = reduceSums(x, c.shape, resolve(c));
  const [sIn, zIn] = [f(c.qIn[0]), c.qIn[1]];
  const [sOut, zOut] = [f(c.qOut[0]), c.qOut[1]];
  if (sIn === sOut && zIn === zOut) return Int8Array.from(sums, (s) => Math.trunc(s / count));
  const q = quantizeMultiplier(sIn / sOut);
  const k = Math.min(count.toString(2).length - 1, 32, 31 + q.shift);
  const multiplier = Number((BigInt(q.multiplier) << BigInt(k)) / BigInt(count));
  return Int8Array.from(sums, (s) => Math.min(127, Math.max(-128, mbqm64(s - zIn * count, multiplier, q.shift - k) + zOut)));
}

/** What the TFLite runtime build computes for int8 MEAN with different quantization (pre-2023 kernels). */
function oldTfliteMean(x: Int8Array, c: Case): Int8Array {
  const { sums, count } = reduceSums(x, c.shape, resolve(c));
  const [sIn, zIn] = [f(c.qIn[0]), c.qIn[1]];
  const [sOut, zOut] = [f(c.qOut[0]), c.qOut[1]];
  if (isSpatial4d(c)) {
    // optimized_integer_ops::Mean: bias and multiplier from float scales, applied to the raw sum.
    let temp = f(f(zIn * sIn) / sOut);
    temp = temp > 0 ? f(temp + 0.5) : f(temp - 0.5);
    const bias = zOut - Math.trunc(temp);
    const q = quantizeMultiplier(f(sIn / f(f(count) * sOut)));
    return Int8Array.from(sums, (s) => Math.min(127, Math.max(-128, mbqm64(s, q.multiplier, q.shift) + bias)));
  }
  // reference_ops::QuantizedMeanOrSum before TF PR 52014: float mean, float rescale, round.
  const scale = f(sIn / sOut);
  const bias = f(-zIn * scale);
  return Int8Array.from(sums, (s) => Math.min(127, Math.max(-128, roundHalfAwayFromZero(f(f(f(f(s) / f(count)) * scale) + bias)) + zOut)));
}

test('Mean, equal quantization: reference == TFLite runtime (truncating mean)', async () => {
  const tflite = await loadTfliteRuntime();
  const random = new Random(505);
  EQUAL.forEach((c, k) => {
    const graph = singleGraph(c);
    const pg = prepareGraph(graph, { rounding: 'double' });
    const model = graphToTflite(graph);
    for (const x of inputsFor(c, random, 12)) {
      const got = runReference(pg, [bytes(x)])[0]!;
      assert.is(hex(got), hex(tflite.run(model, [bytes(x)])[0]!), `case ${k} ${JSON.stringify(c)}`);
      assert.is(hex(got), hex(tflmMean(x, c)), `case ${k}: TFLM port`);
    }
  });
});

test('Mean, different quantization: reference == 64-bit port of TFLM QuantizedMeanOrSum', () => {
  const random = new Random(606);
  for (const [k, c] of REQUANT.entries()) {
    const pg = prepareGraph(singleGraph(c), { rounding: 'double' });
    const seen = new Set<number>();
    for (const x of inputsFor(c, random, 12)) {
      const got = runReference(pg, [bytes(x)])[0]!;
      assert.is(hex(got), hex(tflmMean(x, c)), `case ${k} ${JSON.stringify(c)}`);
      new Int8Array(got.buffer).forEach((v) => seen.add(v));
    }
    assert.ok(seen.size >= 3, `case ${k} produces varied outputs (${seen.size} distinct)`);
  }
});

test('Mean: the TFLite runtime build runs the older float kernels (reproduced), which TFLM no longer has', async () => {
  const tflite = await loadTfliteRuntime();
  const random = new Random(707);
  const spatialEqual: Case = { shape: [2, 5, 3, 4], axes: [1, 2], keepDims: true, qIn: [0.05, -3], qOut: [0.05, -3] };
  let differing = 0;
  for (const [k, c] of [...REQUANT, spatialEqual].entries()) {
    const model = graphToTflite(singleGraph(c));
    for (const x of inputsFor(c, random, 6)) {
      const got = new Int8Array(tflite.run(model, [bytes(x)])[0]!.buffer);
      assert.is(hex(got), hex(oldTfliteMean(x, c)), `case ${k} ${JSON.stringify(c)}`);
      if (hex(got) !== hex(tflmMean(x, c))) differing++;
    }
  }
  assert.ok(differing > 0, 'the old and the current algorithms do differ on these inputs');
});

test('Mean: host C == wasm (SIMD, scalar) == reference on every configuration, in one program', async () => {
  const all = [...EQUAL, ...REQUANT];
  const b = new GraphBuilder('mean_all');
  all.forEach((c, k) => b.output(addCase(b, c, k)));
  const graph = b.build();
  const pg = prepareGraph(graph, { rounding: 'double' });
  const random = new Random(808);
  const perCase = all.map((c) => inputsFor(c, random, 2));
  const runs = [0, 1, 2, 3].map((r) => perCase.map((caseRuns) => bytes(caseRuns[r]!)));
  const host = await runHostAndWasm(graph, runs);
  runs.forEach((run, r) => {
    runReference(pg, run).forEach((out, k) => assert.is(hex(host[r]![k]!), hex(out), `run ${r}, case ${k}`));
  });
});

test('Mean: refuses what it cannot run', () => {
  const build = (shape: number[], axis: TensorRef | number[], keepDims = false) => {
    const b = new GraphBuilder('bad');
    const x = b.input('x', shape, { scale: 0.1, zeroPoint: 0 });
    const a = Array.isArray(axis) ? b.int32Constant('axis', axis) : axis;
    b.output(b.add('Mean', [x, a], { keepDims }, { scale: 0.2, zeroPoint: 0 }));
    return prepareGraph(b.build(), { rounding: 'double' });
  };
  assert.throws(() => build([2, 3], [2]), (e: Error) => e instanceof InvalidModelError && /axis 2 is out of range/.test(e.message));
  assert.throws(() => build([2, 3, 2, 3, 2, 3, 2], [1, 3, 5]), (e: Error) => e instanceof UnsupportedError && /4 kept/.test(e.message));
  assert.throws(
    () => {
      const b = new GraphBuilder('dyn');
      const x = b.input('x', [2, 3], { scale: 0.1, zeroPoint: 0 });
      const axis = b.input('axis', [1], { scale: 1, zeroPoint: 0 }, 'int32');
      b.add('Mean', [x, axis], { keepDims: false }, { scale: 0.1, zeroPoint: 0 });
    },
    (e: Error) => e instanceof UnsupportedError && /must be a constant/.test(e.message),
  );
  assert.throws(
    () => {
      const b = new GraphBuilder('i64');
      const x = b.input('x', [2, 3], { scale: 0.1, zeroPoint: 0 });
      const axis = b.constant('axis', [1], 'int64', BigInt64Array.from([1n]));
      b.output(b.add('Mean', [x, axis], { keepDims: false }, { scale: 0.1, zeroPoint: 0 }));
      prepareGraph(b.build(), { rounding: 'double' });
    },
    (e: Error) => e instanceof UnsupportedError && /int64/.test(e.message),
  );
});

test.run();
