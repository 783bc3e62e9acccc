/**
 * @fileoverview HARD_SWISH, int8: x * relu6(x + 3) / 6 with TFLite's quantized reference HardSwish
 * (16-bit fixed point: an output multiplier and a "reluish" multiplier, both downscaled to int16),
 * precomputed for every input byte into a 256-entry table (kernel lut_s8).
 */
import { describeNode, describeTensor } from '../ir/graph.ts';
import type { Node } from '../ir/graph.ts';
import { UnsupportedError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { quantizeMultiplier } from './common/fixed_point.ts';
import {
  roundingDivideByPOT16,
  saturatingDoublingHighMul16,
  saturatingLeftShift16,
  srdhm16,
  toInt16,
} from './common/gemmlowp.ts';
import { applyLut, buildLut, elementwiseInfer, preparedLut, requireElementwise } from './common/lut.ts';
import type { LutParams } from './common/lut.ts';
import { scaleOf, zeroPointOf } from './common/quant.ts';

/** TFLite HardSwishParams. */
export interface HardSwishQuant {
  readonly inputZeroPoint: number;
  readonly outputZeroPoint: number;
  readonly reluishMultiplierFixedpointInt16: number;
  readonly reluishMultiplierExponent: number;
  readonly outputMultiplierFixedpointInt16: number;
  readonly outputMultiplierExponent: number;
}

/** TFLite DownScaleInt32ToInt16Multiplier. */
export function downScaleInt32ToInt16Multiplier(multiplier: number): number {
  const roundingOffset = 1 << 15;
  if (multiplier >= 2147483647 - roundingOffset) return 32767;
  return (multiplier + roundingOffset) >> 16;
}

/** reference_ops::HardSwish<int8_t> for one value. */
export function hardSwishS8(q: number, p: HardSwishQuant): number {
  const inputValue = toInt16(q - p.inputZeroPoint);
  const inputValueOnHiresInputScale = toInt16(inputValue * (1 << 7));
  const inputValueOnPreshiftOutputScale = srdhm16(inputValueOnHiresInputScale, p.outputMultiplierFixedpointInt16);
  let reluishValue = inputValueOnHiresInputScale;
  if (p.reluishMultiplierExponent > 0) reluishValue = saturatingLeftShift16(reluishValue, p.reluishMultiplierExponent - 1);
  reluishValue = srdhm16(reluishValue, p.reluishMultiplierFixedpointInt16);
  if (p.reluishMultiplierExponent > 0) reluishValue = saturatingLeftShift16(reluishValue, 1);
  if (p.reluishMultiplierExponent < 0) reluishValue = roundingDivideByPOT16(reluishValue, -p.reluishMultiplierExponent);
  reluishValue = toInt16((reluishValue + (1 << 15)) >> 1);
  const preshiftOutputValue = saturatingDoublingHighMul16(reluishValue, inputValueOnPreshiftOutputScale);
  let outputValue = roundingDivideByPOT16(preshiftOutputValue, -p.outputMultiplierExponent);
  outputValue = toInt16(outputValue + p.outputZeroPoint);
  return Math.max(-128, Math.min(127, outputValue));
}

export const hardSwish: OpDef<Record<string, never>, LutParams> = {
  name: 'HardSwish',
  tflite: { code: 117, optionsType: 0, attrs: () => ({}), options: () => ({}) },

  infer: (inputs) => elementwiseInfer('hard swish', inputs, 'int8'),

  prepare(ctx) {
    const { input, output } = requireElementwise(ctx, ['int8'], ['int8']);
    const where = describeNode(ctx.node as Node);
    // HardSwishPrepare: the scales are combined in float32, then quantized from double.
    const inputScale = Math.fround(scaleOf(input));
    const hiresInputScale = Math.fround(Math.fround(1 / 128) * inputScale);
    const reluishScale = Math.fround(3 / 32768);
    const outputScale = Math.fround(scaleOf(output));
    const out = quantizeMultiplier(Math.fround(hiresInputScale / outputScale));
    if (out.shift > 0) {
      throw new UnsupportedError(`${where}: hard swish needs output scale > input scale / 128; ${describeTensor(input)} scale ${inputScale}, ${describeTensor(output)} scale ${outputScale}`);
    }
    const reluish = quantizeMultiplier(Math.fround(hiresInputScale / reluishScale));
    if (reluish.shift > 31) throw new UnsupportedError(`${where}: input scale ${inputScale} of ${describeTensor(input)} is too large`);
    const quant: HardSwishQuant = {
      inputZeroPoint: zeroPointOf(input),
      outputZeroPoint: zeroPointOf(output),
      outputMultiplierFixedpointInt16: downScaleInt32ToInt16Multiplier(out.multiplier),
      outputMultiplierExponent: out.shift,
      reluishMultiplierFixedpointInt16: downScaleInt32ToInt16Multiplier(reluish.multiplier),
      reluishMultiplierExponent: reluish.shift,
    };
    return preparedLut(ctx, buildLut('int8', (q) => hardSwishS8(q, quant)));
  },

  evaluate: (p, [input], [output]) => applyLut(p, input!, output!),
};
