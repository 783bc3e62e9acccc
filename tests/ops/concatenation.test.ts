/**
 * CONCATENATION: reference == TFLite runtime and host C == wasm (SIMD, scalar) == reference on seeded inputs, along every axis (negative
 * too), 1 to 10 inputs, constant and repeated inputs, extreme zero points. Inputs quantized unlike the output
 * (which TFLite refuses, checked) are requantized like ConcatenationWithScaling: checked against an independent
 * float32 evaluation of that formula and against the real values. Refused models.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../compiler/ir/graph.ts';
import { tensorBytes } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import type { QuantSpec, TensorRef } from '../../compiler/frontend/builder/builder.ts';
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

const iota = (n: number, from = -60): number[] => Array.from({ length: n }, (_, i) => from + i);
// ---------------------------------------------------------------------------------------------------

const NONE = { activation: 'none' };

test('every axis, 1-10 inputs, constant and repeated inputs: reference == TFLite, host C == wasm (SIMD, scalar) == reference', async () => {
  const b = new GraphBuilder('concat');
  const qs: QuantSpec[] = [Q, { scale: 0.01, zeroPoint: -128 }, { scale: 2, zeroPoint: 127 }];
  let n = 0;
  const cases: [number[][], number][] = [
    [[[2, 3, 4, 5], [2, 3, 4, 1]], 3],
    [[[2, 3, 4, 5], [2, 1, 4, 5], [2, 2, 4, 5]], 1],
    [[[2, 3, 4, 5], [2, 3, 2, 5]], -2],
    [[[1, 3], [4, 3], [2, 3]], 0],
    [[[7]], 0],
    [[[3, 1, 2], [3, 4, 2], [3, 2, 2], [3, 1, 2], [3, 3, 2], [3, 1, 2], [3, 2, 2], [3, 5, 2], [3, 1, 2], [3, 2, 2]], -2],
    [[[2, 1, 2, 2, 3], [2, 1, 2, 2, 3]], 4],
  ];
  cases.forEach(([shapes, axis], i) => {
    const q = qs[i % qs.length]!;
    const xs = shapes.map((s) => b.input(`x${n++}`, s, q));
    b.output(b.add('Concatenation', xs, { axis, ...NONE }, q));
  });
  // A constant operand, and the same tensor twice.
  const x = b.input(`x${n++}`, [2, 3], Q);
  const c = b.constant('c', [2, 2], 'int8', Int8Array.from([-128, 127, 0, 5]), Q);
  b.output(b.add('Concatenation', [c, x, x], { axis: 1, ...NONE }, Q));
  const g = b.build();
  await check(g, 3);
  const ref = reference(g, ...g.inputs.map((id) => iota(tensorBytes(g.tensors[id]!))));
  assert.equal(ref[ref.length - 1], [-128, 127, -60, -59, -58, -60, -59, -58, 0, 5, -57, -56, -55, -57, -56, -55]);
});

/** ConcatenationWithScaling's formula evaluated with float32 storage after every operation. */
function scaledByFormula(x: number, inScale: number, inZp: number, outScale: number, outZp: number): number {
  const f = new Float32Array(4);
  f[0] = 1;
  f[0] /= outScale; // inverse_output_scale
  f[1] = inScale;
  f[1] *= f[0]!; // scale
  f[2] = -inZp;
  f[2] *= f[1]!; // bias
  f[3] = x;
  f[3] *= f[1]!;
  f[3] += f[2]!;
  const v = f[3]!;
  const rounded = v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
  return Math.min(127, Math.max(-128, rounded + outZp));
}

test('inputs quantized unlike the output: requantized like ConcatenationWithScaling (TFLite refuses them)', async () => {
  const out = { scale: 0.07, zeroPoint: -5 };
  const ins = [
    { scale: 0.05, zeroPoint: 3 }, out, { scale: 0.3, zeroPoint: -128 }, { scale: 0.07, zeroPoint: 10 },
    { scale: 0.0123, zeroPoint: 127 }, { scale: 0.05, zeroPoint: 3 },
  ];
  const b = new GraphBuilder('concat_scaled');
  const xs: TensorRef[] = ins.map((q, i) => b.input(`x${i}`, [2, 256], q));
  b.output(b.add('Concatenation', xs, { axis: 1, ...NONE }, out));
  const g = b.build();
  const all = iota(256, -128);
  const values = xs.map((_, i) => [...all, ...all.map((v) => (v * 7 + i) % 128)]);
  const [y] = reference(g, ...values);
  const outScale = Math.fround(out.scale);
  ins.forEach((q, i) => {
    const inScale = Math.fround(q.scale);
    for (let r = 0; r < 2; r++) {
      for (let j = 0; j < 256; j++) {
        const x = values[i]![r * 256 + j]!;
        const got = y![r * 256 * ins.length + i * 256 + j]!;
        const want = q === out ? x : scaledByFormula(x, inScale, q.zeroPoint, outScale, out.zeroPoint);
        assert.is(got, want, `input ${i} value ${x}`);
        // Same real value within half an output step, unless clamped.
        const real = inScale * (x - q.zeroPoint);
        if (want > -128 && want < 127) assert.ok(Math.abs(outScale * (got - out.zeroPoint) - real) <= outScale / 2 + 1e-6, `input ${i} value ${x}: ${real}`);
      }
    }
  });
  const rt = await loadTfliteRuntime();
  assert.throws(() => rt.run(graphToTflite(g), values.map((v) => new Uint8Array(Int8Array.from(v).buffer))), /params->scale|params.scale|cannot create interpreter/);
  const c = await runHostAndWasm(g, [values.map((v) => new Uint8Array(Int8Array.from(v).buffer))]);
  assert.equal(i8(c[0]![0]!), y);
  // One table per distinct requantization: inputs 0 and 5 share theirs, input 1 is copied.
  const kernel = prepareGraph(g, { rounding: 'double' }).nodes[0]!.prepared.kernel!;
  const luts = kernel.args[kernel.args.length - 1]!;
  assert.is(luts.kind === 'table' ? luts.values.length : -1, 4 * 256);
});

test('refused: fused activation, more than 10 inputs, mismatched shapes or types, bad axis', () => {
  const b = new GraphBuilder('bad');
  const x = b.input('x', [2, 3], Q);
  const y = b.input('y', [3, 3], Q);
  b.output(b.add('Concatenation', [x, x], { axis: 0, activation: 'relu' }, Q));
  assert.throws(() => prepareGraph(b.build(), { rounding: 'double' }), (e: Error) => e instanceof UnsupportedError && /fused activation RELU/.test(e.message));
  const b2 = new GraphBuilder('many');
  const z = b2.input('z', [1, 2], Q);
  b2.output(b2.add('Concatenation', new Array(11).fill(z), { axis: 0, ...NONE }, Q));
  assert.throws(() => prepareGraph(b2.build(), { rounding: 'double' }), (e: Error) => e instanceof UnsupportedError && /11 inputs; at most 10/.test(e.message));
  assert.throws(() => b.add('Concatenation', [x, y], { axis: 1, ...NONE }, Q), (e: Error) => e instanceof InvalidModelError && /cannot be concatenated/.test(e.message));
  assert.throws(() => b.add('Concatenation', [x, y], { axis: 2, ...NONE }, Q), (e: Error) => e instanceof InvalidModelError && /axis 2 is out of range/.test(e.message));
  const w = b.input('w', [2, 3], { scale: 1 }, 'int16');
  assert.throws(() => b.add('Concatenation', [x, w], { axis: 0, ...NONE }, Q), (e: Error) => e instanceof InvalidModelError && /types int8 and int16/.test(e.message));
});

test.run();
