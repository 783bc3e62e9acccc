/**
 * @fileoverview RELU6, int8: TFLM's Relu6Quantized, a clamp of the input bytes to [zp_in, q(6)] where
 * q(6) quantizes 6.0 with the *input* scale. Like TFLM (and unlike TFLite, which requantizes), the
 * output's quantization is not read: TFLM's Relu6Prepare only looks at the input. Kernel lut_s8.
 */
import { describeNode, describeTensor } from '../ir/graph.ts';
import type { Node } from '../ir/graph.ts';
import { UnsupportedError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { roundHalfAwayFromZero } from './common/fixed_point.ts';
import { applyLut, buildLut, elementwiseInfer, preparedLut, requireElementwise } from './common/lut.ts';
import type { LutParams } from './common/lut.ts';
import { scaleOf, zeroPointOf } from './common/quant.ts';

/** TFLM FloatToQuantizedType<int8_t>(value, scale, zero_point): round(value / scale) in float, clamped. */
export function floatToQuantizedInt8(value: number, scale: number, zeroPoint: number): number | null {
  const r = roundHalfAwayFromZero(Math.fround(Math.fround(value) / Math.fround(scale))) + zeroPoint;
  if (!(Math.abs(r) < 2 ** 31)) return null; // the C++ float -> int32 conversion is undefined there
  return Math.max(-128, Math.min(127, r));
}

/** Relu6Quantized<int8_t>: the lower bound is the input zero point, the upper one quantized 6.0. */
export function relu6S8(q: number, zero: number, six: number): number {
  return q > six ? six : q < zero ? zero : q;
}

export const relu6: OpDef<Record<string, never>, LutParams> = {
  name: 'Relu6',
  tflite: { code: 21, optionsType: 0, attrs: () => ({}), options: () => ({}) },

  infer: (inputs) => elementwiseInfer('relu6', inputs, 'int8'),

  prepare(ctx) {
    const { input } = requireElementwise(ctx, ['int8'], ['int8']);
    const zero = zeroPointOf(input);
    const six = floatToQuantizedInt8(6, scaleOf(input), zero);
    if (six === null) {
      throw new UnsupportedError(`${describeNode(ctx.node as Node)}: 6.0 is not representable with the scale ${scaleOf(input)} of ${describeTensor(input)}`);
    }
    return preparedLut(ctx, buildLut('int8', (q) => relu6S8(q, zero, six)));
  },

  evaluate: (p, [input], [output]) => applyLut(p, input!, output!),
};
