/**
 * @fileoverview A 1x1 convolution with stride 1, or a fully connected layer, whose int8 weights are split along the
 * input channels into a head W[:, :keep] and a tail W[:, keep:]. A partial weight update trains only the first
 * `keep` input channels: the head is trainable state (in SRAM), the frozen tail stays a constant in flash, so the
 * frozen part of the tensor is never copied to SRAM. Each output is what Conv2D / FullyConnected compute, from the
 * folded bias FoldBias computes before each forward pass: folded[o] + sum_i x[p, i] * W[o, i], requantized as theirs.
 * Inputs: x, head [O, 1, 1, keep] or [O, keep] (state), tail (constant), bias (state), folded bias (FoldBias's output).
 * Kernel: `split_conv1x1_s8`.
 */
import type { Activation, Attrs } from '../../ir/graph.ts';
import { describeNode, describeTensor, elementCount } from '../../ir/graph.ts';
import { InvalidModelError } from '../../errors.ts';
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import { convArithmetic, multiplyByQuantizedMultiplier, saturate } from '../common/fixed_point.ts';
import type { RoundingArithmetic } from '../common/fixed_point.ts';
import { activationRange, zeroPointOf } from '../common/quant.ts';
import { requireConstant, requireDType, requireInt8 } from '../common/checks.ts';
import { describeSaturation, saturateBiases } from '../common/bias.ts';
import { biasValues, channelMultipliers } from '../conv2d.ts';

export interface SplitConv1x1Attrs extends Attrs {
  readonly activation: Activation;
}

export interface SplitConv1x1Params {
  readonly pixels: number;
  readonly inC: number;
  readonly outC: number;
  /** Input channels in the head. */
  readonly keep: number;
  readonly multipliers: readonly number[];
  readonly shifts: readonly number[];
  readonly outputOffset: number;
  readonly actMin: number;
  readonly actMax: number;
  readonly rounding: RoundingArithmetic;
}

/** The head's and the tail's input channels (the last dimension of each). */
export function splitChannels(head: { shape: readonly number[] }, tail: { shape: readonly number[] }): { keep: number; inC: number } {
  const keep = head.shape[head.shape.length - 1]!;
  return { keep, inC: keep + tail.shape[tail.shape.length - 1]! };
}

export const splitConv1x1: OpDef<SplitConv1x1Attrs, SplitConv1x1Params> = {
  name: 'SplitConv1x1',
  infer: () => {
    throw new Error('SplitConv1x1 is created with its output tensor by compiler/train');
  },
  prepare(ctx) {
    const x = requireInt8(ctx.inputs[0], ctx.node, 'input');
    const head = requireInt8(ctx.inputs[1], ctx.node, 'trained weights');
    const tail = requireConstant(requireInt8(ctx.inputs[2], ctx.node, 'frozen weights'), ctx.node, 'frozen weights');
    requireDType(ctx.inputs[4], ctx.node, 'folded bias', ['int32']);
    const output = requireInt8(ctx.outputs[0], ctx.node, 'output');
    const outC = head.shape[0]!;
    const { keep, inC } = splitChannels(head, tail);
    const pixels = elementCount(x.shape) / inC;
    if (!Number.isInteger(pixels) || tail.shape[0] !== outC || elementCount(output.shape) !== pixels * outC) {
      throw new InvalidModelError(`${describeNode(ctx.node)}: ${describeTensor(x)}, weights ${describeTensor(head)} + ${describeTensor(tail)} and output ${describeTensor(output)} do not match`);
    }
    const rounding = convArithmetic(ctx.options.rounding);
    const { multipliers, shifts } = channelMultipliers(x, head, output, outC, rounding);
    const { min, max } = activationRange(ctx.node.attrs.activation, output);
    // The report's note on saturated biases, as Conv2D / FullyConnected give it (the state starts from those biases).
    const absSum = (w: Int8Array, o: number, n: number) => w.subarray(o * n, (o + 1) * n).reduce((s, v) => s + Math.abs(v), 0);
    const absSums = Array.from({ length: outC }, (_, o) => absSum(head.data as Int8Array, o, keep) + absSum(tail.data as Int8Array, o, inC - keep));
    const saturation = saturateBiases(biasValues(ctx.inputs[3] ?? null, outC, ctx), absSums, -zeroPointOf(x));
    const params: SplitConv1x1Params = {
      pixels, inC, outC, keep, multipliers, shifts, outputOffset: zeroPointOf(output), actMin: min, actMax: max, rounding,
    };
    return {
      params,
      kernel: {
        name: 'split_conv1x1_s8',
        args: [
          arg.input(ctx, 0), arg.input(ctx, 1), arg.input(ctx, 2), arg.input(ctx, 4), arg.output(ctx),
          arg.int(pixels), arg.int(inC), arg.int(outC), arg.int(keep), arg.table('int32', multipliers), arg.table('int32', shifts),
          arg.int(params.outputOffset), arg.int(min), arg.int(max),
        ],
      },
      scratchBytes: 0,
      macs: pixels * inC * outC,
      notes: describeSaturation(saturation, multipliers, shifts, rounding),
    };
  },
  evaluate(p, [input, headData, tailData, , foldedData], [output]) {
    const x = input as Int8Array;
    const head = headData as Int8Array;
    const tail = tailData as Int8Array;
    const folded = foldedData as Int32Array;
    const y = output as Int8Array;
    const rest = p.inC - p.keep;
    for (let px = 0; px < p.pixels; px++) {
      const xAt = px * p.inC;
      for (let o = 0; o < p.outC; o++) {
        let acc = folded[o]!;
        for (let i = 0; i < p.keep; i++) acc += x[xAt + i]! * head[o * p.keep + i]!;
        for (let i = 0; i < rest; i++) acc += x[xAt + p.keep + i]! * tail[o * rest + i]!;
        acc = multiplyByQuantizedMultiplier(acc | 0, p.multipliers[o]!, p.shifts[o]!, p.rounding) + p.outputOffset;
        y[px * p.outC + o] = saturate(acc, p.actMin, p.actMax);
      }
    }
  },
};
