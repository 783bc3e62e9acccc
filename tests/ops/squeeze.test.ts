/**
 * SQUEEZE: listed dimensions (negative too) or every size-1 dimension; reference == TFLite runtime and host C ==
 * reference (the output aliases the input); refused models.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../compiler/ir/graph.ts';
import { tensorBytes } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import { graphToTflite } from '../../compiler/frontend/builder/to_tflite.ts';
import { importTflite } from '../../compiler/frontend/tflite/import.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { InvalidModelError } from '../../compiler/errors.ts';
import { loadTfliteRuntime } from '../oracles/tflite_runtime.ts';
import { runHostAndWasm } from '../helpers/backends.ts';

// ---- harness (same in each data-movement op test) ------------------------------------------------
const Q = { scale: 0.05, zeroPoint: 3 };

function i8(u: Uint8Array): number[] {
  return Array.from(new Int8Array(u.buffer, u.byteOffset, u.byteLength));
}

/**
 * Reference == TFLite runtime on `runs` seeded random inputs, and host C (ASan + UBSan) == reference,
 * output by output. Returns the reference outputs [run][output].
 */
async function check(graph: Graph, runs = 4, seed = 11): Promise<Uint8Array[][]> {
  const rng = new Random(seed);
  const inputs = Array.from({ length: runs }, () =>
    graph.inputs.map((id) => new Uint8Array(rng.int8Array(tensorBytes(graph.tensors[id]!)).buffer)),
  );
  const pg = prepareGraph(graph, { rounding: 'double' });
  const want = inputs.map((ins) => runReference(pg, ins));
  const rt = await loadTfliteRuntime();
  const model = graphToTflite(graph);
  const label = (r: number, o: number) => `${graph.name} run ${r} output ${graph.tensors[graph.outputs[o]!]!.name}`;
  // The same model read back by the importer: the TFLite options round-trip to the same attributes.
  const imported = prepareGraph(importTflite(model, graph.name), { rounding: 'double' });
  inputs.forEach((ins, r) => {
    const got = rt.run(model, ins);
    assert.is(got.length, graph.outputs.length);
    got.forEach((g, o) => assert.equal(i8(want[r]![o]!), i8(g), `${label(r, o)}: reference vs TFLite`));
    runReference(imported, ins).forEach((g, o) => assert.equal(i8(g), i8(want[r]![o]!), `${label(r, o)}: imported vs built`));
  });
  const c = await runHostAndWasm(graph, inputs);
  c.forEach((outs, r) => outs.forEach((g, o) => assert.equal(i8(g), i8(want[r]![o]!), `${label(r, o)}: host C vs reference`)));
  return want;
}

/** Runs the reference once on the given int8 values of each input. */
function reference(graph: Graph, ...inputs: readonly number[][]): number[][] {
  const bytes = inputs.map((v) => new Uint8Array(Int8Array.from(v).buffer));
  return runReference(prepareGraph(graph, { rounding: 'double' }), bytes).map(i8);
}

const iota = (n: number, from = -60): number[] => Array.from({ length: n }, (_, i) => from + i);
// ---------------------------------------------------------------------------------------------------

test('all size-1 dimensions, listed ones, negative ones: reference == TFLite, host C == wasm (SIMD, scalar) == reference', async () => {
  const b = new GraphBuilder('squeeze');
  const cases: [number[], number[], number[]][] = [
    [[1, 3, 1, 4], [], [3, 4]],
    [[1, 3, 1, 4], [0], [3, 1, 4]],
    [[1, 3, 1, 4], [-2], [1, 3, 4]],
    [[1, 1, 5, 1], [3, 0], [1, 5]],
    [[1, 1], [], []],
    [[2, 3], [], [2, 3]],
  ];
  cases.forEach(([shape, dims, out], i) => {
    const y = b.add('Squeeze', [b.input(`x${i}`, shape, Q)], { squeezeDims: dims }, Q);
    assert.equal(y.shape, out, `case ${i}`);
    b.output(y);
  });
  await check(b.build(), 3);
});

test('feeding a copying op: squeeze -> transpose; no kernel of its own', async () => {
  const b = new GraphBuilder('squeeze_chain');
  const s = b.add('Squeeze', [b.input('x', [1, 4, 1, 3], Q)], { squeezeDims: [0, 2] }, Q);
  b.output(b.add('Transpose', [s, b.int32Constant('p', [1, 0])], {}, Q));
  const g = b.build();
  await check(g, 2);
  assert.is(prepareGraph(g, { rounding: 'double' }).nodes[0]!.prepared.kernel, null);
  assert.equal(reference(g, iota(12)), [[-60, -57, -54, -51, -59, -56, -53, -50, -58, -55, -52, -49]]);
});

test('refused: squeezing a dimension that is not 1, or out of range', () => {
  const b = new GraphBuilder('bad');
  const x = b.input('x', [1, 3], Q);
  assert.throws(() => b.add('Squeeze', [x], { squeezeDims: [1] }, Q), (e: Error) => e instanceof InvalidModelError && /size is 3, not 1/.test(e.message));
  assert.throws(() => b.add('Squeeze', [x], { squeezeDims: [2] }, Q), (e: Error) => e instanceof InvalidModelError && /dimension 2 is out of range/.test(e.message));
});

test.run();
