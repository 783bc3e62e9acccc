/**
 * CONV_2D: the reference (TFLite's ConvPerChannel, literally) equals the real TFLite runtime byte for byte in
 * single-rounding mode, and the C kernels (conv2d_s8, conv2d_1x1_s8: folded input offset, zero-point padded columns,
 * pixel / channel blocking) equal the reference in both rounding modes on the host (with sanitizers) and on a
 * Cortex-M4 in QEMU, over many shapes and attributes.
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
import type { Conv2DAttrs } from '../../compiler/ops/conv2d.ts';
import { computePadding } from '../../compiler/ops/common/conv_geometry.ts';
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
  readonly outC: number;
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
  /** A channel whose weights are all 0, as trained models have (often with a huge bias): its output is constant. */
  readonly deadChannel?: number;
}

const CASES: readonly Case[] = [
  { name: '1x1 stride 1, odd pixels and channels', input: [1, 7, 5, 13], filter: [1, 1], outC: 9, padding: 'same' },
  { name: '1x1 stride 2 valid', input: [1, 9, 8, 6], filter: [1, 1], outC: 5, stride: [2, 2], padding: 'valid', activation: 'relu' },
  { name: '1x1 stride 1x2, batch 2', input: [2, 4, 7, 8], filter: [1, 1], outC: 4, stride: [1, 2], padding: 'same', inZp: -128 },
  { name: '3x3 same, relu6', input: [1, 8, 9, 3], filter: [3, 3], outC: 8, padding: 'same', activation: 'relu6' },
  { name: '3x3 valid stride 2, batch 2', input: [2, 11, 10, 4], filter: [3, 3], outC: 7, stride: [2, 2], padding: 'valid' },
  { name: '5x5 same stride 2, relu', input: [1, 12, 13, 2], filter: [5, 5], outC: 3, stride: [2, 2], padding: 'same', activation: 'relu' },
  { name: '3x3 dilation 2 same', input: [1, 9, 10, 5], filter: [3, 3], outC: 6, dilation: [2, 2], padding: 'same' },
  { name: '3x2 dilation 3x1 same, stride 2x1', input: [1, 7, 7, 3], filter: [3, 2], outC: 5, dilation: [3, 1], stride: [2, 1], padding: 'same' },
  { name: '2x3 dilation 1x2 valid', input: [1, 6, 9, 2], filter: [2, 3], outC: 3, dilation: [1, 2], padding: 'valid', activation: 'relu_n1_to_1' },
  { name: 'KWS first layer 10x4 stride 2 same', input: [1, 49, 10, 1], filter: [10, 4], outC: 16, stride: [2, 2], padding: 'same', activation: 'relu' },
  { name: 'no bias, per-tensor weights, zero points at the extremes', input: [1, 6, 6, 4], filter: [3, 3], outC: 4, padding: 'same', perTensor: true, noBias: true, inZp: 127, outZp: -128 },
  { name: 'input zp -128, output zp 127', input: [1, 5, 6, 3], filter: [2, 2], outC: 5, padding: 'same', inZp: -128, outZp: 127, activation: 'relu6' },
  { name: 'filter larger than the input, same', input: [1, 3, 3, 2], filter: [5, 5], outC: 3, padding: 'same' },
  { name: 'dilated window that misses the image', input: [1, 3, 3, 2], filter: [2, 2], outC: 2, dilation: [5, 5], padding: 'same' },
  { name: 'multipliers above 1 (left shift)', input: [1, 5, 5, 3], filter: [3, 3], outC: 4, padding: 'same', outScaleFactor: 0.01 },
  { name: 'stride larger than the filter', input: [1, 10, 11, 3], filter: [2, 2], outC: 3, stride: [3, 4], padding: 'same' },
  { name: 'wide: 3x3 same, 32 channels in and out', input: [1, 10, 10, 32], filter: [3, 3], outC: 32, padding: 'same', activation: 'relu' },  // 1x1 with small K and channels a multiple of 4: the wasm kernel's 4-pixel tiles, their partial last step
  // (K = 9..15) and leftover pixels.
  { name: '1x1 K=8, 16 channels', input: [1, 6, 6, 8], filter: [1, 1], outC: 16, padding: 'same' },
  { name: '1x1 K=9, 8 channels', input: [1, 5, 7, 9], filter: [1, 1], outC: 8, padding: 'same' },
  { name: '1x1 K=11, 12 channels, stride 2', input: [1, 7, 5, 11], filter: [1, 1], outC: 12, stride: [2, 2], padding: 'same' },
  { name: '1x1 K=13, 4 channels, input zp -128', input: [1, 6, 3, 13], filter: [1, 1], outC: 4, padding: 'valid', inZp: -128 },
  { name: '1x1 K=16, 16 channels, relu6', input: [1, 4, 5, 16], filter: [1, 1], outC: 16, padding: 'same', activation: 'relu6' },
  // Cortex-M's 1x1 kernels over weight lanes (K = 8 and 16): an odd pixel count, more channels than one block (32),
  // and a stride, which takes the pixel pairs instead.
  { name: '1x1 K=8, odd pixels, 5 channels, relu', input: [1, 5, 3, 8], filter: [1, 1], outC: 5, padding: 'same', activation: 'relu' },
  { name: '1x1 K=16, odd pixels, 3 channels', input: [1, 3, 3, 16], filter: [1, 1], outC: 3, padding: 'same' },
  { name: '1x1 K=8, odd pixels, 40 channels', input: [1, 3, 5, 8], filter: [1, 1], outC: 40, padding: 'same' },
  { name: '1x1 K=16, 33 channels, relu6', input: [1, 4, 3, 16], filter: [1, 1], outC: 33, padding: 'same', activation: 'relu6' },
  { name: '1x1 K=16 stride 2', input: [1, 5, 5, 16], filter: [1, 1], outC: 6, stride: [2, 2], padding: 'valid' },
  // Cortex-M's 1x1 kernel over pixel pairs extended once (K a multiple of 4, up to 256): odd pixels and channels.
  { name: '1x1 K=20, odd pixels, 7 channels, relu6', input: [1, 3, 5, 20], filter: [1, 1], outC: 7, padding: 'same', activation: 'relu6' },
  { name: '1x1 K=24, 8 channels', input: [1, 3, 7, 24], filter: [1, 1], outC: 8, padding: 'same' },
  // The wasm layout computes a dead channel's constant output at compile time.
  { name: 'dead channel: zero weights', input: [1, 5, 6, 4], filter: [3, 3], outC: 8, padding: 'same', deadChannel: 5 },
  // Cortex-M's weights in halfword lanes (at most 64 taps, channels a multiple of 4): a network's first convolution
  // with an odd pixel count, 26 taps (a short last word) and rows of 3 bytes (words packed across rows); with 6
  // channels, the 2x2 blocks instead.
  { name: 'first layer 3x3 stride 2 same, 16 channels, odd pixels', input: [1, 9, 9, 3], filter: [3, 3], outC: 16, stride: [2, 2], padding: 'same', activation: 'relu6' },
  { name: '13x1 with 2 channels in, 8 out', input: [1, 15, 3, 2], filter: [13, 1], outC: 8, padding: 'same', inZp: -128 },
  { name: '3x1 with 3 channels in, 4 out, batch 2 (bytes left over across rows)', input: [2, 7, 6, 3], filter: [3, 1], outC: 4, padding: 'same' },
  { name: '13x1 with 2 channels in, 6 out', input: [1, 15, 3, 2], filter: [13, 1], outC: 6, padding: 'same', inZp: -128 },
  // wasm channels-in-lanes GEMM: gathered dilated windows, a chunk of 16 channels and a group of 4 more.
  { name: '3x3 dilation 2 same, 20 channels', input: [1, 7, 8, 3], filter: [3, 3], outC: 20, dilation: [2, 2], padding: 'same', activation: 'relu' },
];

/**
 * One graph holding every case side by side (input i -> output i), so that one C build covers them all.
 * `forTflite`: TFLite's int8 CONV_2D (unlike TFLM's) requires a bias, so bias-less cases get an all-zero one, which
 * is the same computation (and draws nothing from the generator, so every other constant stays the same).
 */
function buildGraph(cases: readonly Case[], seed: number, forTflite = false): Graph {
  const b = new GraphBuilder('conv2d_cases', seed);
  const r = b.random;
  for (const [i, c] of cases.entries()) {
    const inScale = 0.02 + r.next() * 0.05;
    const wScales = Array.from({ length: c.perTensor ? 1 : c.outC }, () => 0.002 + r.next() * 0.02);
    const meanW = wScales.reduce((a, s) => a + s, 0) / wScales.length;
    const taps = c.filter[0] * c.filter[1] * c.input[3];
    const outScale = inScale * meanW * Math.sqrt(taps) * 30 * (c.outScaleFactor ?? 1);
    const x = b.input(`x${i}`, c.input, { scale: inScale, zeroPoint: c.inZp ?? r.int(-20, 20) });
    const wShape = [c.outC, c.filter[0], c.filter[1], c.input[3]];
    const biasScales = c.perTensor ? Array(c.outC).fill(wScales[0]!) : wScales;
    const dead = c.deadChannel;
    // A dead channel's weights: drawn as b.weights draws them, then that channel's set to 0.
    const w = dead === undefined
      ? b.weights(`w${i}`, wShape, c.perTensor ? wScales[0]! : wScales, 0)
      : b.constant(`w${i}`, wShape, 'int8', r.int8Array(c.outC * taps, -127, 127).fill(0, dead * taps, (dead + 1) * taps), { scale: wScales, zeroPoint: 0, axis: 0 });
    const bias = c.noBias ? null : b.bias(`b${i}`, c.outC, inScale, biasScales, 4000);
    const attrs: Conv2DAttrs = {
      padding: c.padding,
      strideH: c.stride?.[0] ?? 1,
      strideW: c.stride?.[1] ?? 1,
      dilationH: c.dilation?.[0] ?? 1,
      dilationW: c.dilation?.[1] ?? 1,
      activation: c.activation ?? 'none',
    };
    const zeroBias = forTflite && !bias ? b.constant(`b${i}`, [c.outC], 'int32', new Int32Array(c.outC), { scale: inScale * meanW }) : null;
    b.output(b.add('Conv2D', [x, w, bias ?? zeroBias], attrs, { scale: outScale, zeroPoint: c.outZp ?? r.int(-10, 10) }));
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

const graph = buildGraph(CASES, 11);
const runs = makeRuns(graph, 4, 99);
const reference = (rounding: Rounding) => {
  const pg = prepareGraph(graph, { rounding });
  return runs.map((inputs) => runReference(pg, inputs));
};

test('output shapes follow TFLite ComputeOutSize', () => {
  CASES.forEach((c, i) => {
    const g = computePadding(c.input[1], c.input[2], c.filter[0], c.filter[1], c.stride?.[0] ?? 1, c.stride?.[1] ?? 1, c.dilation?.[0] ?? 1, c.dilation?.[1] ?? 1, c.padding);
    assert.equal(graph.tensors[graph.outputs[i]!]!.shape, [c.input[0], g.outH, g.outW, c.outC], c.name);
  });
  // Hand-checked values: SAME = ceil(in / stride); VALID = ceil((in - effective filter + 1) / stride).
  assert.equal(computePadding(49, 10, 10, 4, 2, 2, 1, 1, 'same'), { outH: 25, outW: 5, padTop: 4, padLeft: 1 });
  assert.equal(computePadding(11, 10, 3, 3, 2, 2, 1, 1, 'valid'), { outH: 5, outW: 4, padTop: 0, padLeft: 0 });
  assert.equal(computePadding(9, 10, 3, 3, 1, 1, 2, 2, 'same'), { outH: 9, outW: 10, padTop: 2, padLeft: 2 });
  assert.equal(computePadding(4, 4, 3, 3, 2, 2, 1, 1, 'same'), { outH: 2, outW: 2, padTop: 0, padLeft: 0 });
  assert.throws(() => computePadding(3, 3, 5, 5, 1, 1, 1, 1, 'valid'), fails(InvalidModelError));
});

test('reference (single rounding) == TFLite runtime, byte for byte', async () => {
  const tflite = await loadTfliteRuntime();
  const model = graphToTflite(buildGraph(CASES, 11, true));
  const ref = reference('single');
  runs.forEach((inputs, k) => {
    const want = tflite.run(model, inputs);
    CASES.forEach((c, i) => assert.equal(Buffer.from(ref[k]![i]!), Buffer.from(want[i]!), `${c.name}, run ${k}`));
  });
});

test('the rounding modes differ somewhere, so the comparisons above can fail', () => {
  const single = reference('single');
  const double = reference('double');
  let differing = 0;
  single.forEach((outs, k) => outs.forEach((o, i) => o.forEach((v, j) => (differing += v === double[k]![i]![j] ? 0 : 1))));
  assert.ok(differing > 0, 'single and double rounding give identical outputs: the oracle comparison would be vacuous');
});

for (const rounding of ['double', 'single', 'float32'] as const) {
  test(`host C == wasm (SIMD, scalar) == reference (${rounding} rounding), byte for byte`, async () => {
    const ref = reference(rounding);
    const host = await runHostAndWasm(graph, runs, { rounding });
    runs.forEach((_, k) => CASES.forEach((c, i) => assert.equal(Buffer.from(host[k]![i]!), Buffer.from(ref[k]![i]!), `${c.name}, run ${k}`)));
  });
}

test('Cortex-M4 (QEMU) == reference (double rounding), byte for byte', async () => {
  const ref = reference('double');
  const m4 = await runCompiled(graph, runs, 'cortex-m4', 'double');
  runs.forEach((_, k) => CASES.forEach((c, i) => assert.equal(Buffer.from(m4.outputs[k]![i]!), Buffer.from(ref[k]![i]!), `${c.name}, run ${k}`)));
});

test('Cortex-M7 (QEMU) == reference (float32 rounding), byte for byte', async () => {
  const ref = reference('float32');
  const m7 = await runCompiled(graph, runs, 'cortex-m7', 'float32');
  runs.forEach((_, k) => CASES.forEach((c, i) => assert.equal(Buffer.from(m7.outputs[k]![i]!), Buffer.from(ref[k]![i]!), `${c.name}, run ${k}`)));
});

test('TFLite options round trip through the importer', () => {
  const imported = importTflite(graphToTflite(graph), 'conv2d_cases');
  assert.equal(imported.nodes.map((n) => n.attrs), graph.nodes.map((n) => n.attrs));
});

test('kernel selection: 1x1 filters use conv2d_1x1_s8 (no scratch), others conv2d_s8 with two columns of scratch', () => {
  const pg = prepareGraph(graph, { rounding: 'double' });
  pg.nodes.forEach(({ prepared }, i) => {
    const c = CASES[i]!;
    const pointwise = c.filter[0] === 1 && c.filter[1] === 1;
    assert.is(prepared.kernel!.name, pointwise ? 'conv2d_1x1_s8' : 'conv2d_s8', c.name);
    assert.is(prepared.scratchBytes, pointwise ? 0 : 2 * c.filter[0] * c.filter[1] * c.input[3], c.name);
  });
});

test('unsupported and invalid models are refused with a precise error', () => {
  const attrs: Conv2DAttrs = { padding: 'same', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'none' };
  const b = new GraphBuilder('bad', 1);
  const x = b.input('x', [1, 4, 4, 4], { scale: 0.1, zeroPoint: 0 });
  // Grouped convolution: filter has 2 input channels for an input of 4.
  assert.throws(() => b.add('Conv2D', [x, b.weights('wg', [4, 3, 3, 2], 0.01)], attrs, { scale: 0.1 }), fails(UnsupportedError, /grouped/));
  assert.throws(() => b.add('Conv2D', [x, b.weights('wk', [4, 3, 3, 3], 0.01)], attrs, { scale: 0.1 }), fails(InvalidModelError));
  assert.throws(() => b.add('Conv2D', [x, b.weights('w0', [4, 3, 3, 4], 0.01)], { ...attrs, strideH: 0 }, { scale: 0.1 }), fails(UnsupportedError, /stride_h 0/));
  assert.throws(() => b.add('Conv2D', [x, b.weights('w5', [4, 5, 5, 4], 0.01)], { ...attrs, padding: 'valid' }, { scale: 0.1 }), fails(InvalidModelError));
  // Bias of the wrong length, found at prepare time.
  const prep = (build: (b: GraphBuilder, x: ReturnType<GraphBuilder['input']>) => void) => {
    const g = new GraphBuilder('bad', 1);
    build(g, g.input('x', [1, 4, 4, 4], { scale: 0.1, zeroPoint: 0 }));
    return () => prepareGraph(g.build(), { rounding: 'double' });
  };
  assert.throws(prep((g, x) => g.output(g.add('Conv2D', [x, g.weights('w', [4, 3, 3, 4], 0.01), g.bias('b', 3, 0.1, 0.01)], attrs, { scale: 0.1 }))), fails(InvalidModelError, /bias/));
  // Weights with a non-zero zero point.
  assert.throws(prep((g, x) => {
    const w = g.constant('w', [4, 1, 1, 4], 'int8', new Int8Array(16), { scale: 0.01, zeroPoint: 3 });
    g.output(g.add('Conv2D', [x, w, null], attrs, { scale: 0.1 }));
  }), fails(UnsupportedError, /zero point/));
  // Fused TANH is not an int8 activation.
  assert.throws(prep((g, x) => g.output(g.add('Conv2D', [x, g.weights('w', [4, 3, 3, 4], 0.01), null], { ...attrs, activation: 'tanh' }, { scale: 0.1 }))), fails(UnsupportedError));
  // Non-constant weights.
  assert.throws(prep((g, x) => {
    const w = g.input('w', [4, 3, 3, 4], { scale: 0.01, zeroPoint: 0 });
    g.output(g.add('Conv2D', [x, w, null], attrs, { scale: 0.1 }));
  }), fails(UnsupportedError, /constant/));
  // Wrong number of per-channel scales.
  assert.throws(prep((g, x) => g.output(g.add('Conv2D', [x, g.weights('w', [4, 3, 3, 4], [0.01, 0.02]), null], attrs, { scale: 0.1 }))), fails(InvalidModelError));
});

test.run();
