/**
 * TRANSPOSE: reference == TFLite runtime and host C == wasm (SIMD, scalar) == reference on seeded inputs, for ranks 1..5 (every 3-D
 * permutation); a 6-D case beyond TFLite's 5-D limit against a direct index formula;
 * the merged copy the kernel receives; refused models.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../compiler/ir/graph.ts';
import { elementCount, tensorBytes } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import { graphToTflite } from '../../compiler/frontend/builder/to_tflite.ts';
import { importTflite } from '../../compiler/frontend/tflite/import.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { InvalidModelError, UnsupportedError } from '../../compiler/errors.ts';
import { stridesOf } from '../../compiler/ops/common/shape.ts';
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

/** Transpose by the definition: out[i_0..i_n] = in[j] with j[perm[k]] = i_k. */
function naiveTranspose(shape: readonly number[], perm: readonly number[], x: readonly number[]): number[] {
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = stridesOf(shape);
  const outStrides = stridesOf(outShape);
  return Array.from({ length: x.length }, (_, o) => {
    let at = 0;
    perm.forEach((p, k) => (at += (Math.floor(o / outStrides[k]!) % outShape[k]!) * inStrides[p]!));
    return x[at]!;
  });
}

const CASES: [number[], number[]][] = [
  [[7], [0]],
  [[3, 5], [1, 0]],
  ...[[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]].map((p): [number[], number[]] => [[2, 3, 4], p]),
  [[1, 5, 7, 3], [0, 3, 1, 2]],
  [[1, 3, 5, 7], [0, 2, 3, 1]],
  [[2, 3, 4, 5], [3, 1, 0, 2]],
  [[4, 1, 3, 1], [1, 3, 2, 0]],
  [[2, 3, 1, 4, 2], [4, 2, 0, 3, 1]],
  [[3, 2, 2, 3, 2], [0, 1, 4, 3, 2]],
];

test('ranks 1-5, every 3-D permutation: reference == TFLite, host C == wasm (SIMD, scalar) == reference', async () => {
  const b = new GraphBuilder('transpose');
  CASES.forEach(([shape, perm], i) => {
    const x = b.input(`x${i}`, shape, Q);
    b.output(b.add('Transpose', [x, b.int32Constant(`perm${i}`, perm)], {}, Q));
  });
  const g = b.build();
  const want = await check(g, 3);
  // And the reference is a transpose (so the agreement above is not two wrong answers).
  const rng = new Random(11);
  const inputs = g.inputs.map((id) => Array.from(rng.int8Array(tensorBytes(g.tensors[id]!))));
  CASES.forEach(([shape, perm], i) => assert.equal(i8(want[0]![i]!), naiveTranspose(shape, perm, inputs[i]!), `case ${i}`));
});

test('zero point -128, scale 0.5: bytes move unchanged', async () => {
  const b = new GraphBuilder('transpose_zp');
  const q = { scale: 0.5, zeroPoint: -128 };
  const x = b.input('x', [2, 5, 3], q);
  b.output(b.add('Transpose', [x, b.int32Constant('perm', [2, 0, 1])], {}, q));
  await check(b.build(), 2);
});

test('6-D (beyond TFLite): host C == wasm (SIMD, scalar) == reference == index formula', async () => {
  const shape = [2, 1, 3, 2, 2, 3];
  const perm = [5, 3, 0, 2, 4, 1];
  const b = new GraphBuilder('transpose6');
  const x = b.input('x', shape, Q);
  b.output(b.add('Transpose', [x, b.int32Constant('perm', perm)], {}, Q));
  const g = b.build();
  const values = iota(elementCount(shape));
  const [out] = reference(g, values);
  assert.equal(out, naiveTranspose(shape, perm, values));
  const [[c]] = await runHostAndWasm(g, [new Uint8Array(Int8Array.from(values).buffer)]);
  assert.equal(i8(c!), out);
});

test('the kernel gets merged dimensions: NHWC -> NCHW is a 2-D gather, identity a memcpy', () => {
  const b = new GraphBuilder('merge');
  const x = b.input('x', [1, 5, 7, 3], Q);
  b.output(b.add('Transpose', [x, b.int32Constant('p0', [0, 3, 1, 2])], {}, Q));
  b.output(b.add('Transpose', [x, b.int32Constant('p1', [0, 1, 2, 3])], {}, Q));
  const pg = prepareGraph(b.build(), { rounding: 'double' });
  const args = pg.nodes.map((n) => n.prepared.kernel!.args.slice(2).map((a) => (a.kind === 'int' ? a.value : a.kind === 'table' ? a.values : a.kind)));
  assert.equal(args[0], [2, [3, 35], [1, 3], 0]);
  assert.equal(args[1], [1, [105], [1], 0]);
  assert.is(pg.nodes[0]!.prepared.kernel!.name, 'copy_nd_s8');
});

test('refused: bad perms, computed or int64 perm (TFLM reads perm as int32), non-int8 data', () => {
  const b = new GraphBuilder('bad');
  const x = b.input('x', [2, 3, 4], Q);
  assert.throws(() => b.add('Transpose', [x, b.int32Constant('p', [0, 0, 1])], {}, Q), (e: Error) => e instanceof InvalidModelError && /not a permutation/.test(e.message));
  assert.throws(() => b.add('Transpose', [x, b.int32Constant('p', [0, 1, 3])], {}, Q), (e: Error) => e instanceof InvalidModelError && /not a permutation/.test(e.message));
  assert.throws(() => b.add('Transpose', [x, b.int32Constant('p', [1, 0])], {}, Q), (e: Error) => e instanceof InvalidModelError && /2 entries/.test(e.message));
  const p64 = b.constant('p64', [3], 'int64', BigInt64Array.from([2n, 0n, 1n]));
  assert.throws(() => b.add('Transpose', [x, p64], {}, Q), (e: Error) => e instanceof UnsupportedError && /type int64; supported: int32$/.test(e.message));
  const p = b.input('perm', [3], { scale: 1 }, 'int32');
  assert.throws(() => b.add('Transpose', [x, p], {}, Q), (e: Error) => e instanceof UnsupportedError && /must be a constant/.test(e.message));
  const b2 = new GraphBuilder('int16');
  const x16 = b2.input('x', [2, 3], { scale: 0.1 }, 'int16');
  b2.output(b2.add('Transpose', [x16, b2.int32Constant('p', [1, 0])], {}, { scale: 0.1 }));
  assert.throws(() => prepareGraph(b2.build(), { rounding: 'double' }), (e: Error) => e instanceof UnsupportedError && /type int16/.test(e.message));
});

test.run();
