/**
 * DEPTHWISE_CONV_2D: the reference (TFLite's DepthwiseConvPerChannel, literally, double rounding) equals the real
 * TFLite runtime byte for byte, whatever the compile-time rounding option (depthwise rounds twice in TFLM and in
 * TFLite alike), and the C kernel (folded input offset, border handling, 4-channel blocks, unrolled 3x3) equals the
 * reference on the host (with sanitizers) and on a Cortex-M4 in QEMU, over many shapes, depth multipliers and
 * attributes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Activation, Graph, Padding } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import { graphToTflite } from '../../compiler/frontend/builder/to_tflite.ts';
import { importTflite } from '../../compiler/frontend/tflite/import.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import type { Rounding } from '../../compiler/ops/common/fixed_point.ts';
import type { DepthwiseConv2DAttrs } from '../../compiler/ops/depthwise_conv2d.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { InvalidModelError, UnsupportedError } from '../../compiler/errors.ts';
import { loadTfliteRuntime } from '../oracles/tflite_runtime.ts';
import { runCompiled, runHostAndWasm } from '../helpers/backends.ts';

/** uvu's assert.throws predicate: an error of class `type` whose message matches `pattern`. */
const fails = (type: new (...args: never[]) => Error, pattern = /./) => (e: Error) => e instanceof type && pattern.test(e.message);

interface Case {
  readonly name: string;
  readonly input: readonly [number, number, number, number];
  readonly filter: readonly [number, number];
  readonly multiplier?: number;
  readonly stride?: readonly [number, number];
  readonly dilation?: readonly [number, number];
  readonly padding: Padding;
  readonly activation?: Activation;
  readonly inZp?: number;
  readonly outZp?: number;
  readonly perTensor?: boolean;
  readonly noBias?: boolean;
  /** Multiplies the output scale: < 1 gives real multipliers above 1 (left shifts) and saturation. */
  readonly outScaleFactor?: number;
  /** The depth_multiplier attribute as written; 0 = derived from the shapes. */
  readonly attrMultiplier?: number;
}

const CASES: readonly Case[] = [
  { name: '3x3 same, 8 channels, relu6', input: [1, 7, 9, 8], filter: [3, 3], padding: 'same', activation: 'relu6' },
  { name: '3x3 same stride 2, 13 channels, relu', input: [1, 9, 8, 13], filter: [3, 3], stride: [2, 2], padding: 'same', activation: 'relu' },
  { name: '3x3 valid, batch 2, 5 channels', input: [2, 6, 7, 5], filter: [3, 3], padding: 'valid' },
  { name: '3x3 dilation 2 same, 6 channels', input: [1, 8, 9, 6], filter: [3, 3], dilation: [2, 2], padding: 'same' },
  { name: '5x5 same, 7 channels', input: [1, 8, 8, 7], filter: [5, 5], padding: 'same', activation: 'relu' },
  { name: 'depth multiplier 2, 3x3 same', input: [1, 6, 5, 3], filter: [3, 3], multiplier: 2, padding: 'same' },
  { name: 'depth multiplier 3, 2x2 valid stride 2', input: [1, 7, 6, 2], filter: [2, 2], multiplier: 3, stride: [2, 2], padding: 'valid' },
  { name: 'depth multiplier 4 on one channel, 3x3 same, attribute 0', input: [1, 6, 6, 1], filter: [3, 3], multiplier: 4, padding: 'same', attrMultiplier: 0 },
  { name: 'DS-CNN block: 25x5x64, 3x3 same, relu', input: [1, 25, 5, 64], filter: [3, 3], padding: 'same', activation: 'relu' },
  { name: 'no bias, per-tensor weights, zero points at the extremes', input: [1, 5, 6, 4], filter: [3, 3], padding: 'same', perTensor: true, noBias: true, inZp: 127, outZp: -128 },
  { name: 'input zp -128, output zp 127, relu6', input: [1, 5, 5, 9], filter: [3, 3], padding: 'same', inZp: -128, outZp: 127, activation: 'relu6' },
  { name: '1x1 depthwise', input: [1, 4, 5, 6], filter: [1, 1], padding: 'same' },
  { name: 'filter larger than the input, same', input: [1, 3, 3, 5], filter: [5, 5], padding: 'same' },
  { name: 'dilated window that misses the image', input: [1, 3, 3, 4], filter: [2, 2], dilation: [5, 5], padding: 'same' },
  { name: 'multipliers above 1 (left shift)', input: [1, 5, 5, 4], filter: [3, 3], padding: 'same', outScaleFactor: 0.01 },
  { name: '3x1 filter, dilation 1x2, stride 3x4', input: [1, 11, 13, 5], filter: [3, 1], dilation: [1, 2], stride: [3, 4], padding: 'same', activation: 'relu_n1_to_1' },
  { name: '3x3 dilation 2x1 stride 1x2 valid', input: [1, 9, 9, 12], filter: [3, 3], dilation: [2, 1], stride: [1, 2], padding: 'valid' },
  { name: '3x3 stride 2 same on an even image (MobileNet downsampling)', input: [1, 12, 12, 16], filter: [3, 3], stride: [2, 2], padding: 'same', activation: 'relu6' },
];

/**
 * One graph holding every case side by side (input i -> output i), so that one C build covers them all.
 * `forTflite`: TFLite's int8 kernels want a bias, so bias-less cases get an all-zero one, which is the same
 * computation (and draws nothing from the generator, so every other constant stays the same).
 */
function buildGraph(cases: readonly Case[], seed: number, forTflite = false): Graph {
  const b = new GraphBuilder('depthwise_conv2d_cases', seed);
  const r = b.random;
  for (const [i, c] of cases.entries()) {
    const m = c.multiplier ?? 1;
    const outC = c.input[3] * m;
    const inScale = 0.02 + r.next() * 0.05;
    const wScales = Array.from({ length: c.perTensor ? 1 : outC }, () => 0.002 + r.next() * 0.02);
    const meanW = wScales.reduce((a, s) => a + s, 0) / wScales.length;
    const outScale = inScale * meanW * Math.sqrt(c.filter[0] * c.filter[1]) * 30 * (c.outScaleFactor ?? 1);
    const x = b.input(`x${i}`, c.input, { scale: inScale, zeroPoint: c.inZp ?? r.int(-20, 20) });
    const w = b.weights(`w${i}`, [1, c.filter[0], c.filter[1], outC], c.perTensor ? wScales[0]! : wScales, 3);
    const bias = c.noBias ? null : b.bias(`b${i}`, outC, inScale, c.perTensor ? Array(outC).fill(wScales[0]!) : wScales, 4000);
    const zeroBias = forTflite && !bias ? b.constant(`b${i}`, [outC], 'int32', new Int32Array(outC), { scale: inScale * meanW }) : null;
    const attrs: DepthwiseConv2DAttrs = {
      padding: c.padding,
      strideH: c.stride?.[0] ?? 1,
      strideW: c.stride?.[1] ?? 1,
      dilationH: c.dilation?.[0] ?? 1,
      dilationW: c.dilation?.[1] ?? 1,
      depthMultiplier: c.attrMultiplier ?? m,
      activation: c.activation ?? 'none',
    };
    b.output(b.add('DepthwiseConv2D', [x, w, bias ?? zeroBias], attrs, { scale: outScale, zeroPoint: c.outZp ?? r.int(-10, 10) }));
  }
  return b.build();
}

/** Seeded inputs for every graph input: random bytes, plus one run of all -128 and one of all 127. */
function makeRuns(graph: Graph, count: number, seed: number): Uint8Array[][] {
  const r = new Random(seed);
  const sizes = graph.inputs.map((id) => elementCount(graph.tensors[id]!.shape));
  const runs = Array.from({ length: count }, () => sizes.map((n) => new Uint8Array(r.int8Array(n).buffer)));
  runs.push(sizes.map((n) => new Uint8Array(n).fill(0x80)));
  runs.push(sizes.map((n) => new Uint8Array(n).fill(0x7f)));
  return runs;
}

const graph = buildGraph(CASES, 23);
const runs = makeRuns(graph, 4, 77);
const reference = (rounding: Rounding) => {
  const pg = prepareGraph(graph, { rounding });
  return runs.map((inputs) => runReference(pg, inputs));
};

test('reference == TFLite runtime, byte for byte, in both rounding modes', async () => {
  const tflite = await loadTfliteRuntime();
  const model = graphToTflite(buildGraph(CASES, 23, true));
  const double = reference('double');
  const single = reference('single');
  runs.forEach((inputs, k) => {
    const want = tflite.run(model, inputs);
    CASES.forEach((c, i) => {
      assert.equal(Buffer.from(double[k]![i]!), Buffer.from(want[i]!), `${c.name}, run ${k}`);
      assert.equal(Buffer.from(single[k]![i]!), Buffer.from(want[i]!), `${c.name}, run ${k} (single rounding option)`);
    });
  });
});

for (const rounding of ['double', 'single', 'float32'] as const) {
  test(`host C == wasm (SIMD, scalar) == reference (${rounding} rounding option), byte for byte`, async () => {
    const ref = reference(rounding);
    const host = await runHostAndWasm(graph, runs, { rounding });
    runs.forEach((_, k) => CASES.forEach((c, i) => assert.equal(Buffer.from(host[k]![i]!), Buffer.from(ref[k]![i]!), `${c.name}, run ${k}`)));
  });
}

test('Cortex-M4 (QEMU) == reference, byte for byte', async () => {
  const ref = reference('double');
  const m4 = await runCompiled(graph, runs, 'cortex-m4', 'double');
  runs.forEach((_, k) => CASES.forEach((c, i) => assert.equal(Buffer.from(m4.outputs[k]![i]!), Buffer.from(ref[k]![i]!), `${c.name}, run ${k}`)));
});

test('TFLite options round trip through the importer', () => {
  const imported = importTflite(graphToTflite(graph), 'depthwise_conv2d_cases');
  assert.equal(imported.nodes.map((n) => n.attrs), graph.nodes.map((n) => n.attrs));
});

test('unsupported and invalid models are refused with a precise error', () => {
  const attrs: DepthwiseConv2DAttrs = { padding: 'same', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, depthMultiplier: 1, activation: 'none' };
  const b = new GraphBuilder('bad', 1);
  const x = b.input('x', [1, 4, 4, 4], { scale: 0.1, zeroPoint: 0 });
  assert.throws(() => b.add('DepthwiseConv2D', [x, b.weights('w', [1, 3, 3, 6], 0.01, 3)], attrs, { scale: 0.1 }), fails(InvalidModelError, /multiple/));
  assert.throws(() => b.add('DepthwiseConv2D', [x, b.weights('w', [1, 3, 3, 8], 0.01, 3)], { ...attrs, depthMultiplier: 3 }, { scale: 0.1 }), fails(InvalidModelError, /depth_multiplier 3/));
  assert.throws(() => b.add('DepthwiseConv2D', [x, b.weights('w', [2, 3, 3, 4], 0.01, 3)], attrs, { scale: 0.1 }), fails(InvalidModelError, /\[1, H, W, C\]/));
  assert.throws(() => b.add('DepthwiseConv2D', [x, b.weights('w', [1, 3, 3, 4], 0.01, 3)], { ...attrs, dilationW: 0 }, { scale: 0.1 }), fails(UnsupportedError, /dilation_w_factor 0/));
  const prep = (build: (b: GraphBuilder, x: ReturnType<GraphBuilder['input']>) => void) => {
    const g = new GraphBuilder('bad', 1);
    build(g, g.input('x', [1, 4, 4, 4], { scale: 0.1, zeroPoint: 0 }));
    return () => prepareGraph(g.build(), { rounding: 'double' });
  };
  // Per-channel scales along the wrong dimension.
  assert.throws(prep((g, x) => g.output(g.add('DepthwiseConv2D', [x, g.weights('w', [1, 3, 3, 4], [0.01, 0.02, 0.03, 0.04], 0), null], attrs, { scale: 0.1 }))), fails(UnsupportedError, /dimension 0/));
  assert.throws(prep((g, x) => g.output(g.add('DepthwiseConv2D', [x, g.weights('w', [1, 3, 3, 4], 0.01, 3), g.bias('b', 5, 0.1, 0.01)], attrs, { scale: 0.1 }))), fails(InvalidModelError, /bias/));
  assert.throws(prep((g, x) => {
    const w = g.constant('w', [1, 3, 3, 4], 'int16', new Int16Array(36), { scale: 0.01, zeroPoint: 0 });
    g.output(g.add('DepthwiseConv2D', [x, w, null], attrs, { scale: 0.1 }));
  }), fails(UnsupportedError, /int16/));
  assert.throws(prep((g, x) => g.output(g.add('DepthwiseConv2D', [x, g.weights('w', [1, 3, 3, 4], 0.01, 3), null], { ...attrs, activation: 'tanh' }, { scale: 0.1 }))), fails(UnsupportedError));
});

test.run();
