/**
 * @fileoverview MUL, int8 (TFLM mul_common.cc + reference_integer_ops::MulElementwise / BroadcastMul6DSlow):
 *   y = act(MBQM((x1 - zp1) * (x2 - zp2), M, shift) + zp_out)
 * with M, shift = QuantizeMultiplier(s1 * s2 / s_out) computed in double (a left shift when it exceeds 1)
 * and MBQM TFLM's double-rounding MultiplyByQuantizedMultiplier. Kernel: `mul_s8`.
 */
import type { TensorData } from '../ir/dtype.ts';
import type { OpDef } from './op.ts';
import { arg } from './op.ts';
import { activationFromTflite, activationToTflite } from './common/activation.ts';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, saturate } from './common/fixed_point.ts';
import type { QuantizedMultiplier } from './common/fixed_point.ts';
import { activationRange, scaleOf, zeroPointOf } from './common/quant.ts';
import { forEachBroadcast } from './common/broadcast.ts';
import { binaryOperands, broadcastArgs, inferBinary } from './common/elementwise_quant.ts';
import type { BinaryAttrs } from './common/elementwise_quant.ts';

export interface MulParams {
  readonly outShape: readonly number[];
  readonly strides1: readonly number[];
  readonly strides2: readonly number[];
  readonly input1Offset: number;
  readonly input2Offset: number;
  readonly outputMultiplier: number;
  readonly outputShift: number;
  readonly outputOffset: number;
  readonly actMin: number;
  readonly actMax: number;
}

/** CalculateOpDataMul: double(s1) * double(s2) / double(s_out), quantized. */
export function mulMultiplier(scale1: number, scale2: number, outScale: number): QuantizedMultiplier {
  const f = Math.fround;
  return quantizeMultiplier((f(scale1) * f(scale2)) / f(outScale));
}

export const mul: OpDef<BinaryAttrs, MulParams> = {
  name: 'Mul',
  tflite: {
    code: 18,
    optionsType: 21,
    attrs: (o) => ({ activation: activationFromTflite(o['fused_activation_function'] ?? 0) }),
    options: (a) => ({ fused_activation_function: activationToTflite(a.activation) }),
  },

  infer: (inputs) => inferBinary(inputs, 'mul'),

  prepare(ctx) {
    const { input1, input2, output, plan } = binaryOperands(ctx);
    const m = mulMultiplier(scaleOf(input1), scaleOf(input2), scaleOf(output));
    const { min, max } = activationRange(ctx.node.attrs.activation, output);
    const params: MulParams = {
      outShape: plan.outShape, strides1: plan.strides1, strides2: plan.strides2,
      input1Offset: -zeroPointOf(input1), input2Offset: -zeroPointOf(input2),
      outputMultiplier: m.multiplier, outputShift: m.shift, outputOffset: zeroPointOf(output), actMin: min, actMax: max,
    };
    return {
      params,
      kernel: {
        name: 'mul_s8',
        args: [
          arg.input(ctx, 0), arg.input(ctx, 1), arg.output(ctx), ...broadcastArgs(plan),
          arg.int(params.input1Offset), arg.int(params.input2Offset), arg.int(m.multiplier), arg.int(m.shift),
          arg.int(params.outputOffset), arg.int(min), arg.int(max),
        ],
      },
      scratchBytes: 0,
      macs: plan.outShape.reduce((a, b) => a * b, 1),
    };
  },

  evaluate(p, inputs: readonly (TensorData | null)[], outputs: readonly TensorData[]) {
    const x1 = inputs[0] as Int8Array;
    const x2 = inputs[1] as Int8Array;
    const y = outputs[0] as Int8Array;
    forEachBroadcast(p.outShape, p.strides1, p.strides2, (i1, i2, o) => {
      const product = (p.input1Offset + x1[i1]!) * (p.input2Offset + x2[i2]!);
      const out = multiplyByQuantizedMultiplier(product, p.outputMultiplier, p.outputShift, 'double') + p.outputOffset;
      y[o] = saturate(out, p.actMin, p.actMax);
    });
  },
};
