/**
 * PAD / PADV2: reference == TFLite runtime and host C == wasm (SIMD, scalar) == reference on seeded inputs, over padded batch, spatial
 * and channel dimensions, ranks 1..5, zero points at both int8 extremes, PADV2 constants; a hand-computed case;
 * the merged dimensions the kernel receives; refused models.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../compiler/ir/graph.ts';
import { tensorBytes } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import type { QuantSpec } from '../../compiler/frontend/builder/builder.ts';
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

const CASES: [number[], number[][], QuantSpec][] = [
  [[7], [[3, 0]], Q],
  [[3, 4], [[1, 2], [0, 3]], { scale: 0.02, zeroPoint: -128 }],
  [[2, 3], [[0, 0], [0, 0]], Q],
  [[1, 5, 5, 3], [[0, 0], [1, 1], [2, 0], [0, 0]], { scale: 0.1, zeroPoint: 127 }],
  [[1, 2, 3, 5], [[0, 0], [0, 0], [0, 0], [2, 1]], { scale: 0.1, zeroPoint: -7 }],
  [[2, 2, 2, 2], [[1, 0], [0, 1], [1, 1], [0, 0]], Q],
  [[1, 1, 4, 1], [[0, 0], [3, 3], [0, 2], [1, 0]], Q],
  [[2, 1, 3, 2, 2], [[0, 1], [1, 0], [0, 0], [2, 1], [0, 0]], Q],
];

test('PAD, ranks 1-5, extreme zero points: reference == TFLite, host C == wasm (SIMD, scalar) == reference', async () => {
  const b = new GraphBuilder('pad');
  CASES.forEach(([shape, pads, q], i) => {
    const x = b.input(`x${i}`, shape, q);
    const y = b.add('Pad', [x, b.constant(`pad${i}`, [shape.length, 2], 'int32', Int32Array.from(pads.flat()))], {}, q);
    assert.equal(y.shape, shape.map((d, k) => d + pads[k]![0]! + pads[k]![1]!));
    b.output(y);
  });
  await check(b.build(), 3);
});

test('PADV2 with a constant pad value (and without one); a hand-computed case', async () => {
  const b = new GraphBuilder('padv2');
  const q = { scale: 0.1, zeroPoint: 5 };
  const x = b.input('x', [1, 3, 2, 2], q);
  const pads = b.constant('pads', [4, 2], 'int32', Int32Array.from([0, 0, 1, 1, 1, 0, 0, 0]));
  b.output(b.add('PadV2', [x, pads, b.constant('c', [1], 'int8', Int8Array.from([-128]), q)], {}, q));
  b.output(b.add('PadV2', [x, pads, b.constant('d', [], 'int8', Int8Array.from([100]), q)], {}, q));
  b.output(b.add('PadV2', [x, pads], {}, q));
  const g = b.build();
  await check(g, 3);

  const h = new GraphBuilder('hand');
  const xh = h.input('x', [2, 2], q);
  h.output(h.add('Pad', [xh, h.constant('p', [2, 2], 'int32', Int32Array.from([1, 0, 0, 1]))], {}, q));
  assert.equal(reference(h.build(), [1, 2, 3, 4]), [[5, 5, 5, 1, 2, 5, 3, 4, 5]]);
});

test('the kernel gets merged dimensions: unpadded inner dimensions fold into the next outer one', () => {
  const b = new GraphBuilder('merge');
  const x = b.input('x', [1, 5, 5, 3], Q);
  b.output(b.add('Pad', [x, b.constant('p', [4, 2], 'int32', Int32Array.from([0, 0, 1, 1, 2, 0, 0, 0]))], {}, Q));
  b.output(b.add('Pad', [x, b.constant('q', [4, 2], 'int32', Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0]))], {}, Q));
  const pg = prepareGraph(b.build(), { rounding: 'double' });
  const args = pg.nodes.map((n) => n.prepared.kernel!.args.slice(2).map((a) => (a.kind === 'int' ? a.value : a.kind === 'table' ? a.values : a.kind)));
  assert.equal(args[0], [3, 3, [1, 7, 21], [1, 5, 15], [0, 1, 6]]);
  assert.equal(args[1], [3, 1, [75], [75], [0]]);
  assert.is(pg.nodes[0]!.prepared.kernel!.name, 'pad_s8');
});

test('refused: negative or misshaped or computed or int64 paddings, PADV2 constant quantized unlike the output', () => {
  const b = new GraphBuilder('bad');
  const x = b.input('x', [2, 3], Q);
  const pads = (v: number[], shape = [2, 2]) => b.constant('p', shape, 'int32', Int32Array.from(v));
  assert.throws(() => b.add('Pad', [x, pads([0, -1, 0, 0])], {}, Q), (e: Error) => e instanceof InvalidModelError && /negative paddings/.test(e.message));
  assert.throws(() => b.add('Pad', [x, pads([0, 1, 0, 0, 1, 1], [3, 2])], {}, Q), (e: Error) => e instanceof InvalidModelError && /must have shape \[2, 2\]/.test(e.message));
  assert.throws(() => b.add('Pad', [x, b.input('pi', [2, 2], { scale: 1 }, 'int32')], {}, Q), (e: Error) => e instanceof UnsupportedError && /must be a constant/.test(e.message));
  const p64 = b.constant('p64', [2, 2], 'int64', BigInt64Array.from([0n, 1n, 0n, 0n]));
  assert.throws(() => b.add('Pad', [x, p64], {}, Q), (e: Error) => e instanceof UnsupportedError && /int64; supported: int32$/.test(e.message));
  b.output(b.add('PadV2', [x, pads([0, 1, 0, 0]), b.constant('c', [1], 'int8', Int8Array.from([0]), { scale: 0.05, zeroPoint: 4 })], {}, Q));
  assert.throws(() => prepareGraph(b.build(), { rounding: 'double' }), (e: Error) => e instanceof UnsupportedError && /must be quantized like the output/.test(e.message));
});

test.run();
