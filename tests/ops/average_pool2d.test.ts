/**
 * AVERAGE_POOL_2D (int8): the reference equals the real TFLite runtime byte for byte on seeded random
 * inputs (plus all -128 / all 127) over SAME and VALID padding, odd sizes, strides larger and smaller than
 * the filter, global pooling, batches, zero points at the extremes and every fused activation; the host C
 * kernel (ASan/UBSan) equals the reference; bad models are refused with the right error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Activation, Graph, Padding } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import type { TensorRef } from '../../compiler/frontend/builder/builder.ts';
import { graphToTflite } from '../../compiler/frontend/builder/to_tflite.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { InvalidModelError, UnsupportedError } from '../../compiler/errors.ts';
import { loadTfliteRuntime } from '../oracles/tflite_runtime.ts';
import { runHostAndWasm } from '../helpers/backends.ts';

const OP = 'AveragePool2D';
interface Case {
  readonly shape: readonly number[];
  /** [filterH, filterW, strideH, strideW] */
  readonly win: readonly [number, number, number, number];
  readonly padding: Padding;
  readonly act: Activation;
  readonly q: readonly [scale: number, zeroPoint: number];
}

const CASES: readonly Case[] = [
  { shape: [1, 9, 11, 5], win: [3, 3, 2, 2], padding: 'same', act: 'relu', q: [0.05, -3] },
  { shape: [2, 8, 8, 3], win: [2, 2, 2, 2], padding: 'valid', act: 'none', q: [0.1, 0] },
  { shape: [1, 7, 5, 8], win: [5, 4, 3, 1], padding: 'same', act: 'relu6', q: [0.05, 7] },
  { shape: [1, 6, 6, 1], win: [1, 1, 1, 1], padding: 'valid', act: 'none', q: [0.3, 100] },
  { shape: [1, 7, 9, 4], win: [7, 9, 7, 9], padding: 'valid', act: 'none', q: [0.02, 127] },
  { shape: [2, 5, 5, 3], win: [3, 3, 1, 1], padding: 'same', act: 'relu_n1_to_1', q: [0.02, 10] },
  { shape: [1, 10, 3, 2], win: [4, 2, 3, 2], padding: 'same', act: 'relu', q: [0.04, -128] },
  { shape: [1, 4, 4, 6], win: [2, 3, 2, 2], padding: 'same', act: 'relu6', q: [0.03, -128] },
  { shape: [1, 9, 9, 2], win: [2, 2, 3, 3], padding: 'same', act: 'none', q: [0.07, 1] },
  { shape: [1, 3, 13, 7], win: [3, 6, 2, 5], padding: 'valid', act: 'relu', q: [0.01, -1] },  // 16 channels and more: the SIMD kernels' vector paths (16 lanes, int16 and int32 sums).
  { shape: [1, 6, 6, 35], win: [3, 3, 2, 2], padding: 'same', act: 'none', q: [0.05, -7] },
  { shape: [1, 17, 17, 16], win: [17, 17, 17, 17], padding: 'valid', act: 'relu', q: [0.02, 5] },
];

function addCase(b: GraphBuilder, c: Case, k: number): TensorRef {
  const x = b.input(`x${k}`, c.shape, { scale: c.q[0], zeroPoint: c.q[1] });
  const [filterH, filterW, strideH, strideW] = c.win;
  return b.add(OP, [x], { padding: c.padding, filterH, filterW, strideH, strideW, activation: c.act }, { scale: c.q[0], zeroPoint: c.q[1] });
}

function singleGraph(c: Case): Graph {
  const b = new GraphBuilder('pool_case');
  b.output(addCase(b, c, 0));
  return b.build();
}

/** Random inputs, then all -128 and all 127. */
function inputsFor(c: Case, random: Random, count: number): Uint8Array[] {
  const n = elementCount(c.shape);
  const runs = Array.from({ length: count }, () => new Uint8Array(random.int8Array(n).buffer));
  runs.push(new Uint8Array(n).fill(0x80), new Uint8Array(n).fill(0x7f));
  return runs;
}

const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

test(`${OP}: reference == TFLite runtime, ${CASES.length} configurations x 14 inputs`, async () => {
  const tflite = await loadTfliteRuntime();
  const random = new Random(303);
  CASES.forEach((c, k) => {
    const graph = singleGraph(c);
    const pg = prepareGraph(graph, { rounding: 'double' });
    const model = graphToTflite(graph);
    const seen = new Set<number>();
    for (const input of inputsFor(c, random, 12)) {
      const got = runReference(pg, [input])[0]!;
      assert.is(hex(got), hex(tflite.run(model, [input])[0]!), `case ${k} ${JSON.stringify(c)}`);
      new Int8Array(got.buffer).forEach((v) => seen.add(v));
    }
    assert.ok(seen.size >= 3, `case ${k} produces varied outputs (${seen.size} distinct)`);
  });
});

test(`${OP}: host C == wasm (SIMD, scalar) == reference on every configuration, in one program`, async () => {
  const b = new GraphBuilder('pool_all');
  CASES.forEach((c, k) => b.output(addCase(b, c, k)));
  const graph = b.build();
  const pg = prepareGraph(graph, { rounding: 'double' });
  const random = new Random(404);
  const perCase = CASES.map((c) => inputsFor(c, random, 2));
  const runs = [0, 1, 2, 3].map((r) => perCase.map((caseRuns) => caseRuns[r]!));
  const host = await runHostAndWasm(graph, runs);
  runs.forEach((run, r) => {
    runReference(pg, run).forEach((out, k) => assert.is(hex(host[r]![k]!), hex(out), `run ${r}, case ${k}`));
  });
});

test(`${OP}: refuses what TFLM cannot run`, () => {
  const build = (shape: number[], win: [number, number, number, number], padding: Padding, qOut: [number, number] = [0.1, 0]) => {
    const b = new GraphBuilder('bad');
    const x = b.input('x', shape, { scale: 0.1, zeroPoint: 0 });
    const [filterH, filterW, strideH, strideW] = win;
    b.output(b.add(OP, [x], { padding, filterH, filterW, strideH, strideW, activation: 'none' }, { scale: qOut[0], zeroPoint: qOut[1] }));
    return prepareGraph(b.build(), { rounding: 'double' });
  };
  assert.throws(() => build([1, 4, 4, 2], [2, 2, 2, 2], 'same', [0.2, 0]), (e: Error) => e instanceof UnsupportedError && /requires them equal/.test(e.message));
  assert.throws(() => build([1, 4, 4, 2], [2, 2, 2, 2], 'same', [0.1, 3]), (e: Error) => e instanceof UnsupportedError && /requires them equal/.test(e.message));
  assert.throws(() => build([4, 4, 2], [2, 2, 2, 2], 'same'), (e: Error) => e instanceof UnsupportedError && /4-D NHWC/.test(e.message));
  assert.throws(() => build([1, 4, 4, 2], [2, 2, 0, 2], 'same'), (e: Error) => e instanceof UnsupportedError && /stride_h 0/.test(e.message));
  assert.throws(() => build([1, 4, 4, 2], [5, 2, 1, 1], 'valid'), (e: Error) => e instanceof InvalidModelError && /does not fit/.test(e.message));
});

test.run();
