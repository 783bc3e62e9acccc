/**
 * EXPAND_DIMS: constant int32 / int64 axis in [-rank - 1, rank]; reference == TFLite runtime and host C ==
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

test('front, middle, back, negative, int64 axis: reference == TFLite, host C == wasm (SIMD, scalar) == reference', async () => {
  const b = new GraphBuilder('expand_dims');
  const cases: [number[], number, number[]][] = [
    [[3, 4], 0, [1, 3, 4]],
    [[3, 4], 1, [3, 1, 4]],
    [[3, 4], 2, [3, 4, 1]],
    [[3, 4], -1, [3, 4, 1]],
    [[3, 4], -3, [1, 3, 4]],
    [[5], 0, [1, 5]],
  ];
  cases.forEach(([shape, axis, out], i) => {
    const y = b.add('ExpandDims', [b.input(`x${i}`, shape, Q), b.int32Constant(`a${i}`, [axis])], {}, Q);
    assert.equal(y.shape, out, `case ${i}`);
    b.output(y);
  });
  const a64 = b.constant('a64', [], 'int64', BigInt64Array.from([-2n]));
  const y = b.add('ExpandDims', [b.input('x64', [2, 3], Q), a64], {}, Q);
  assert.equal(y.shape, [2, 1, 3]);
  b.output(y);
  await check(b.build(), 3);
});

test('feeding a copying op: expand_dims -> pad; no kernel of its own', async () => {
  const b = new GraphBuilder('expand_chain');
  const e = b.add('ExpandDims', [b.input('x', [2, 2], Q), b.int32Constant('a', [0])], {}, Q);
  b.output(b.add('Pad', [e, b.constant('p', [3, 2], 'int32', Int32Array.from([1, 0, 0, 0, 0, 1]))], {}, Q));
  const g = b.build();
  await check(g, 2);
  assert.is(prepareGraph(g, { rounding: 'double' }).nodes[0]!.prepared.kernel, null);
  assert.equal(reference(g, [1, 2, 3, 4]), [[3, 3, 3, 3, 3, 3, 1, 2, 3, 3, 4, 3]]);
});

test('refused: axis out of range, several axes, computed axis', () => {
  const b = new GraphBuilder('bad');
  const x = b.input('x', [2, 3], Q);
  assert.throws(() => b.add('ExpandDims', [x, b.int32Constant('a', [3])], {}, Q), (e: Error) => e instanceof InvalidModelError && /axis 3 is out of range for rank 3/.test(e.message));
  assert.throws(() => b.add('ExpandDims', [x, b.int32Constant('a', [-4])], {}, Q), (e: Error) => e instanceof InvalidModelError && /out of range/.test(e.message));
  assert.throws(() => b.add('ExpandDims', [x, b.int32Constant('a', [0, 1])], {}, Q), (e: Error) => e instanceof InvalidModelError && /one value/.test(e.message));
  assert.throws(() => b.add('ExpandDims', [x, b.input('a', [1], { scale: 1 }, 'int32')], {}, Q), (e: Error) => e instanceof UnsupportedError && /must be a constant/.test(e.message));
});

test.run();
