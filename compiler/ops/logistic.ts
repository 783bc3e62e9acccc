/**
 * @fileoverview LOGISTIC (sigmoid), int8: TFLM's reference_integer_ops::Logistic, precomputed for every
 * input byte into a 256-entry table (kernel lut_s8). The input is rescaled to Q4.27, gemmlowp's
 * fixed-point logistic gives a Q0.31, which is rounded to 1/256 steps with output zero point -128.
 */
import { describeNode, describeTensor } from '../ir/graph.ts';
import type { Node, Tensor } from '../ir/graph.ts';
import { UnsupportedError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { multiplyByQuantizedMultiplier, roundingDivideByPOT, saturate } from './common/fixed_point.ts';
import { calculateInputRadius, fpLogistic, frexpQ31 } from './common/gemmlowp.ts';
import { applyLut, buildLut, elementwiseInfer, preparedLut, requireElementwise } from './common/lut.ts';
import type { LutParams } from './common/lut.ts';
import { scaleOf, zeroPointOf } from './common/quant.ts';

/** The input rescaling TFLM's LOGISTIC and TANH Prepare compute for int8 (4 integer bits). */
export interface SigmoidInputScaling {
  readonly inputZeroPoint: number;
  readonly inputRangeRadius: number;
  readonly inputMultiplier: number;
  readonly inputLeftShift: number;
}

/** CalculateArithmeticOpDataLogistic / tanh's CalculateArithmeticOpData, int8 branch. */
export function sigmoidInputScaling(input: Tensor, node: Node<object>): SigmoidInputScaling {
  const inputIntegerBits = 4;
  const inputRealMultiplier = Math.fround(scaleOf(input)) * 2 ** (31 - inputIntegerBits);
  const { multiplier, shift } = frexpQ31(inputRealMultiplier);
  // shift >= 31 makes the radius 0: every input saturates and the multiplier is never used.
  if (shift < 0 || shift > 62 || multiplier >= 2 ** 31) {
    throw new UnsupportedError(`${describeNode(node as Node)}: input scale ${scaleOf(input)} of ${describeTensor(input)} is out of the range TFLM's int8 kernel handles`);
  }
  return {
    inputZeroPoint: zeroPointOf(input),
    inputRangeRadius: calculateInputRadius(inputIntegerBits, shift, 31),
    inputMultiplier: multiplier,
    inputLeftShift: shift,
  };
}

/** reference_integer_ops::Logistic for one int8 value. */
export function logisticS8(q: number, s: SigmoidInputScaling): number {
  const input = q - s.inputZeroPoint;
  if (input <= -s.inputRangeRadius) return -128;
  if (input >= s.inputRangeRadius) return 127;
  const inputInQ4 = multiplyByQuantizedMultiplier(input, s.inputMultiplier, s.inputLeftShift, 'double');
  const outputInQ0 = fpLogistic(inputInQ4, 4);
  const outputInQ23 = roundingDivideByPOT(outputInQ0, 31 - 8);
  return saturate(outputInQ23 - 128, -128, 127);
}

export const logistic: OpDef<Record<string, never>, LutParams> = {
  name: 'Logistic',
  tflite: { code: 14, optionsType: 0, attrs: () => ({}), options: () => ({}) },

  infer: (inputs) => elementwiseInfer('logistic', inputs, 'int8'),

  prepare(ctx) {
    const { input, output } = requireElementwise(ctx, ['int8'], ['int8']);
    if (zeroPointOf(output) !== -128) {
      throw new UnsupportedError(`${describeNode(ctx.node as Node)}: int8 logistic needs output zero point -128, ${describeTensor(output)} has ${zeroPointOf(output)}`);
    }
    const scaling = sigmoidInputScaling(input, ctx.node);
    return preparedLut(ctx, buildLut('int8', (q) => logisticS8(q, scaling)));
  },

  evaluate: (p, [input], [output]) => applyLut(p, input!, output!),
};
