/**
 * FULLY_CONNECTED (int8): single-op graphs built with the builder, per-tensor and per-channel weights, batches,
 * fused activations, depths that exercise every SIMD tail. The reference (single rounding) equals the real TFLite
 * runtime byte for byte; host C (ASan/UBSan), wasm SIMD and wasm scalar equal the reference in both roundings.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Activation, Graph } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import { graphToTflite } from '../../compiler/frontend/builder/to_tflite.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { loadTfliteRuntime } from '../oracles/tflite_runtime.ts';
import { runHostAndWasm } from '../helpers/backends.ts';

/** [batches, in depth, out depth, activation] */
const CASES: readonly [number, number, number, Activation][] = [
  [1, 64, 12, 'none'],
  [1, 256, 2, 'none'],
  [3, 37, 9, 'relu'],
  [2, 8, 5, 'relu6'],
  [1, 1, 1, 'none'],
  [4, 23, 17, 'none'],
  [1, 100, 31, 'relu'],
  [2, 16, 4, 'none'],
];

/** Case k alone, or every case as one graph (one output each). */
function build(cases: readonly number[]): Graph {
  const b = new GraphBuilder('fully_connected_cases', 5);
  const r = b.random;
  for (const i of cases) {
    const [batches, inDepth, outDepth, activation] = CASES[i]!;
    const inScale = 0.02 + r.next() * 0.05;
    const perChannel = i % 2 === 1;
    const weightScales = Array.from({ length: outDepth }, () => 0.002 + r.next() * 0.02);
    const x = b.input(`x${i}`, [batches, inDepth], { scale: inScale, zeroPoint: r.int(-20, 20) });
    const w = b.weights(`w${i}`, [outDepth, inDepth], perChannel ? weightScales : weightScales[0]!, 0);
    const bias = b.bias(`b${i}`, outDepth, inScale, perChannel ? weightScales : Array(outDepth).fill(weightScales[0]!), 4000);
    const outScale = inScale * weightScales[0]! * Math.sqrt(inDepth) * 20;
    b.output(b.add('FullyConnected', [x, w, bias], { activation, keepNumDims: false }, { scale: outScale, zeroPoint: r.int(-10, 10) }));
  }
  return b.build();
}

/** Seeded inputs for every graph input, then all -128 and all 127. */
function inputsFor(graph: Graph, random: Random, count: number): Uint8Array[][] {
  const sizes = graph.inputs.map((id) => elementCount(graph.tensors[id]!.shape));
  const runs = Array.from({ length: count }, () => sizes.map((n) => new Uint8Array(random.int8Array(n).buffer)));
  runs.push(sizes.map((n) => new Uint8Array(n).fill(0x80)), sizes.map((n) => new Uint8Array(n).fill(0x7f)));
  return runs;
}

const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

test(`FullyConnected: reference == TFLite runtime (single rounding), ${CASES.length} configurations x 10 inputs`, async () => {
  const tflite = await loadTfliteRuntime();
  const random = new Random(21);
  CASES.forEach((c, k) => {
    const graph = build([k]);
    const pg = prepareGraph(graph, { rounding: 'single' });
    const model = graphToTflite(graph);
    const seen = new Set<number>();
    for (const input of inputsFor(graph, random, 8)) {
      const got = runReference(pg, input)[0]!;
      assert.is(hex(got), hex(tflite.run(model, input)[0]!), `case ${k} ${JSON.stringify(c)}`);
      new Int8Array(got.buffer).forEach((v) => seen.add(v));
    }
    assert.ok(seen.size >= 2, `case ${k} produces varied outputs (${seen.size} distinct)`);
  });
});

for (const rounding of ['double', 'single', 'float32'] as const) {
  test(`FullyConnected: host C == wasm SIMD == wasm scalar == reference (${rounding} rounding), every configuration in one program`, async () => {
    const graph = build(CASES.map((_, k) => k));
    const pg = prepareGraph(graph, { rounding });
    const runs = inputsFor(graph, new Random(3), 4);
    const host = await runHostAndWasm(graph, runs, { rounding });
    runs.forEach((run, r) => runReference(pg, run).forEach((out, k) => assert.is(hex(host[r]![k]!), hex(out), `run ${r}, case ${k}`)));
  });
}

test.run();
