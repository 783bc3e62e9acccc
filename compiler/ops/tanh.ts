/**
 * @fileoverview TANH, int8: TFLM's reference_integer_ops::Tanh, precomputed for every input byte into
 * a 256-entry table (kernel lut_s8). The input is rescaled to Q4.27 like LOGISTIC's; gemmlowp's
 * fixed-point tanh gives a Q0.31, rounded to 1/128 steps. As in TFLM, the output quantization is
 * taken to be scale 1/128, zero point 0 (what the TFLite converter always writes) and is not read.
 */
import type { OpDef } from './op.ts';
import { multiplyByQuantizedMultiplier, roundingDivideByPOT, saturate } from './common/fixed_point.ts';
import { fpTanh } from './common/gemmlowp.ts';
import { applyLut, buildLut, elementwiseInfer, preparedLut, requireElementwise } from './common/lut.ts';
import type { LutParams } from './common/lut.ts';
import { sigmoidInputScaling } from './logistic.ts';
import type { SigmoidInputScaling } from './logistic.ts';

/** reference_integer_ops::Tanh for one int8 value. */
export function tanhS8(q: number, s: SigmoidInputScaling): number {
  const input = q - s.inputZeroPoint;
  if (input <= -s.inputRangeRadius) return -128;
  if (input >= s.inputRangeRadius) return 127;
  const inputInQ4 = multiplyByQuantizedMultiplier(input, s.inputMultiplier, s.inputLeftShift, 'double');
  const outputInQ0 = fpTanh(inputInQ4, 4);
  const outputInQ24 = roundingDivideByPOT(outputInQ0, 31 - 7);
  return saturate(outputInQ24, -128, 127);
}

export const tanh: OpDef<Record<string, never>, LutParams> = {
  name: 'Tanh',
  tflite: { code: 28, optionsType: 0, attrs: () => ({}), options: () => ({}) },

  infer: (inputs) => elementwiseInfer('tanh', inputs, 'int8'),

  prepare(ctx) {
    const { input } = requireElementwise(ctx, ['int8'], ['int8']);
    const scaling = sigmoidInputScaling(input, ctx.node);
    return preparedLut(ctx, buildLut('int8', (q) => tanhS8(q, scaling)));
  },

  evaluate: (p, [input], [output]) => applyLut(p, input!, output!),
};
