/**
 * @fileoverview `--classes N`: a new classifier for a new task, as the paper does (a fresh, randomly initialised
 * quantized head). The last convolution or fully connected layer gets N output channels: weights uniform in
 * ±sqrt(3 / fan_in) (variance 1 / fan_in) from a seeded generator, quantized per output channel, biases 0. Its
 * int8 logits get scale 1/8 and zero point 0: real logits in [-16, 15.875], wide enough for any softmax
 * probability that matters and fine enough for the loss to see small steps.
 */
import type { Graph, Tensor } from '../ir/graph.ts';
import { describeNode } from '../ir/graph.ts';
import { UserError } from '../errors.ts';
import { f32, uniformFromState, xorshift32 } from '../ops/common/float32_math.ts';
import type { TrainableLayer } from './layers.ts';
import { trainableLayers } from './layers.ts';

const LOGIT_SCALE = 1 / 8;

export function replaceClassifier(graph: Graph, classes: number, seed: number): Graph {
  if (!Number.isInteger(classes) || classes < 2 || classes > 65535) throw new UserError(`--classes ${classes}: need an integer from 2 to 65535`);
  const layers = trainableLayers(graph);
  const head = layers[layers.length - 1];
  if (!head) throw new UserError('--classes: the model has no convolution or fully connected layer to replace');
  if (head.kind === 'depthwise') throw new UserError(`--classes: the last layer, ${describeNode(head.node)}, is a depthwise convolution, not a classifier`);
  const tensors = [...graph.tensors];
  const weights = newWeights(head, classes, seed);
  tensors[weights.id] = weights;
  const biasId = head.node.inputs[2] ?? -1;
  if (biasId >= 0) {
    const bias = tensors[biasId]!;
    tensors[biasId] = { ...bias, shape: [classes], data: new Int32Array(classes), quant: { scale: weights.quant!.scale.map((s) => s * inputScale(graph, head)), zeroPoint: new Array<number>(classes).fill(0), axis: 0 } };
  }
  const outputId = head.node.outputs[0]!;
  const output = tensors[outputId]!;
  tensors[outputId] = { ...output, shape: [...output.shape.slice(0, -1), classes], quant: { scale: [LOGIT_SCALE], zeroPoint: [0], axis: 0 } };
  return { ...graph, tensors };
}

function inputScale(graph: Graph, head: TrainableLayer): number {
  return graph.tensors[head.node.inputs[0]!]!.quant!.scale[0]!;
}

function newWeights(head: TrainableLayer, classes: number, seed: number): Tensor {
  const old = head.weights;
  const shape = [classes, ...old.shape.slice(1)];
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const bound = Math.sqrt(3 / fanIn);
  let state = seed >>> 0 || 1;
  const data = new Int8Array(classes * fanIn);
  const scales: number[] = [];
  for (let o = 0; o < classes; o++) {
    const row = Array.from({ length: fanIn }, () => {
      state = xorshift32(state);
      return (2 * uniformFromState(state) - 1) * bound;
    });
    const scale = f32(Math.max(...row.map(Math.abs)) / 127);
    scales.push(scale);
    row.forEach((v, i) => (data[o * fanIn + i] = Math.round(v / scale)));
  }
  return { ...old, shape, data, quant: { scale: scales, zeroPoint: new Array<number>(classes).fill(0), axis: 0 } };
}
