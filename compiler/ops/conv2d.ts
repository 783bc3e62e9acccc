/**
 * @fileoverview CONV_2D, int8 (TFLite reference_integer_ops::ConvPerChannel):
 *   output[b, y, x, o] = act(requant_o(bias[o] + sum_{ky, kx, i} (in[b, y*sh - pt + ky*dh, x*sw - pl + kx*dw, i] - zx) * W[o, ky, kx, i]))
 * where taps outside the image contribute nothing. NHWC activations, OHWI weights quantized per output channel.
 *
 * Kernels: `conv2d_1x1_s8` (1x1 filters: no padding ever, a matrix multiply) and `conv2d_s8` (everything else:
 * gathers each output pixel's window, padded with the input zero point, into a small scratch buffer). Both start
 * from a bias with the input zero point's contribution folded in at compile time (bias[o] - zx * sum W[o]), which
 * zero-point padding keeps exact at the borders, so their inner loop is a plain int8 dot product.
 */
import type { Activation, Node, Padding, Tensor } from '../ir/graph.ts';
import { describeNode, describeTensor } from '../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../errors.ts';
import type { KernelArg, OpDef, PrepareContext } from './op.ts';
import { arg } from './op.ts';
import { activationFromTflite, activationToTflite } from './common/activation.ts';
import { computePadding, paddingFromTflite, paddingToTflite } from './common/conv_geometry.ts';
import { channelMultiplier, convArithmetic, multiplyByQuantizedMultiplier, saturate } from './common/fixed_point.ts';
import type { RoundingArithmetic } from './common/fixed_point.ts';
import { activationRange, channelScale, quantOf, scaleOf, zeroPointOf } from './common/quant.ts';
import { requireConstant, requireDType, requireInt8 } from './common/checks.ts';
import { describeSaturation, saturateBiases } from './common/bias.ts';

export interface Conv2DAttrs {
  readonly padding: Padding;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly activation: Activation;
}

export interface Conv2DParams {
  readonly batches: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC: number;
  readonly filterH: number;
  readonly filterW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly padTop: number;
  readonly padLeft: number;
  /** -input zero point. */
  readonly inputOffset: number;
  /** The model's biases, saturated where the int32 accumulator could overflow (common/bias.ts). */
  readonly biases: Int32Array;
  readonly multipliers: readonly number[];
  readonly shifts: readonly number[];
  readonly outputOffset: number;
  readonly actMin: number;
  readonly actMax: number;
  readonly rounding: RoundingArithmetic;
}

/** [batches, height, width, channels] of a 4-D NHWC tensor. */
export function nhwc(t: Tensor, role: string): [number, number, number, number] {
  if (t.shape.length !== 4) throw new InvalidModelError(`${describeTensor(t)}: ${role} must be 4-D NHWC`);
  return [t.shape[0]!, t.shape[1]!, t.shape[2]!, t.shape[3]!];
}

/** Checks the strides and dilations of a conv-like op's attributes (TFLite requires them positive). */
export function checkWindowAttrs(a: { strideH: number; strideW: number; dilationH: number; dilationW: number }): void {
  for (const [name, v] of [['stride_h', a.strideH], ['stride_w', a.strideW], ['dilation_h_factor', a.dilationH], ['dilation_w_factor', a.dilationW]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UnsupportedError(`${name} ${v} is not supported (must be a positive integer)`);
  }
}

/**
 * Per-channel weight quantization as the TFLite spec and TFLM's Prepare require it: one scale or one per
 * output channel along `axis`, zero points 0.
 */
export function checkWeightQuant(w: Tensor, channels: number, axis: number, ctx: PrepareContext<object>): void {
  const q = quantOf(w);
  if (q.scale.length !== 1 && q.scale.length !== channels) {
    throw new InvalidModelError(`${describeNode(ctx.node as Node)}: weights ${describeTensor(w)} have ${q.scale.length} scales for ${channels} channels`);
  }
  if (q.scale.length > 1 && q.axis !== axis) {
    throw new UnsupportedError(`${describeNode(ctx.node as Node)}: weights ${describeTensor(w)} are quantized along dimension ${q.axis}; expected ${axis}`);
  }
  if (q.zeroPoint.some((z) => z !== 0)) {
    throw new UnsupportedError(`${describeNode(ctx.node as Node)}: weights ${describeTensor(w)} have a non-zero zero point (int8 weights must be symmetric)`);
  }
}

/**
 * The kernel argument for a bias tensor training computes or updates (input `index` of a trained layer, see
 * compiler/train), or undefined for a frozen layer, whose kernel reads a table computed here.
 */
export function trainedBias(ctx: PrepareContext<object>, index: number): KernelArg | undefined {
  const id = ctx.node.inputs[index];
  return id !== undefined && id >= 0 ? arg.input(ctx, index) : undefined;
}

/** A trained layer's saturated biases from its folded ones: folded[o] - input_offset * sum of row o of `weights`. */
export function unfoldBiases(folded: Int32Array, weights: Int8Array, inputOffset: number): Int32Array {
  const taps = weights.length / folded.length;
  return folded.map((f, o) => f - inputOffset * weights.subarray(o * taps, (o + 1) * taps).reduce((s, v) => s + v, 0));
}

/** The optional int32 bias of a conv-like op, as a constant of `channels` values (zeros when absent). */
export function biasValues(bias: Tensor | null, channels: number, ctx: PrepareContext<object>): Int32Array {
  if (!bias) return new Int32Array(channels);
  const b = requireConstant(requireDType(bias, ctx.node, 'bias', ['int32']), ctx.node, 'bias');
  if (b.data!.length !== channels) {
    throw new InvalidModelError(`${describeNode(ctx.node as Node)}: bias ${describeTensor(b)} has ${b.data!.length} values for ${channels} output channels`);
  }
  return Int32Array.from(b.data as Int32Array);
}

/** TFLM PopulateConvolutionQuantizationParams: input_scale * weight_scale[c] / output_scale in double, quantized. */
export function channelMultipliers(
  input: Tensor, weights: Tensor, output: Tensor, channels: number, arithmetic: RoundingArithmetic,
): { multipliers: number[]; shifts: number[] } {
  const multipliers: number[] = [];
  const shifts: number[] = [];
  for (let c = 0; c < channels; c++) {
    const q = channelMultiplier((scaleOf(input) * channelScale(weights, c)) / scaleOf(output), arithmetic);
    multipliers.push(q.multiplier);
    shifts.push(q.shift);
  }
  return { multipliers, shifts };
}

function filterShape(weights: Tensor): [number, number, number, number] {
  if (weights.shape.length !== 4) throw new InvalidModelError(`${describeTensor(weights)}: conv weights must be 4-D OHWI`);
  return [weights.shape[0]!, weights.shape[1]!, weights.shape[2]!, weights.shape[3]!];
}

export const conv2d: OpDef<Conv2DAttrs, Conv2DParams> = {
  name: 'Conv2D',
  tflite: {
    code: 3,
    optionsType: 1,
    attrs: (o) => ({
      padding: paddingFromTflite(o['padding']),
      strideH: Number(o['stride_h']),
      strideW: Number(o['stride_w']),
      dilationH: Number(o['dilation_h_factor'] ?? 1),
      dilationW: Number(o['dilation_w_factor'] ?? 1),
      activation: activationFromTflite(o['fused_activation_function']),
    }),
    options: (a) => ({
      padding: paddingToTflite(a.padding),
      stride_w: a.strideW,
      stride_h: a.strideH,
      fused_activation_function: activationToTflite(a.activation),
      dilation_w_factor: a.dilationW,
      dilation_h_factor: a.dilationH,
    }),
  },

  infer([input, weights], attrs) {
    if (!input || !weights) throw new InvalidModelError('conv 2d needs an input and weights');
    checkWindowAttrs(attrs);
    const [n, h, w, c] = nhwc(input, 'conv input');
    const [outC, kh, kw, kc] = filterShape(weights);
    if (kc < 1 || c % kc !== 0) throw new InvalidModelError(`${describeTensor(weights)} has ${kc} input channels, which do not divide the input's ${c}`);
    if (kc !== c) throw new UnsupportedError(`grouped convolution (${c / kc} groups: input has ${c} channels, filter ${kc}) is not supported`);
    const g = computePadding(h, w, kh, kw, attrs.strideH, attrs.strideW, attrs.dilationH, attrs.dilationW, attrs.padding);
    return [{ shape: [n, g.outH, g.outW, outC], dtype: 'int8' }];
  },

  prepare(ctx) {
    const [input, weights, bias] = ctx.inputs;
    const a = ctx.node.attrs;
    const x = requireInt8(input, ctx.node, 'input');
    const w = requireConstant(requireInt8(weights, ctx.node, 'weights'), ctx.node, 'weights');
    const output = requireInt8(ctx.outputs[0], ctx.node, 'output');
    const [outShape] = conv2d.infer([x, w], a);
    const [batches, inH, inW, inC] = nhwc(x, 'input');
    const [outC, filterH, filterW] = filterShape(w);
    if (output.shape.join() !== outShape!.shape.join()) {
      throw new InvalidModelError(`${describeNode(ctx.node as Node)}: output ${describeTensor(output)} should be [${outShape!.shape.join('x')}]`);
    }
    checkWeightQuant(w, outC, 0, ctx);
    const g = computePadding(inH, inW, filterH, filterW, a.strideH, a.strideW, a.dilationH, a.dilationW, a.padding);
    const inputOffset = -zeroPointOf(x);
    const taps = filterH * filterW * inC;
    const wData = w.data as Int8Array;
    const channelSums = (f: (v: number) => number) => Array.from({ length: outC }, (_, o) => wData.subarray(o * taps, (o + 1) * taps).reduce((s, v) => s + f(v), 0));
    const saturation = saturateBiases(biasValues(bias ?? null, outC, ctx), channelSums(Math.abs), inputOffset);
    const rounding = convArithmetic(ctx.options.rounding);
    const { multipliers, shifts } = channelMultipliers(x, w, output, outC, rounding);
    const { min, max } = activationRange(a.activation, output);
    const params: Conv2DParams = {
      batches, inH, inW, inC, outH: g.outH, outW: g.outW, outC, filterH, filterW,
      strideH: a.strideH, strideW: a.strideW, dilationH: a.dilationH, dilationW: a.dilationW,
      padTop: g.padTop, padLeft: g.padLeft, inputOffset, biases: saturation.biases, multipliers, shifts,
      outputOffset: zeroPointOf(output), actMin: min, actMax: max, rounding,
    };
    const notes = describeSaturation(saturation, multipliers, shifts, rounding);

    // Every output starts from bias[o] + input_offset * sum W[o]: exact, as the kernels read taps outside the image as
    // the input zero point (whose (x + input_offset) * w is 0, as in TFLite, where they are skipped).
    const folded = channelSums((v) => v).map((sum, o) => saturation.biases[o]! + inputOffset * sum);
    const foldedArg = trainedBias(ctx, 3) ?? arg.table('int32', folded);
    const requant = [arg.table('int32', multipliers), arg.table('int32', shifts), arg.int(params.outputOffset), arg.int(min), arg.int(max)];
    const macs = batches * g.outH * g.outW * outC * taps;
    if (filterH === 1 && filterW === 1) {
      // A 1x1 window never reaches the padding: every pixel is interior, the input offset is entirely folded.
      return {
        params,
        kernel: {
          name: 'conv2d_1x1_s8',
          args: [
            arg.input(ctx, 0), arg.input(ctx, 1), foldedArg, arg.output(ctx),
            arg.int(batches), arg.int(inH), arg.int(inW), arg.int(inC), arg.int(g.outH), arg.int(g.outW), arg.int(outC),
            arg.int(a.strideH), arg.int(a.strideW), ...requant,
          ],
        },
        scratchBytes: 0,
        macs,
        notes,
      };
    }
    // Other filters: the kernel gathers the windows of two output pixels at a time (zero-point padded) into scratch.
    return {
      params,
      kernel: {
        name: 'conv2d_s8',
        args: [
          arg.input(ctx, 0), arg.input(ctx, 1), foldedArg, arg.output(ctx), arg.scratch(),
          arg.int(batches), arg.int(inH), arg.int(inW), arg.int(inC), arg.int(g.outH), arg.int(g.outW), arg.int(outC),
          arg.int(filterH), arg.int(filterW), arg.int(a.strideH), arg.int(a.strideW), arg.int(a.dilationH), arg.int(a.dilationW),
          arg.int(g.padTop), arg.int(g.padLeft), arg.int(-inputOffset), ...requant,
        ],
      },
      scratchBytes: 2 * taps,
      macs,
      notes,
    };
  },

  /**
   * Literally TFLite's reference_integer_ops::ConvPerChannel (no folding), so that it checks the kernels' folding; the
   * bias is the saturated one, which equals the model's unless the accumulator could overflow. A trained layer
   * (input 3, its folded bias, see compiler/train) has its bias in that tensor.
   */
  evaluate(p, [input, weights, , trainedFolded], [output]) {
    const x = input as Int8Array;
    const w = weights as Int8Array;
    const y = output as Int8Array;
    const biases = trainedFolded ? unfoldBiases(trainedFolded as Int32Array, w, p.inputOffset) : p.biases;
    let at = 0;
    for (let n = 0; n < p.batches; n++) {
      for (let oy = 0; oy < p.outH; oy++) {
        const originY = oy * p.strideH - p.padTop;
        for (let ox = 0; ox < p.outW; ox++) {
          const originX = ox * p.strideW - p.padLeft;
          for (let oc = 0; oc < p.outC; oc++) {
            let acc = 0;
            for (let ky = 0; ky < p.filterH; ky++) {
              const iy = originY + ky * p.dilationH;
              if (iy < 0 || iy >= p.inH) continue;
              for (let kx = 0; kx < p.filterW; kx++) {
                const ix = originX + kx * p.dilationW;
                if (ix < 0 || ix >= p.inW) continue;
                const xAt = ((n * p.inH + iy) * p.inW + ix) * p.inC;
                const wAt = ((oc * p.filterH + ky) * p.filterW + kx) * p.inC;
                for (let ic = 0; ic < p.inC; ic++) acc += w[wAt + ic]! * (x[xAt + ic]! + p.inputOffset);
              }
            }
            acc += biases[oc]!;
            acc = multiplyByQuantizedMultiplier(acc | 0, p.multipliers[oc]!, p.shifts[oc]!, p.rounding) + p.outputOffset;
            y[at++] = saturate(acc, p.actMin, p.actMax);
          }
        }
      }
    }
  },
};
