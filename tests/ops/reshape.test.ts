/**
 * RESHAPE: shape from a constant int32 input or from new_shape, -1 inference, legacy [0] scalar; reference ==
 * TFLite runtime and host C == wasm (SIMD, scalar) == reference (the output aliases the input: no kernel), alone and inside chains with
 * copying ops; a reshaped constant; refused models.
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
import { InvalidModelError, UnsupportedError } from '../../compiler/errors.ts';
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

// ---------------------------------------------------------------------------------------------------

test('shape input, new_shape option, -1, scalars: reference == TFLite, host C == wasm (SIMD, scalar) == reference', async () => {
  const b = new GraphBuilder('reshape');
  const x0 = b.input('x0', [2, 3, 4], Q);
  b.output(b.add('Reshape', [x0, b.int32Constant('s0', [6, 4])], { newShape: [6, 4] }, Q));
  const x1 = b.input('x1', [2, 3, 4], Q);
  const y1 = b.add('Reshape', [x1], { newShape: [4, -1] }, Q);
  assert.equal(y1.shape, [4, 6]);
  b.output(y1);
  const x2 = b.input('x2', [5, 1, 3], Q);
  const y2 = b.add('Reshape', [x2, b.int32Constant('s2', [-1, 3, 1])], { newShape: [] }, Q);
  assert.equal(y2.shape, [5, 3, 1]);
  b.output(y2);
  const x3 = b.input('x3', [1, 1], Q);
  // (An empty constant shape tensor cannot be written: a TFLite buffer with no bytes means "not a constant".)
  const y3 = b.add('Reshape', [x3], { newShape: [] }, Q);
  assert.equal(y3.shape, []);
  b.output(y3);
  const x4 = b.input('x4', [1], Q);
  const y4 = b.add('Reshape', [x4], { newShape: [0] }, Q);
  assert.equal(y4.shape, [], 'legacy [0] means a scalar');
  b.output(y4);
  await check(b.build(), 3);
});

test('aliasing inside chains: reshape -> transpose -> reshape -> pad; a reshaped constant (copied)', async () => {
  const b = new GraphBuilder('reshape_chain');
  const x = b.input('x', [24], Q);
  const r = b.add('Reshape', [x, b.int32Constant('s', [2, 3, 4])], { newShape: [2, 3, 4] }, Q);
  const t = b.add('Transpose', [r, b.int32Constant('p', [2, 0, 1])], {}, Q);
  const r2 = b.add('Reshape', [t, b.int32Constant('s2', [4, 6])], { newShape: [4, 6] }, Q);
  b.output(b.add('Pad', [r2, b.constant('pads', [2, 2], 'int32', Int32Array.from([1, 0, 0, 1]))], {}, Q));
  b.output(r2);
  await check(b.build(), 3);
  // A reshaped constant is its data under the new shape in the reference.
  const c = new GraphBuilder('reshape_const');
  const k = c.constant('k', [2, 3], 'int8', Int8Array.from([1, 2, 3, 4, 5, 6]), Q);
  const kr = c.add('Reshape', [k, c.int32Constant('s', [3, 2])], { newShape: [3, 2] }, Q);
  const y = c.input('y', [1, 2], Q);
  c.output(c.add('Concatenation', [kr, y], { axis: 0, activation: 'none' }, Q));
  const g = c.build();
  assert.equal(reference(g, [-1, -2]), [[1, 2, 3, 4, 5, 6, -1, -2]]);
  // The C backend has no buffer to alias for a constant: the reshape copies it into the output's own buffer.
  assert.is(prepareGraph(g, { rounding: 'double' }).nodes[0]!.prepared.kernel?.name, 'copy_nd_s8');
  await check(g, 2);
});

test('refused: element count mismatch, two -1, computed shape, no shape at all', () => {
  const b = new GraphBuilder('bad');
  const x = b.input('x', [2, 3], Q);
  assert.throws(() => b.add('Reshape', [x, b.int32Constant('s', [4, 2])], { newShape: [] }, Q), (e: Error) => e instanceof InvalidModelError && /does not hold 6/.test(e.message));
  assert.throws(() => b.add('Reshape', [x, b.int32Constant('s', [-1, -1])], { newShape: [] }, Q), (e: Error) => e instanceof InvalidModelError && /more than one -1/.test(e.message));
  assert.throws(() => b.add('Reshape', [x, b.int32Constant('s', [-1, 4])], { newShape: [] }, Q), (e: Error) => e instanceof InvalidModelError && /cannot infer/.test(e.message));
  assert.throws(() => b.add('Reshape', [x, b.input('s', [2], { scale: 1 }, 'int32')], { newShape: [] }, Q), (e: Error) => e instanceof UnsupportedError && /computed shape/.test(e.message));
  assert.throws(() => b.add('Reshape', [x], { newShape: [] }, Q), (e: Error) => e instanceof UnsupportedError && /names no target shape/.test(e.message));
});

test('no kernel, no work: the output aliases the input', () => {
  const b = new GraphBuilder('alias');
  const x = b.input('x', [2, 3], Q);
  b.output(b.add('Reshape', [x], { newShape: [3, 2] }, Q));
  const [n] = prepareGraph(b.build(), { rounding: 'double' }).nodes;
  assert.is(n!.prepared.kernel, null);
  assert.is(n!.prepared.scratchBytes, 0);
});

test.run();
