/**
 * ADD (int8): the reference equals the real TFLite runtime byte for byte on seeded random inputs over
 * same-shape and broadcast shapes, zero points at the extremes and every fused activation; the host C
 * kernel (ASan/UBSan) and the Cortex-M4 one (QEMU) equal the reference, including ranks TFLite's old broadcast
 * cannot run; bad models are refused with the right error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Activation, Graph } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import type { TensorRef } from '../../compiler/frontend/builder/builder.ts';
import { graphToTflite } from '../../compiler/frontend/builder/to_tflite.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { InvalidModelError, UnsupportedError } from '../../compiler/errors.ts';
import { loadTfliteRuntime } from '../oracles/tflite_runtime.ts';
import { runCompiled, runHostAndWasm } from '../helpers/backends.ts';

const OP = 'Add';
type Q = [scale: number, zeroPoint: number];
interface Case {
  readonly a: readonly number[];
  readonly b: readonly number[];
  readonly qa: Q;
  readonly qb: Q;
  readonly qo: Q;
  readonly act: Activation;
}

const CASES: readonly Case[] = [
  { a: [1, 5, 7, 3], b: [1, 5, 7, 3], qa: [0.05, -3], qb: [0.031, 12], qo: [0.07, 5], act: 'none' },
  { a: [2, 3, 4, 5], b: [1], qa: [0.02, -128], qb: [0.2, 127], qo: [0.12, -128], act: 'relu' },
  { a: [1, 4, 4, 8], b: [8], qa: [0.11, 127], qb: [0.013, -40], qo: [0.09, 0], act: 'relu6' },
  { a: [1, 1, 1, 8], b: [1, 4, 4, 8], qa: [0.0042, 0], qb: [0.0077, -11], qo: [0.0051, 9], act: 'relu_n1_to_1' },
  { a: [3, 1, 5], b: [1, 4, 1], qa: [0.5, 3], qb: [0.25, -7], qo: [0.6, 1], act: 'none' },
  { a: [1, 6, 6, 3], b: [1, 6, 6, 1], qa: [0.019, -60], qb: [0.019, -60], qo: [0.03, 20], act: 'relu' },
  { a: [7], b: [7], qa: [1.5, 100], qb: [0.001, -100], qo: [1.7, -1], act: 'none' },
  { a: [2, 1, 3], b: [3], qa: [0.08, 1], qb: [0.08, 1], qo: [0.08, 1], act: 'relu6' },
  // Enough elements (2,048) for the C kernel's tables of rescaled codes.
  { a: [1, 16, 16, 8], b: [1, 16, 16, 8], qa: [0.06, -7], qb: [0.022, 19], qo: [0.08, 3], act: 'relu6' },
];

/** Shapes only the host C build checks (TFLite's 4-D broadcast in the oracle build cannot run them). */
const HIGH_RANK: readonly Case[] = [
  { a: [2, 3, 1, 4, 5], b: [2, 3, 1, 1, 5], qa: [0.05, 2], qb: [0.04, -2], qo: [0.06, 0], act: 'none' },
  { a: [1, 2, 2, 3, 1, 2], b: [3, 2, 2, 3, 2, 2], qa: [0.03, -9], qb: [0.05, 4], qo: [0.07, -1], act: 'relu' },
  { a: [1, 2, 3, 2, 3, 2], b: [1, 2, 3, 2, 3, 2], qa: [0.03, -9], qb: [0.05, 4], qo: [0.07, -1], act: 'none' },
];

function addCase(b: GraphBuilder, c: Case, k: number): TensorRef {
  const x = b.input(`a${k}`, c.a, { scale: c.qa[0], zeroPoint: c.qa[1] });
  const y = b.input(`b${k}`, c.b, { scale: c.qb[0], zeroPoint: c.qb[1] });
  return b.add(OP, [x, y], { activation: c.act }, { scale: c.qo[0], zeroPoint: c.qo[1] });
}

function singleGraph(c: Case): Graph {
  const b = new GraphBuilder(`${OP.toLowerCase()}_case`);
  b.output(addCase(b, c, 0));
  return b.build();
}

/** Seeded inputs for a case: random bytes, plus all -128 and all 127. */
function inputsFor(c: Case, random: Random, count: number): Uint8Array[][] {
  const runs: Uint8Array[][] = [];
  for (let r = 0; r < count; r++) {
    runs.push([c.a, c.b].map((s) => new Uint8Array(random.int8Array(elementCount(s)).buffer)));
  }
  runs.push([c.a, c.b].map((s) => new Uint8Array(elementCount(s)).fill(0x80)));
  runs.push([c.a, c.b].map((s) => new Uint8Array(elementCount(s)).fill(0x7f)));
  return runs;
}

const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

test(`${OP}: reference == TFLite runtime, ${CASES.length} configurations x 18 inputs`, async () => {
  const tflite = await loadTfliteRuntime();
  const random = new Random(101);
  CASES.forEach((c, k) => {
    const graph = singleGraph(c);
    const pg = prepareGraph(graph, { rounding: 'double' });
    const model = graphToTflite(graph);
    const seen = new Set<number>();
    for (const run of inputsFor(c, random, 16)) {
      const want = tflite.run(model, run)[0]!;
      const got = runReference(pg, run)[0]!;
      assert.is(hex(got), hex(want), `case ${k} ${JSON.stringify(c)}`);
      new Int8Array(got.buffer).forEach((v) => seen.add(v));
    }
    assert.ok(seen.size >= 3, `case ${k} produces varied outputs (${seen.size} distinct)`);
  });
});

/** Every configuration in one program, and its runs: per case two random runs, then all -128, then all 127. */
function allCases(): { graph: Graph; runs: Uint8Array[][] } {
  const all = [...CASES, ...HIGH_RANK];
  const b = new GraphBuilder(`${OP.toLowerCase()}_all`);
  all.forEach((c, k) => b.output(addCase(b, c, k)));
  const random = new Random(202);
  const perCase = all.map((c) => inputsFor(c, random, 2));
  return { graph: b.build(), runs: [0, 1, 2, 3].map((r) => perCase.flatMap((caseRuns) => caseRuns[r]!)) };
}

function sameAsReference(graph: Graph, runs: readonly Uint8Array[][], outputs: readonly Uint8Array[][], what: string): void {
  const pg = prepareGraph(graph, { rounding: 'double' });
  runs.forEach((run, r) => {
    runReference(pg, run).forEach((out, k) => assert.is(hex(outputs[r]![k]!), hex(out), `${what}: run ${r}, case ${k}`));
  });
}

test(`${OP}: host C == wasm (SIMD, scalar) == reference on every configuration, in one program`, async () => {
  const { graph, runs } = allCases();
  sameAsReference(graph, runs, await runHostAndWasm(graph, runs), 'host C and wasm');
});

test(`${OP}: Cortex-M4 (QEMU, DSP paths: the tabled rows' one-step output rescaling) == reference`, async () => {
  const { graph, runs } = allCases();
  sameAsReference(graph, runs, (await runCompiled(graph, runs, 'cortex-m4')).outputs, 'cortex-m4');
});

test(`${OP}: a constant operand (per-channel offset in flash): reference == TFLite runtime == host C`, async () => {
  const b = new GraphBuilder('const_operand');
  const x = b.input('x', [1, 3, 5, 6], { scale: 0.04, zeroPoint: -5 });
  const offsets = b.constant('offsets', [6], 'int8', b.random.int8Array(6), { scale: 0.02, zeroPoint: 3 });
  b.output(b.add(OP, [x, offsets], { activation: 'relu' }, { scale: 0.05, zeroPoint: -20 }));
  b.output(b.add(OP, [offsets, x], { activation: 'none' }, { scale: 0.05, zeroPoint: 9 }));
  const graph = b.build();
  const pg = prepareGraph(graph, { rounding: 'double' });
  const tflite = await loadTfliteRuntime();
  const model = graphToTflite(graph);
  const random = new Random(909);
  const runs = Array.from({ length: 4 }, () => [new Uint8Array(random.int8Array(90).buffer)]);
  const host = await runHostAndWasm(graph, runs);
  runs.forEach((run, r) => {
    const ref = runReference(pg, run);
    const want = tflite.run(model, run);
    ref.forEach((out, k) => {
      assert.is(hex(out), hex(want[k]!), `run ${r}, output ${k}: TFLite`);
      assert.is(hex(host[r]![k]!), hex(out), `run ${r}, output ${k}: host C`);
    });
  });
});

test(`${OP}: refuses what TFLM cannot run`, () => {
  const build = (a: number[], bShape: number[], qo: Q, act: Activation = 'none', dtype: 'int8' | 'int16' = 'int8') => {
    const b = new GraphBuilder('bad');
    const x = b.input('a', a, { scale: 0.1, zeroPoint: 0 }, dtype);
    const y = b.input('b', bShape, { scale: 0.1, zeroPoint: 0 }, dtype);
    b.output(b.add(OP, [x, y], { activation: act }, { scale: qo[0], zeroPoint: qo[1] }));
    return prepareGraph(b.build(), { rounding: 'double' });
  };
  assert.throws(() => build([2, 3], [4, 3], [0.1, 0]), (e: Error) => e instanceof InvalidModelError && /cannot be broadcast/.test(e.message));
  assert.throws(
    () => build([2, 1, 3, 1, 4], [1, 5, 1, 2, 1], [0.1, 0]),
    (e: Error) => e instanceof UnsupportedError && /5 loop levels/.test(e.message),
  );
  assert.throws(() => build([4], [4], [0.1, 0], 'tanh'), (e: Error) => e instanceof UnsupportedError && /TANH/.test(e.message));
  assert.throws(() => build([4], [4], [0.1, 0], 'none', 'int16'), (e: Error) => e instanceof UnsupportedError && /int16/.test(e.message));
  // 2 * max input scale / (2^20 * output scale) must stay below 1.
  assert.throws(() => build([4], [4], [1e-7, 0]), (e: Error) => e instanceof UnsupportedError && /outside \(0, 1\)/.test(e.message));
});

test.run();
