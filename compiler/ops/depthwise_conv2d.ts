/**
 * @fileoverview DEPTHWISE_CONV_2D, int8 (TFLite reference_integer_ops::DepthwiseConvPerChannel):
 *   output[b, y, x, i*M + m] = act(requant_c(bias[c] + sum_{ky, kx} (in[b, y*sh - pt + ky*dh, x*sw - pl + kx*dw, i] - zx) * W[0, ky, kx, c]))
 * with c = i*M + m (M the depth multiplier); taps outside the image contribute nothing. Weights 1HWC, quantized
 * per output channel (dimension 3). Requantization rounds twice, as TFLM (and TFLite's depthwise kernel) do, except under the 'float32' rounding.
 *
 * Kernel `depthwise_conv2d_s8`: interior pixels start from a bias with the input zero point's contribution folded in
 * at compile time, so their inner loop is a plain int8 dot product; 3x3 filters with depth multiplier 1 have their
 * own unrolled interior path.
 */
import type { Activation, Node, Padding, Tensor } from '../ir/graph.ts';
import { describeNode, describeTensor } from '../ir/graph.ts';
import { InvalidModelError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { arg } from './op.ts';
import { activationFromTflite, activationToTflite } from './common/activation.ts';
import { computePadding, paddingFromTflite, paddingToTflite } from './common/conv_geometry.ts';
import { depthwiseArithmetic, multiplyByQuantizedMultiplier, saturate } from './common/fixed_point.ts';
import type { RoundingArithmetic } from './common/fixed_point.ts';
import { activationRange, zeroPointOf } from './common/quant.ts';
import { requireConstant, requireInt8 } from './common/checks.ts';
import { describeSaturation, saturateBiases } from './common/bias.ts';
import { biasValues, channelMultipliers, checkWeightQuant, checkWindowAttrs, nhwc, trainedBias } from './conv2d.ts';

export interface DepthwiseConv2DAttrs {
  readonly padding: Padding;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  /** As written in the model; 0 means "output channels / input channels" (TFLite derives it from the shapes). */
  readonly depthMultiplier: number;
  readonly activation: Activation;
}

export interface DepthwiseConv2DParams {
  readonly batches: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly depthMultiplier: number;
  readonly filterH: number;
  readonly filterW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly padTop: number;
  readonly padLeft: number;
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

function filterShape(weights: Tensor): [number, number, number] {
  if (weights.shape.length !== 4 || weights.shape[0] !== 1) {
    throw new InvalidModelError(`${describeTensor(weights)}: depthwise conv weights must be 4-D [1, H, W, C]`);
  }
  return [weights.shape[1]!, weights.shape[2]!, weights.shape[3]!];
}

/** The depth multiplier the shapes imply, checked against the attribute. */
function depthMultiplierOf(input: Tensor, weights: Tensor, attr: number): number {
  const inC = nhwc(input, 'depthwise conv input')[3];
  const outC = filterShape(weights)[2];
  if (inC < 1 || outC % inC !== 0) throw new InvalidModelError(`${describeTensor(weights)}: ${outC} output channels are not a multiple of the input's ${inC}`);
  const m = outC / inC;
  if (attr !== 0 && attr !== m) {
    throw new InvalidModelError(`depth_multiplier ${attr} does not match the shapes (${inC} input channels, ${outC} output channels)`);
  }
  return m;
}

export const depthwiseConv2d: OpDef<DepthwiseConv2DAttrs, DepthwiseConv2DParams> = {
  name: 'DepthwiseConv2D',
  tflite: {
    code: 4,
    optionsType: 2,
    attrs: (o) => ({
      padding: paddingFromTflite(o['padding']),
      strideH: Number(o['stride_h']),
      strideW: Number(o['stride_w']),
      dilationH: Number(o['dilation_h_factor'] ?? 1),
      dilationW: Number(o['dilation_w_factor'] ?? 1),
      depthMultiplier: Number(o['depth_multiplier'] ?? 0),
      activation: activationFromTflite(o['fused_activation_function']),
    }),
    options: (a) => ({
      padding: paddingToTflite(a.padding),
      stride_w: a.strideW,
      stride_h: a.strideH,
      depth_multiplier: a.depthMultiplier,
      fused_activation_function: activationToTflite(a.activation),
      dilation_w_factor: a.dilationW,
      dilation_h_factor: a.dilationH,
    }),
  },

  infer([input, weights], attrs) {
    if (!input || !weights) throw new InvalidModelError('depthwise conv 2d needs an input and weights');
    checkWindowAttrs(attrs);
    const [n, h, w] = nhwc(input, 'depthwise conv input');
    const [kh, kw, outC] = filterShape(weights);
    depthMultiplierOf(input, weights, attrs.depthMultiplier);
    const g = computePadding(h, w, kh, kw, attrs.strideH, attrs.strideW, attrs.dilationH, attrs.dilationW, attrs.padding);
    return [{ shape: [n, g.outH, g.outW, outC], dtype: 'int8' }];
  },

  prepare(ctx) {
    const [input, weights, bias] = ctx.inputs;
    const a = ctx.node.attrs;
    const x = requireInt8(input, ctx.node, 'input');
    const w = requireConstant(requireInt8(weights, ctx.node, 'weights'), ctx.node, 'weights');
    const output = requireInt8(ctx.outputs[0], ctx.node, 'output');
    const [outShape] = depthwiseConv2d.infer([x, w], a);
    if (output.shape.join() !== outShape!.shape.join()) {
      throw new InvalidModelError(`${describeNode(ctx.node as Node)}: output ${describeTensor(output)} should be [${outShape!.shape.join('x')}]`);
    }
    const [batches, inH, inW, inC] = nhwc(x, 'input');
    const [filterH, filterW, outC] = filterShape(w);
    const depthMultiplier = depthMultiplierOf(x, w, a.depthMultiplier);
    checkWeightQuant(w, outC, 3, ctx);
    const g = computePadding(inH, inW, filterH, filterW, a.strideH, a.strideW, a.dilationH, a.dilationW, a.padding);
    const inputOffset = -zeroPointOf(x);
    const wData = w.data as Int8Array;
    const channelSums = (f: (v: number) => number) =>
      Array.from({ length: outC }, (_, c) => Array.from({ length: filterH * filterW }, (_, k) => f(wData[k * outC + c]!)).reduce((s, v) => s + v, 0));
    const saturation = saturateBiases(biasValues(bias ?? null, outC, ctx), channelSums(Math.abs), inputOffset);
    const biases = saturation.biases;
    const rounding = depthwiseArithmetic(ctx.options.rounding);
    const { multipliers, shifts } = channelMultipliers(x, w, output, outC, rounding);
    const { min, max } = activationRange(a.activation, output);
    const params: DepthwiseConv2DParams = {
      batches, inH, inW, inC, outH: g.outH, outW: g.outW, depthMultiplier, filterH, filterW,
      strideH: a.strideH, strideW: a.strideW, dilationH: a.dilationH, dilationW: a.dilationW,
      padTop: g.padTop, padLeft: g.padLeft, inputOffset, biases, multipliers, shifts,
      outputOffset: zeroPointOf(output), actMin: min, actMax: max, rounding,
    };

    // Interior pixels start from bias[c] + input_offset * sum_{ky, kx} W[0, ky, kx, c].
    const folded = channelSums((v) => v).map((sum, c) => biases[c]! + inputOffset * sum);
    return {
      params,
      kernel: {
        name: 'depthwise_conv2d_s8',
        args: [
          arg.input(ctx, 0), arg.input(ctx, 1), trainedBias(ctx, 3) ?? arg.table('int32', Array.from(biases)), trainedBias(ctx, 4) ?? arg.table('int32', folded), arg.output(ctx),
          arg.int(batches), arg.int(inH), arg.int(inW), arg.int(inC), arg.int(g.outH), arg.int(g.outW), arg.int(depthMultiplier),
          arg.int(filterH), arg.int(filterW), arg.int(a.strideH), arg.int(a.strideW), arg.int(a.dilationH), arg.int(a.dilationW),
          arg.int(g.padTop), arg.int(g.padLeft), arg.int(inputOffset),
          arg.table('int32', multipliers), arg.table('int32', shifts), arg.int(params.outputOffset), arg.int(min), arg.int(max),
        ],
      },
      scratchBytes: 0,
      macs: batches * g.outH * g.outW * outC * filterH * filterW,
      notes: describeSaturation(saturation, multipliers, shifts, rounding),
    };
  },

  /**
   * Literally TFLite's reference_integer_ops::DepthwiseConvPerChannel (no folding), so that it checks the kernel's
   * folding; the bias is the saturated one, which equals the model's unless the accumulator could overflow. A
   * trained layer reads its saturated bias from input 3 (computed from its current bias by compiler/train).
   */
  evaluate(p, [input, weights, , trainedBiases], [output]) {
    const biases = (trainedBiases as Int32Array | null | undefined) ?? p.biases;
    const x = input as Int8Array;
    const w = weights as Int8Array;
    const y = output as Int8Array;
    const outC = p.inC * p.depthMultiplier;
    let at = 0;
    for (let n = 0; n < p.batches; n++) {
      for (let oy = 0; oy < p.outH; oy++) {
        const originY = oy * p.strideH - p.padTop;
        for (let ox = 0; ox < p.outW; ox++) {
          const originX = ox * p.strideW - p.padLeft;
          for (let ic = 0; ic < p.inC; ic++) {
            for (let m = 0; m < p.depthMultiplier; m++) {
              const oc = ic * p.depthMultiplier + m;
              let acc = 0;
              for (let ky = 0; ky < p.filterH; ky++) {
                const iy = originY + ky * p.dilationH;
                if (iy < 0 || iy >= p.inH) continue;
                for (let kx = 0; kx < p.filterW; kx++) {
                  const ix = originX + kx * p.dilationW;
                  if (ix < 0 || ix >= p.inW) continue;
                  const xv = x[((n * p.inH + iy) * p.inW + ix) * p.inC + ic]!;
                  acc += w[(ky * p.filterW + kx) * outC + oc]! * (xv + p.inputOffset);
                }
              }
              acc += biases[oc]!;
              acc = multiplyByQuantizedMultiplier(acc | 0, p.multipliers[oc]!, p.shifts[oc]!, p.rounding) + p.outputOffset;
              y[at++] = saturate(acc, p.actMin, p.actMax);
            }
          }
        }
      }
    }
  },
};
