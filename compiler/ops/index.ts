/** @fileoverview The one list of operators. Adding an operator: its file, its kernels, its test, and a line here. */
import type { OpDef } from './op.ts';
import { UnsupportedError } from '../errors.ts';
import { fullyConnected } from './fully_connected.ts';
import { conv2d } from './conv2d.ts';
import { depthwiseConv2d } from './depthwise_conv2d.ts';
import { reshape } from './reshape.ts';
import { squeeze } from './squeeze.ts';
import { expandDims } from './expand_dims.ts';
import { pad, padV2 } from './pad.ts';
import { concatenation } from './concatenation.ts';
import { transpose } from './transpose.ts';
import { stridedSlice } from './strided_slice.ts';
import { resizeNearestNeighbor } from './resize_nearest_neighbor.ts';
import { softmax } from './softmax.ts';
import { logistic } from './logistic.ts';
import { tanh } from './tanh.ts';
import { hardSwish } from './hard_swish.ts';
import { leakyRelu } from './leaky_relu.ts';
import { relu } from './relu.ts';
import { relu6 } from './relu6.ts';
import { quantize } from './quantize.ts';
import { dequantize } from './dequantize.ts';
import { add } from './add.ts';
import { sub } from './sub.ts';
import { mul } from './mul.ts';
import { averagePool2d } from './average_pool2d.ts';
import { maxPool2d } from './max_pool2d.ts';
import { mean } from './mean.ts';
import { invertedBottleneck } from './inverted_bottleneck.ts';
import {
  addGradients, applyMask, averagePool2dBackprop, biasUpdate, concatenationBackprop, conv2dBackpropInput, conv2dWeightUpdate, depthwiseConv2dBackpropInput,
  depthwiseConv2dWeightUpdate, expansionBackward, foldBias, foldedBiasUpdate, maxPool2dBackprop, maxPoolArgmax, padBackprop, reshapeGradient,
  saveMask, sliceChannels, softmaxCrossEntropy, splitConv1x1,
} from './train/index.ts';

// Each OpDef is generic over its own attributes and parameters; the registry erases them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOpDef = OpDef<any, any>;

export const OPS: readonly AnyOpDef[] = [
  fullyConnected,
  conv2d,
  depthwiseConv2d,
  reshape,
  squeeze,
  expandDims,
  pad,
  padV2,
  concatenation,
  transpose,
  stridedSlice,
  resizeNearestNeighbor,
  softmax,
  logistic,
  tanh,
  hardSwish,
  leakyRelu,
  relu,
  relu6,
  quantize,
  dequantize,
  add,
  sub,
  mul,
  averagePool2d,
  maxPool2d,
  mean,
  invertedBottleneck,
  softmaxCrossEntropy,
  saveMask,
  applyMask,
  expansionBackward,
  sliceChannels,
  conv2dBackpropInput,
  depthwiseConv2dBackpropInput,
  biasUpdate,
  foldedBiasUpdate,
  conv2dWeightUpdate,
  depthwiseConv2dWeightUpdate,
  foldBias,
  splitConv1x1,
  addGradients,
  averagePool2dBackprop,
  concatenationBackprop,
  maxPoolArgmax,
  maxPool2dBackprop,
  padBackprop,
  reshapeGradient,
];

const byName = new Map(OPS.map((d) => [d.name, d]));
const byTfliteCode = new Map(OPS.flatMap((d) => (d.tflite ? [[d.tflite.code, d] as const] : [])));

export function opDef(name: string): AnyOpDef {
  const def = byName.get(name);
  if (!def) throw new UnsupportedError(`unknown operator '${name}'`);
  return def;
}

export function opDefForTflite(code: number): AnyOpDef | undefined {
  return byTfliteCode.get(code);
}
