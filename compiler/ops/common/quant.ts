/** @fileoverview Compile-time helpers shared by the int8 operators: scales, zero points, activation ranges. */
import type { Activation, QuantParams, Tensor } from '../../ir/graph.ts';
import { describeTensor } from '../../ir/graph.ts';
import { roundHalfAwayFromZero } from './fixed_point.ts';
import { UnsupportedError } from '../../errors.ts';

export const INT8_MIN = -128;
export const INT8_MAX = 127;

export function quantOf(t: Tensor): QuantParams {
  if (!t.quant || t.quant.scale.length === 0) throw new UnsupportedError(`${describeTensor(t)} has no quantization parameters`);
  return t.quant;
}

/** The per-tensor scale of an activation. */
export function scaleOf(t: Tensor): number {
  const q = quantOf(t);
  if (q.scale.length !== 1) throw new UnsupportedError(`${describeTensor(t)}: expected per-tensor quantization, found ${q.scale.length} scales`);
  return q.scale[0]!;
}

export function zeroPointOf(t: Tensor): number {
  return quantOf(t).zeroPoint[0] ?? 0;
}

/** Scale of channel c of a per-channel (or per-tensor) weight. */
export function channelScale(t: Tensor, c: number): number {
  const s = quantOf(t).scale;
  return s.length === 1 ? s[0]! : s[c]!;
}

/** TFLite CalculateActivationRangeQuantized: the quantization of 0, 6, ±1 is done in float32 like TFLM. */
export function activationRange(activation: Activation, output: Tensor): { min: number; max: number } {
  const scale = Math.fround(scaleOf(output));
  const zp = zeroPointOf(output);
  const quantize = (f: number): number => zp + roundHalfAwayFromZero(Math.fround(f / scale));
  switch (activation) {
    case 'none':
      return { min: INT8_MIN, max: INT8_MAX };
    case 'relu':
      return { min: Math.max(INT8_MIN, quantize(0)), max: INT8_MAX };
    case 'relu6':
      return { min: Math.max(INT8_MIN, quantize(0)), max: Math.min(INT8_MAX, quantize(6)) };
    case 'relu_n1_to_1':
      return { min: Math.max(INT8_MIN, quantize(-1)), max: Math.min(INT8_MAX, quantize(1)) };
    case 'tanh':
      throw new UnsupportedError(`fused TANH activation on ${describeTensor(output)} is not supported for int8`);
  }
}
