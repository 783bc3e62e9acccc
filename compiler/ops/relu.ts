/**
 * @fileoverview RELU, int8: TFLM's ReluQuantized, which requantizes x - zp_in to the output scale and
 * clamps at the output's zero point; precomputed for every input byte into a 256-entry table
 * (kernel lut_s8).
 */
import type { OpDef } from './op.ts';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, saturate } from './common/fixed_point.ts';
import type { QuantizedMultiplier } from './common/fixed_point.ts';
import { applyLut, buildLut, elementwiseInfer, preparedLut, requireElementwise } from './common/lut.ts';
import type { LutParams } from './common/lut.ts';
import { scaleOf, zeroPointOf } from './common/quant.ts';

/** TFLM ReluOpData (ReluParams) for int8. */
export interface ReluQuant {
  readonly inputOffset: number;
  readonly outputOffset: number;
  readonly output: QuantizedMultiplier;
  readonly actMin: number;
  readonly actMax: number;
}

/** CalculateReluOpData<int8_t>: act_min = 0, act_max = +inf. */
export function reluQuant(inputScale: number, inputZeroPoint: number, outputScale: number, outputZeroPoint: number): ReluQuant {
  return {
    inputOffset: inputZeroPoint,
    outputOffset: outputZeroPoint,
    output: quantizeMultiplier(Math.fround(inputScale) / Math.fround(outputScale)),
    // max(-128, zp_out + (int32_t)roundf(0.0f / scale_out)); the maximum is +inf, so 127.
    actMin: Math.max(-128, outputZeroPoint),
    actMax: 127,
  };
}

/** ReluQuantized<int8_t> for one value. */
export function reluS8(q: number, p: ReluQuant): number {
  const v = p.outputOffset + multiplyByQuantizedMultiplier(q - p.inputOffset, p.output.multiplier, p.output.shift, 'double');
  return saturate(v, p.actMin, p.actMax);
}

export const relu: OpDef<Record<string, never>, LutParams> = {
  name: 'Relu',
  tflite: { code: 19, optionsType: 0, attrs: () => ({}), options: () => ({}) },

  infer: (inputs) => elementwiseInfer('relu', inputs, 'int8'),

  prepare(ctx) {
    const { input, output } = requireElementwise(ctx, ['int8'], ['int8']);
    const quant = reluQuant(scaleOf(input), zeroPointOf(input), scaleOf(output), zeroPointOf(output));
    return preparedLut(ctx, buildLut('int8', (q) => reluS8(q, quant)));
  },

  evaluate: (p, [input], [output]) => applyLut(p, input!, output!),
};
