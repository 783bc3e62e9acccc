/**
 * @fileoverview LEAKY_RELU, int8: TFLM's QuantizeLeakyRelu, which requantizes x - zp_in with one
 * multiplier for x >= zp_in (in/out scale) and another below (alpha * in/out scale); precomputed for
 * every input byte into a 256-entry table (kernel lut_s8).
 */
import type { OpDef } from './op.ts';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, saturate } from './common/fixed_point.ts';
import type { QuantizedMultiplier } from './common/fixed_point.ts';
import { applyLut, buildLut, elementwiseInfer, preparedLut, requireElementwise } from './common/lut.ts';
import type { LutParams } from './common/lut.ts';
import { scaleOf, zeroPointOf } from './common/quant.ts';

export interface LeakyReluAttrs {
  readonly alpha: number;
}

/** TFLM LeakyReluOpData. */
export interface LeakyReluQuant {
  readonly inputZeroPoint: number;
  readonly outputZeroPoint: number;
  readonly identity: QuantizedMultiplier;
  readonly alpha: QuantizedMultiplier;
}

/** reference_ops::QuantizeLeakyRelu<int8_t> for one value. */
export function leakyReluS8(q: number, p: LeakyReluQuant): number {
  const inputValue = q - p.inputZeroPoint;
  const m = inputValue >= 0 ? p.identity : p.alpha;
  return saturate(p.outputZeroPoint + multiplyByQuantizedMultiplier(inputValue, m.multiplier, m.shift, 'double'), -128, 127);
}

export const leakyRelu: OpDef<LeakyReluAttrs, LutParams> = {
  name: 'LeakyRelu',
  tflite: {
    code: 98,
    optionsType: 75,
    attrs: (o) => ({ alpha: Number(o['alpha'] ?? 0) }),
    options: (a) => ({ alpha: a.alpha }),
  },

  infer: (inputs) => elementwiseInfer('leaky relu', inputs, 'int8'),

  prepare(ctx) {
    const { input, output } = requireElementwise(ctx, ['int8'], ['int8']);
    const inputScale = Math.fround(scaleOf(input));
    const outputScale = Math.fround(scaleOf(output));
    // The .tflite stores alpha as float32; CalculateOpDataLeakyRelu multiplies and divides in float.
    const alpha = Math.fround(ctx.node.attrs.alpha);
    const quant: LeakyReluQuant = {
      inputZeroPoint: zeroPointOf(input),
      outputZeroPoint: zeroPointOf(output),
      alpha: quantizeMultiplier(Math.fround(Math.fround(inputScale * alpha) / outputScale)),
      identity: quantizeMultiplier(Math.fround(inputScale / outputScale)),
    };
    return preparedLut(ctx, buildLut('int8', (q) => leakyReluS8(q, quant)));
  },

  evaluate: (p, [input], [output]) => applyLut(p, input!, output!),
};
