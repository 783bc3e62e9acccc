/**
 * STRIDED_SLICE: reference == TFLite runtime and host C == wasm (SIMD, scalar) == reference on seeded inputs, over negative indices,
 * negative strides, clamping, begin/end masks (both directions), shrink_axis_mask (to a scalar too) and ranks
 * 1..5; a hand-computed case; the merged copy the kernel receives; refused models, including the shrink cases in
 * which TFLite writes nothing (measured: its output is left zero / stale).
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
import type { StridedSliceAttrs } from '../../compiler/ops/strided_slice.ts';
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

const NO_MASKS: StridedSliceAttrs = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, offset: false };

interface Case {
  shape: number[];
  begin: number[];
  end: number[];
  strides: number[];
  masks?: Partial<StridedSliceAttrs>;
  /** Expected output shape (checked against shape inference). */
  out: number[];
}

const CASES: Case[] = [
  { shape: [5], begin: [1], end: [4], strides: [1], out: [3] },
  { shape: [10], begin: [-2], end: [-8], strides: [-2], out: [3] },
  { shape: [10], begin: [-100], end: [100], strides: [3], out: [4] },
  { shape: [10], begin: [100], end: [-100], strides: [-4], out: [3] },
  { shape: [4, 6], begin: [1, -1], end: [3, 0], strides: [1, -1], out: [2, 5] },
  { shape: [6, 4], begin: [0, 0], end: [0, 0], strides: [-1, 1], masks: { beginMask: 1, endMask: 3 }, out: [6, 4] },
  { shape: [2, 3, 4], begin: [0, 0, 0], end: [0, 0, 0], strides: [-1, -1, -1], masks: { beginMask: 7, endMask: 7 }, out: [2, 3, 4] },
  { shape: [2, 5, 6, 3], begin: [0, 1, 0, 0], end: [2, 5, 6, 3], strides: [1, 2, 3, 1], out: [2, 2, 2, 3] },
  { shape: [2, 5, 6, 3], begin: [1, 9, -2, 2], end: [0, 0, 0, 0], strides: [1, 1, -1, -2], masks: { beginMask: 0b0010, endMask: 0b1111 }, out: [1, 5, 5, 2] },
  { shape: [1, 7, 9, 4], begin: [0, 2, 1, 1], end: [1, 6, 8, 3], strides: [1, 1, 1, 1], out: [1, 4, 7, 2] },
  { shape: [3, 4, 5], begin: [1, 0, 2], end: [2, 4, 3], strides: [1, 1, 1], masks: { shrinkAxisMask: 0b101 }, out: [4] },
  { shape: [3, 4, 5], begin: [-1, 0, -3], end: [0, 0, 0], strides: [1, 2, 1], masks: { shrinkAxisMask: 0b001, endMask: 0b110 }, out: [2, 3] },
  { shape: [1, 3], begin: [0, 2], end: [1, 3], strides: [1, 1], masks: { shrinkAxisMask: 3 }, out: [] },
  // A shrink index below -size is clamped to 0 by StartForAxis, and TFLite then reads element 0.
  { shape: [3, 4], begin: [-7, 1], end: [0, 3], strides: [1, 1], masks: { shrinkAxisMask: 1 }, out: [2] },
  { shape: [2, 3, 2, 3, 2], begin: [1, 0, 0, 2, 0], end: [2, 3, 2, 0, 2], strides: [1, 2, 1, -1, 1], out: [1, 2, 2, 2, 2] },
  { shape: [8, 3], begin: [1, 0], end: [8, 3], strides: [20, 1], out: [1, 3] },
];

function sliceOp(b: GraphBuilder, x: ReturnType<GraphBuilder['input']>, c: Case, i: number, q = Q) {
  return b.add(
    'StridedSlice',
    [x, b.int32Constant(`begin${i}`, c.begin), b.int32Constant(`end${i}`, c.end), b.int32Constant(`strides${i}`, c.strides)],
    { ...NO_MASKS, ...c.masks },
    q,
  );
}

test('negative indices and strides, clamping, masks, shrink, ranks 1-5: reference == TFLite, host C == wasm (SIMD, scalar) == reference', async () => {
  const b = new GraphBuilder('strided_slice');
  CASES.forEach((c, i) => {
    const y = sliceOp(b, b.input(`x${i}`, c.shape, Q), c, i);
    assert.equal(y.shape, c.out, `case ${i} shape`);
    b.output(y);
  });
  await check(b.build(), 3);
});

test('extreme zero point; a hand-computed slice', async () => {
  const q = { scale: 1 / 256, zeroPoint: 127 };
  const b = new GraphBuilder('strided_slice_hand');
  const x = b.input('x', [3, 4], q);
  b.output(sliceOp(b, x, { shape: [3, 4], begin: [2, 3], end: [-4, 0], strides: [-2, -2], out: [2, 2] }, 0, q));
  const g = b.build();
  // rows 2, 0; columns 3, 1 of iota(12) from -60.
  assert.equal(reference(g, iota(12)), [[-60 + 11, -60 + 9, -60 + 3, -60 + 1]]);
  await check(g, 2);
});

test('the kernel gets merged dimensions: a window is rows of memcpy, a full reversal one run', () => {
  const b = new GraphBuilder('merge');
  const x = b.input('x', [1, 7, 9, 4], Q);
  b.output(sliceOp(b, x, CASES[9]!, 0));
  const y = b.input('y', [2, 3, 4], Q);
  b.output(sliceOp(b, y, CASES[6]!, 1));
  const pg = prepareGraph(b.build(), { rounding: 'double' });
  const args = pg.nodes.map((n) => n.prepared.kernel!.args.slice(2).map((a) => (a.kind === 'int' ? a.value : a.kind === 'table' ? a.values : a.kind)));
  assert.equal(args[0], [3, [4, 7, 2], [36, 4, 1], 2 * 36 + 1 * 4 + 1]);
  assert.equal(args[1], [1, [24], [-1], 23]);
});

test('refused: ellipsis / new axis / offset, zero stride, wrong index counts, bad shrinks, empty slices, int64 indices', () => {
  const b = new GraphBuilder('bad');
  const x = b.input('x', [3, 4], Q);
  const ok = { shape: [3, 4], begin: [0, 0], end: [3, 4], strides: [1, 1], out: [3, 4] };
  const refuse = (c: Case, cls: typeof InvalidModelError | typeof UnsupportedError, re: RegExp) =>
    assert.throws(() => sliceOp(b, x, c, 0), (e: Error) => e instanceof cls && re.test(e.message), re.source);
  refuse({ ...ok, masks: { ellipsisMask: 1 } }, UnsupportedError, /ellipsis_mask 1/);
  refuse({ ...ok, masks: { newAxisMask: 2 } }, UnsupportedError, /new_axis_mask 2/);
  refuse({ ...ok, masks: { offset: true } }, UnsupportedError, /offset/);
  refuse({ ...ok, strides: [1, 0] }, InvalidModelError, /stride of dimension 1 is 0/);
  refuse({ ...ok, begin: [0] }, UnsupportedError, /begin has 1 entries/);
  // TFLite writes nothing for these (its output stays zero): refused instead of reproduced.
  refuse({ ...ok, begin: [3, 0], masks: { shrinkAxisMask: 1 } }, InvalidModelError, /outside \[-3, 3\)/);
  refuse({ ...ok, begin: [1, 0], strides: [-1, 1], masks: { shrinkAxisMask: 1 } }, InvalidModelError, /negative stride/);
  refuse({ ...ok, begin: [2, 0], end: [1, 4] }, UnsupportedError, /empty/);
  const b64 = b.constant('b64', [2], 'int64', BigInt64Array.from([0n, 0n]));
  assert.throws(
    () => b.add('StridedSlice', [x, b64, b.int32Constant('e', [3, 4]), b.int32Constant('s', [1, 1])], NO_MASKS, Q),
    (e: Error) => e instanceof UnsupportedError && /begin .* int64/.test(e.message),
  );
});

test.run();
