/**
 * RESIZE_NEAREST_NEIGHBOR: reference == TFLite runtime and host C == wasm (SIMD, scalar) == reference on seeded inputs for every
 * (align_corners, half_pixel_centers) combination over up-, down- and non-integer scaling, size 1, batches;
 * hand-computed indices (checked against what TFLite printed); refused models.
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
import { nearestNeighbor } from '../../compiler/ops/resize_nearest_neighbor.ts';
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

const CASES: [number[], [number, number]][] = [
  [[1, 3, 4, 2], [6, 8]],
  [[2, 7, 9, 3], [3, 4]],
  [[1, 5, 7, 1], [7, 3]],
  [[1, 4, 4, 2], [1, 1]],
  [[1, 1, 1, 4], [3, 2]],
  [[1, 6, 6, 1], [6, 6]],
  [[1, 3, 10, 5], [11, 23]],
  [[1, 17, 13, 2], [5, 29]],
];

const FLAGS = [
  { alignCorners: false, halfPixelCenters: false },
  { alignCorners: true, halfPixelCenters: false },
  { alignCorners: false, halfPixelCenters: true },
  { alignCorners: true, halfPixelCenters: true },
];

test('all flag combinations, up/down/non-integer scaling, batches: reference == TFLite, host C == wasm (SIMD, scalar) == reference', async () => {
  const b = new GraphBuilder('resize');
  let n = 0;
  FLAGS.forEach((flags, f) => {
    CASES.forEach(([shape, size], i) => {
      const q = i % 2 ? Q : { scale: 0.25, zeroPoint: f % 2 ? -128 : 127 };
      const x = b.input(`x${n++}`, shape, q);
      const y = b.add('ResizeNearestNeighbor', [x, b.int32Constant(`size${f}_${i}`, size)], flags, q);
      assert.equal(y.shape, [shape[0], size[0], size[1], shape[3]]);
      b.output(y);
    });
  });
  await check(b.build(), 2);
});

test('hand-computed indices', () => {
  // 4 -> 7 columns: floor(x * 4/7); align corners: round(x * 3/6); half pixel: floor((x + .5) * 4/7);
  // both: round((x + .5) * 3/6) clamped to 3.
  const cols = (align: boolean, half: boolean) => Array.from({ length: 7 }, (_, x) => nearestNeighbor(x, 4, 7, align, half));
  assert.equal(cols(false, false), [0, 0, 1, 1, 2, 2, 3]);
  assert.equal(cols(true, false), [0, 1, 1, 2, 2, 3, 3]);
  assert.equal(cols(false, true), [0, 0, 1, 2, 2, 3, 3]);
  assert.equal(cols(true, true), [0, 1, 1, 2, 2, 3, 3]);
  // What TFLite printed for a 1x3x4x1 iota (1..12) resized to 5x7 with both flags.
  const b = new GraphBuilder('hand');
  const x = b.input('x', [1, 3, 4, 1], Q);
  b.output(b.add('ResizeNearestNeighbor', [x, b.int32Constant('s', [5, 7])], { alignCorners: true, halfPixelCenters: true }, Q));
  assert.equal(reference(b.build(), iota(12, 1)), [[
    1, 2, 2, 3, 3, 4, 4, 5, 6, 6, 7, 7, 8, 8, 5, 6, 6, 7, 7, 8, 8, 9, 10, 10, 11, 11, 12, 12, 9, 10, 10, 11, 11, 12, 12,
  ]]);
});

test('refused: non-4-D input, computed or misshaped or non-positive size', () => {
  const b = new GraphBuilder('bad');
  const flags = FLAGS[0]!;
  const x = b.input('x', [1, 3, 4, 2], Q);
  assert.throws(() => b.add('ResizeNearestNeighbor', [b.input('v', [3, 4, 2], Q), b.int32Constant('s', [2, 2])], flags, Q), (e: Error) => e instanceof UnsupportedError && /4-D NHWC/.test(e.message));
  assert.throws(() => b.add('ResizeNearestNeighbor', [x, b.input('s', [2], { scale: 1 }, 'int32')], flags, Q), (e: Error) => e instanceof UnsupportedError && /must be a constant/.test(e.message));
  assert.throws(() => b.add('ResizeNearestNeighbor', [x, b.int32Constant('s', [2, 2, 2])], flags, Q), (e: Error) => e instanceof InvalidModelError && /2 values/.test(e.message));
  assert.throws(() => b.add('ResizeNearestNeighbor', [x, b.int32Constant('s', [0, 2])], flags, Q), (e: Error) => e instanceof InvalidModelError && /must be positive/.test(e.message));
});

test.run();
