/**
 * The whole backward pass of the reference training step against an independent autodiff: TensorFlow.js's
 * tf.grad on the dequantized float graph (tests/oracles/tfjs_gradients.ts), with the int8 forward values and
 * the saved masks as straight-through estimators. Every masked output gradient the step computes equals tfjs's
 * (float32 sums in another order: relative 1e-4), and every applied update equals -lr x tfjs's gradient / scale
 * within the rounding (half an integer step for biases, one stochastic step for weights). On the real ResNet-8
 * (convolutions, residual adds, average pool, reshape, fully connected) and on a built model with a depthwise
 * convolution, ReLU6 and a spatial mean.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TensorData } from '../../compiler/ir/dtype.ts';
import type { Graph, Node, Padding, Tensor } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { loadModelFile } from '../../compiler/load_model.ts';
import { buildTrainingGraph } from '../../compiler/train/index.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { execute } from '../../compiler/reference/interpreter.ts';
import { computePadding } from '../../compiler/ops/common/conv_geometry.ts';
import { normalizeAxis } from '../../compiler/ops/common/shape.ts';
import { channelScale, scaleOf, zeroPointOf } from '../../compiler/ops/common/quant.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import type { GradLayer, Pads } from '../oracles/tfjs_gradients.ts';
import { tfjsGradients, unpackMask } from '../oracles/tfjs_gradients.ts';
import { SHARED } from '../helpers/shared.ts';

const dequantize = (t: Tensor, data: TensorData) => Float32Array.from(data as Int8Array, (q) => (q - zeroPointOf(t)) * scaleOf(t));
const realWeights = (w: Tensor, data: Int8Array, depthwise: boolean) => {
  const channels = depthwise ? w.shape[3]! : w.shape[0]!;
  const per = data.length / channels;
  return Float32Array.from(data, (q, i) => q * channelScale(w, depthwise ? i % channels : Math.floor(i / per)));
};

function pads(input: Tensor, weightsOrFilter: readonly [number, number], stride: readonly [number, number], dilation: readonly [number, number], padding: Padding): Pads {
  const [, inH, inW] = input.shape as number[];
  const g = computePadding(inH!, inW!, weightsOrFilter[0], weightsOrFilter[1], stride[0], stride[1], dilation[0], dilation[1], padding);
  const bottom = Math.max(0, (g.outH - 1) * stride[0] + (weightsOrFilter[0] - 1) * dilation[0] + 1 - inH! - g.padTop);
  const right = Math.max(0, (g.outW - 1) * stride[1] + (weightsOrFilter[1] - 1) * dilation[1] + 1 - inW! - g.padLeft);
  return [g.padTop, g.padLeft, bottom, right];
}

/** The model's forward nodes up to the classifier (not the folds of trained biases) as the oracle's layers, with our int8 values and masks. */
function oracleLayers(training: Graph, values: ReadonlyMap<number, TensorData>, initial: ReadonlyMap<number, TensorData>): { layers: GradLayer[]; forward: Node[] } {
  const forward = training.training!.inferenceNodes.map((i) => training.nodes[i]!).filter((n) => n.op !== 'FoldBias');
  const layerOf = new Map<number, number>();
  const maskOf = new Map(training.nodes.filter((n) => n.op === 'SaveMask').map((n) => [n.inputs[0]!, n.outputs[0]!]));
  const layers = forward.map((node, index): GradLayer => {
    const out = training.tensors[node.outputs[0]!]!;
    layerOf.set(out.id, index);
    const ref = (id: number) => layerOf.get(id) ?? -1;
    const maskId = maskOf.get(out.id);
    const common = {
      name: node.origin,
      value: dequantize(out, values.get(out.id)!),
      ...(maskId === undefined ? {} : { mask: unpackMask(values.get(maskId) as Uint8Array, elementCount(out.shape)) }),
    };
    const x = training.tensors[node.inputs[0]!]!;
    const weightsOf = (depthwise: boolean) => {
      const w = training.tensors[node.inputs[1]!]!;
      const b = training.tensors[node.inputs[2]!]!;
      const bias = Float32Array.from((initial.get(b.id) ?? b.data) as Int32Array, (q, c) => q * scaleOf(x) * channelScale(w, c));
      return { w, weights: realWeights(w, (initial.get(w.id) ?? w.data) as Int8Array, depthwise), bias };
    };
    const a = node.attrs as Record<string, unknown>;
    switch (node.op) {
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const depthwise = node.op === 'DepthwiseConv2D';
        const { w, weights, bias } = weightsOf(depthwise);
        const stride = [a['strideH'], a['strideW']] as [number, number];
        const dilation = [a['dilationH'], a['dilationW']] as [number, number];
        const p = pads(x, [w.shape[1]!, w.shape[2]!], stride, dilation, a['padding'] as Padding);
        const base = { ...common, input: ref(x.id), weights, bias, stride, dilation, pads: p };
        return depthwise
          ? { ...base, kind: 'depthwise', weightShape: w.shape as [1, number, number, number] }
          : { ...base, kind: 'conv2d', weightShape: w.shape as [number, number, number, number] };
      }
      case 'FullyConnected': {
        const { w, weights, bias } = weightsOf(false);
        return { ...common, kind: 'fullyConnected', input: ref(x.id), weights, bias, weightShape: w.shape as [number, number] };
      }
      case 'Add':
        return { ...common, kind: 'add', a: ref(node.inputs[0]!), b: ref(node.inputs[1]!) };
      case 'AveragePool2D': {
        const filter = [a['filterH'], a['filterW']] as [number, number];
        const stride = [a['strideH'], a['strideW']] as [number, number];
        return { ...common, kind: 'averagePool', input: ref(x.id), filter, stride, pads: pads(x, filter, stride, [1, 1], a['padding'] as Padding) };
      }
      case 'Concatenation':
        return { ...common, kind: 'concat', parts: node.inputs.map(ref), axis: normalizeAxis(a['axis'] as number, out.shape.length, 'axis') };
      case 'MaxPool2D': {
        const filter = [a['filterH'], a['filterW']] as [number, number];
        const stride = [a['strideH'], a['strideW']] as [number, number];
        return { ...common, kind: 'maxPool', input: ref(x.id), filter, stride, pads: pads(x, filter, stride, [1, 1], a['padding'] as Padding) };
      }
      case 'Mean':
        return { ...common, kind: 'mean', input: ref(x.id), keepDims: out.shape.length === 4 };
      case 'Reshape':
        return { ...common, kind: 'reshape', input: ref(x.id), shape: out.shape };
      // An activation operator is the identity on the straight-through values, its mask the clamp.
      case 'Relu':
      case 'Relu6':
        return { ...common, kind: 'reshape', input: ref(x.id), shape: out.shape };
      case 'Pad': {
        const p = training.tensors[node.inputs[1]!]!.data as Int32Array;
        return { ...common, kind: 'pad', input: ref(x.id), pads: [p[2]!, p[4]!, p[3]!, p[5]!] };
      }
      default:
        throw new Error(`the oracle adapter does not know ${node.op}`);
    }
  });
  return { layers, forward };
}

async function checkAgainstTfjs(model: Graph, update: string, classes: number, label: number, lr: number, seed: number): Promise<void> {
  const training = buildTrainingGraph(model, { update, classes });
  const pg = prepareGraph(training, { rounding: model.rounding ?? 'double' });
  const t = training.training!;
  const initial = new Map<number, TensorData>(t.state.map((id) => [id, training.tensors[id]!.data!.slice()]));
  const values = new Map<number, TensorData>(t.state.map((id) => [id, training.tensors[id]!.data!.slice()]));
  const image = new Random(seed).int8Array(elementCount(training.tensors[t.image]!.shape));
  values.set(t.image, image);
  values.set(t.label, Int32Array.of(label));
  values.set(t.learningRate, Float32Array.of(lr));
  execute(pg, pg.nodes, values);

  const { layers, forward } = oracleLayers(training, values, initial);
  const imageTensor = training.tensors[t.image]!;
  const oracle = await tfjsGradients({ input: { shape: imageTensor.shape, data: dequantize(imageTensor, image) }, layers, label });
  assert.ok(Math.abs(oracle.loss - (values.get(t.loss) as Float32Array)[0]!) < 1e-4 * Math.max(1, oracle.loss), 'loss');

  let compared = 0;
  for (const apply of training.nodes.filter((n) => n.op === 'ApplyMask')) {
    const index = forward.findIndex((n) => n.outputs[0] === training.nodes.find((m) => m.outputs[0] === apply.inputs[1])!.inputs[0]);
    const ours = values.get(apply.outputs[0]!) as Float32Array;
    const theirs = oracle.layers[index]!.output.map((g, i) => g * ((layers[index]!.mask as Uint8Array)[i] ?? 1));
    const scale = Math.max(...theirs.map(Math.abs), 1e-30);
    const worst = Math.max(...ours.map((v, i) => Math.abs(v - theirs[i]!)));
    assert.ok(worst <= 1e-4 * scale, `${forward[index]!.origin}: masked output gradient differs by ${worst} (largest ${scale})`);
    compared++;
  }
  assert.ok(compared >= 3, `${compared} gradients compared`);

  for (const node of training.nodes.filter((n) => n.op === 'BiasUpdate' || n.op === 'FoldedBiasUpdate')) {
    const forwardIndex = forward.findIndex((n) => n.origin === node.origin.replace(' (update)', ''));
    const layer = forward[forwardIndex]!;
    const x = training.tensors[layer.inputs[0]!]!;
    const w = training.tensors[layer.inputs[1]!]!;
    // A bias-only layer keeps its bias inside the folded bias: folded - offsetSum.
    const offset = node.op === 'FoldedBiasUpdate' ? (node.attrs['offsetSum'] as number[]) : null;
    const unfold = (data: Int32Array) => data.map((v, c) => v - (offset?.[c] ?? 0));
    const before = unfold(initial.get(node.inputs[1]!) as Int32Array);
    const after = unfold(values.get(node.inputs[1]!) as Int32Array);
    const gradient = oracle.layers[forwardIndex]!.bias!;
    after.forEach((b, c) => {
      const expected = before[c]! - (lr * gradient[c]!) / (scaleOf(x) * channelScale(w, c));
      assert.ok(Math.abs(b - expected) <= 0.5 + 1e-4 * Math.abs(expected - before[c]!), `${layer.origin} bias ${c}: ${b} vs ${expected}`);
    });
  }
  for (const node of training.nodes.filter((n) => n.op.endsWith('WeightUpdate'))) {
    const forwardIndex = forward.findIndex((n) => n.origin === node.origin.replace(' (update)', ''));
    const depthwise = node.op.startsWith('Depthwise');
    const w = training.tensors[node.inputs[2]!]!;
    const before = initial.get(w.id) as Int8Array;
    const after = values.get(w.id) as Int8Array;
    const gradient = oracle.layers[forwardIndex]!.weights!;
    const channels = depthwise ? w.shape[3]! : w.shape[0]!;
    after.forEach((q, i) => {
      const expected = before[i]! - (lr * gradient[i]!) / channelScale(w, depthwise ? i % channels : Math.floor(i / (after.length / channels)));
      if (Math.abs(expected) < 126) assert.ok(Math.abs(q - expected) < 1 + 1e-3 * Math.abs(expected - before[i]!), `${forward[forwardIndex]!.origin} weight ${i}: ${q} vs ${expected}`);
    });
  }
}

test('ResNet-8, every layer trained, new 10-class head: gradients and updates equal tfjs autodiff', async () => {
  await checkAgainstTfjs(loadModelFile(`${SHARED}/models/mlperf-tiny/pretrainedResnet_quant.tflite`), 'full', 10, 7, 0.05, 11);
});

test('pad, depthwise, ReLU6, residual add and spatial mean, full and bias-only: gradients and updates equal tfjs autodiff', async () => {
  const b = new GraphBuilder('depthwise-block', 9);
  const x = b.input('x', [1, 9, 9, 3], { scale: 0.02, zeroPoint: 5 });
  const window = (stride: number) => ({ padding: 'same', strideH: stride, strideW: stride, dilationH: 1, dilationW: 1 });
  const c0 = b.add('Conv2D', [x, b.weights('w0', [8, 3, 3, 3], [0.01, 0.02, 0.015, 0.01, 0.012, 0.02, 0.018, 0.011]), b.bias('b0', 8, 0.02, 0.01)], { ...window(2), activation: 'relu' }, { scale: 0.03, zeroPoint: -128 });
  // An explicit pad (top 1, left 2, bottom 1, right 0) and a valid depthwise window keep the 5x5 map of the skip path.
  const padded = b.add('Pad', [c0, b.constant('paddings', [4, 2], 'int32', Int32Array.of(0, 0, 1, 1, 2, 0, 0, 0))], {}, { scale: 0.03, zeroPoint: -128 });
  const d = b.add('DepthwiseConv2D', [padded, b.weights('w1', [1, 3, 3, 8], 0.02, 3), b.bias('b1', 8, 0.03, 0.02)], { ...window(1), padding: 'valid', depthMultiplier: 1, activation: 'relu6' }, { scale: 6 / 255, zeroPoint: -128 });
  const p = b.add('Conv2D', [d, b.weights('w2', [8, 1, 1, 8], 0.02), b.bias('b2', 8, 6 / 255, 0.02)], { ...window(1), activation: 'none' }, { scale: 0.04, zeroPoint: 3 });
  const s = b.add('Add', [c0, p], { activation: 'none' }, { scale: 0.05, zeroPoint: -10 });
  const m = b.add('Mean', [s, b.int32Constant('axes', [1, 2])], { keepDims: false }, { scale: 0.05, zeroPoint: -10 });
  b.output(b.add('FullyConnected', [m, b.weights('w3', [4, 8], 0.03), b.bias('b3', 4, 0.05, 0.03)], { activation: 'none', keepNumDims: false }, { scale: 0.1, zeroPoint: 0 }));
  await checkAgainstTfjs(b.build(), 'full', 6, 2, 0.2, 5);
  await checkAgainstTfjs(b.build(), 'bias-only', 6, 4, 0.2, 6);
});

test('max pool with overlapping windows and same padding between trained convolutions: gradients and updates equal tfjs autodiff', async () => {
  const b = new GraphBuilder('max-pool', 13);
  const x = b.input('x', [1, 8, 7, 3], { scale: 0.02, zeroPoint: 0 });
  const window = { padding: 'same', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1 };
  // Output scales wide enough that few values clamp: the gradients must reach the pooled layer.
  const c0 = b.add('Conv2D', [x, b.weights('w0', [6, 3, 3, 3], 0.02), b.bias('b0', 6, 0.02, 0.02)], { ...window, activation: 'relu' }, { scale: 0.1, zeroPoint: -128 });
  const pooled = b.add('MaxPool2D', [c0], { padding: 'same', strideH: 2, strideW: 2, filterH: 3, filterW: 3, activation: 'none' }, { scale: 0.1, zeroPoint: -128 });
  const c1 = b.add('Conv2D', [pooled, b.weights('w1', [8, 1, 1, 6], 0.03), b.bias('b1', 8, 0.1, 0.03)], { ...window, activation: 'none' }, { scale: 0.5, zeroPoint: 0 });
  const m = b.add('Mean', [c1, b.int32Constant('axes', [1, 2])], { keepDims: false }, { scale: 0.5, zeroPoint: 0 });
  b.output(b.add('FullyConnected', [m, b.weights('w2', [4, 8], 0.03), b.bias('b2', 4, 0.5, 0.03)], { activation: 'none', keepNumDims: false }, { scale: 0.1, zeroPoint: 0 }));
  const model = b.build();
  const training = buildTrainingGraph(model, { update: 'full', classes: 5 });
  assert.equal(training.nodes.filter((n) => n.op === 'MaxPoolArgmax' || n.op === 'MaxPool2DBackprop').map((n) => n.op), ['MaxPoolArgmax', 'MaxPool2DBackprop']);
  await checkAgainstTfjs(model, 'full', 5, 3, 0.2, 8);
});

test('concatenation of two trained branches along channels, then a ReLU operator: gradients and updates equal tfjs autodiff; a requantized input is refused', async () => {
  const build = (branchScale: number) => {
    const b = new GraphBuilder('concat', 17);
    const x = b.input('x', [1, 6, 6, 3], { scale: 0.02, zeroPoint: 0 });
    const window = { padding: 'same', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'relu' };
    const joined = { scale: 0.1, zeroPoint: -128 };
    const c0 = b.add('Conv2D', [x, b.weights('w0', [4, 1, 1, 3], 0.02), b.bias('b0', 4, 0.02, 0.02)], window, joined);
    const c1 = b.add('Conv2D', [x, b.weights('w1', [5, 3, 3, 3], 0.02), b.bias('b1', 5, 0.02, 0.02)], window, { scale: branchScale, zeroPoint: -128 });
    const cat = b.add('Concatenation', [c1, c0], { axis: -1, activation: 'none' }, joined);
    const c2 = b.add('Conv2D', [cat, b.weights('w2', [6, 1, 1, 9], 0.03), b.bias('b2', 6, 0.1, 0.03)], { ...window, activation: 'none' }, { scale: 0.5, zeroPoint: 0 });
    const r = b.add('Relu', [c2], {}, { scale: 0.5, zeroPoint: -128 });
    const m = b.add('Mean', [r, b.int32Constant('axes', [1, 2])], { keepDims: false }, { scale: 0.5, zeroPoint: -128 });
    b.output(b.add('FullyConnected', [m, b.weights('w3', [4, 6], 0.03), b.bias('b3', 4, 0.5, 0.03)], { activation: 'none', keepNumDims: false }, { scale: 0.1, zeroPoint: 0 }));
    return b.build();
  };
  const model = build(0.1);
  const training = buildTrainingGraph(model, { update: 'full', classes: 4 });
  assert.is(training.nodes.filter((n) => n.op === 'ConcatenationBackprop').length, 2);
  const relu = model.nodes.find((n) => n.op === 'Relu')!;
  const reluMask = training.nodes.find((n) => n.op === 'SaveMask' && n.inputs[0] === relu.outputs[0])!;
  assert.equal(reluMask.attrs, { lo: zeroPointOf(training.tensors[relu.outputs[0]!]!), hi: 127 }, 'the ReLU operator saves the mask of its clamp');
  await checkAgainstTfjs(model, 'full', 4, 1, 0.2, 12);
  assert.throws(() => buildTrainingGraph(build(0.07), { update: 'full', classes: 4 }), /requantizes; train only layers after it/);
});

test.run();
