/** @fileoverview FULLY_CONNECTED: output[b, o] = act(requant(sum_d (x[b, d] - zx) * W[o, d] + bias[o])). */
import type { Activation, Tensor } from '../ir/graph.ts';
import { describeTensor, elementCount } from '../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { arg } from './op.ts';
import { activationFromTflite, activationToTflite } from './common/activation.ts';
import { convArithmetic, multiplyByQuantizedMultiplier, saturate } from './common/fixed_point.ts';
import type { RoundingArithmetic } from './common/fixed_point.ts';
import { activationRange, zeroPointOf } from './common/quant.ts';
import { requireInt8, requireConstant } from './common/checks.ts';
import { describeSaturation, saturateBiases } from './common/bias.ts';
import { biasValues, channelMultipliers, trainedBias } from './conv2d.ts';

export interface FullyConnectedAttrs {
  readonly activation: Activation;
  readonly keepNumDims: boolean;
}

export interface FullyConnectedParams {
  readonly batches: number;
  readonly inDepth: number;
  readonly outDepth: number;
  /** bias[o] (saturated, common/bias.ts) + input_offset * sum_d W[o, d], folded at compile time. */
  readonly foldedBias: Int32Array;
  readonly multipliers: readonly number[];
  readonly shifts: readonly number[];
  readonly outputOffset: number;
  readonly actMin: number;
  readonly actMax: number;
  readonly rounding: RoundingArithmetic;
}

function weightShape(weights: Tensor): [number, number] {
  if (weights.shape.length !== 2) throw new InvalidModelError(`${describeTensor(weights)}: fully connected weights must be 2-D [out, in]`);
  return [weights.shape[0]!, weights.shape[1]!];
}

export const fullyConnected: OpDef<FullyConnectedAttrs, FullyConnectedParams> = {
  name: 'FullyConnected',
  tflite: {
    code: 9,
    optionsType: 8,
    attrs: (o) => {
      if (o['weights_format'] !== 0) throw new UnsupportedError(`shuffled weights format ${String(o['weights_format'])} is not supported`);
      return { activation: activationFromTflite(o['fused_activation_function']), keepNumDims: Boolean(o['keep_num_dims']) };
    },
    options: (a) => ({ fused_activation_function: activationToTflite(a.activation), keep_num_dims: a.keepNumDims }),
  },

  infer([input, weights], attrs) {
    if (!input || !weights) throw new InvalidModelError('fully connected needs an input and weights');
    const [outDepth, inDepth] = weightShape(weights);
    const count = elementCount(input.shape);
    if (count % inDepth !== 0) throw new InvalidModelError(`${describeTensor(input)} cannot be split into rows of ${inDepth}`);
    const shape = attrs.keepNumDims ? [...input.shape.slice(0, -1), outDepth] : [count / inDepth, outDepth];
    return [{ shape, dtype: 'int8' }];
  },

  prepare(ctx) {
    const [input, weights, bias] = ctx.inputs;
    const output = ctx.outputs[0]!;
    const w = requireConstant(requireInt8(weights, ctx.node, 'weights'), ctx.node, 'weights');
    const x = requireInt8(input, ctx.node, 'input');
    requireInt8(output, ctx.node, 'output');
    const [outDepth, inDepth] = weightShape(w);
    const batches = elementCount(x.shape) / inDepth;
    const inputOffset = -zeroPointOf(x);
    const weightData = w.data as Int8Array;
    const rowSums = (f: (v: number) => number) => Array.from({ length: outDepth }, (_, o) => weightData.subarray(o * inDepth, (o + 1) * inDepth).reduce((s, v) => s + f(v), 0));
    const saturation = saturateBiases(biasValues(bias ?? null, outDepth, ctx), rowSums(Math.abs), inputOffset);
    const foldedBias = Int32Array.from(rowSums((v) => v), (sum, o) => saturation.biases[o]! + inputOffset * sum);
    const rounding = convArithmetic(ctx.options.rounding);
    const { multipliers, shifts } = channelMultipliers(x, w, output, outDepth, rounding);
    const { min, max } = activationRange(ctx.node.attrs.activation, output);
    const params: FullyConnectedParams = {
      batches, inDepth, outDepth, foldedBias, multipliers, shifts,
      outputOffset: zeroPointOf(output), actMin: min, actMax: max, rounding,
    };
    return {
      params,
      kernel: {
        name: 'fully_connected_s8',
        args: [
          arg.input(ctx, 0), arg.input(ctx, 1), trainedBias(ctx, 3) ?? arg.table('int32', Array.from(foldedBias)), arg.output(ctx),
          arg.int(batches), arg.int(inDepth), arg.int(outDepth), arg.table('int32', multipliers), arg.table('int32', shifts),
          arg.int(params.outputOffset), arg.int(min), arg.int(max),
        ],
      },
      scratchBytes: 0,
      macs: batches * inDepth * outDepth,
      notes: describeSaturation(saturation, multipliers, shifts, rounding),
    };
  },

  /** A trained layer reads its folded bias from input 3 (computed or updated by compiler/train). */
  evaluate(p, [input, weights, , trainedFolded], [output]) {
    const x = input as Int8Array;
    const w = weights as Int8Array;
    const y = output as Int8Array;
    const foldedBias = (trainedFolded as Int32Array | null | undefined) ?? p.foldedBias;
    for (let b = 0; b < p.batches; b++) {
      for (let o = 0; o < p.outDepth; o++) {
        let acc = foldedBias[o]!;
        for (let d = 0; d < p.inDepth; d++) acc += x[b * p.inDepth + d]! * w[o * p.inDepth + d]!;
        acc = multiplyByQuantizedMultiplier(acc | 0, p.multipliers[o]!, p.shifts[o]!, p.rounding) + p.outputOffset;
        y[b * p.outDepth + o] = saturate(acc, p.actMin, p.actMax);
      }
    }
  },
};
