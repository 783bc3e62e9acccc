/**
 * @fileoverview Int32 biases of the conv-like ops, made safe for an int32 accumulator. The kernels add up to
 * sum_k |W[o, k]| * max|x + input_offset| to the bias; a bias near ±2^31 (ONNX QDQ models give those to
 * channels with near-zero weight scales) would overflow, which is undefined in C and wraps in WASM. Such a
 * bias is saturated at compile time to ±(2^31 - 1 - that bound). The output moves by at most the change times
 * the channel's requantization multiplier; the report states that figure. In the channels where such biases
 * occur in practice (near-zero weight scales, multipliers near 1e-9) it is a small fraction of an LSB.
 */
import { UnsupportedError } from '../../errors.ts';
import { realMultiplier } from './fixed_point.ts';
import type { RoundingArithmetic } from './fixed_point.ts';

const INT32_MAX = 2 ** 31 - 1;

export interface SaturatedBiases {
  readonly biases: Int32Array;
  /** Output channels whose bias was changed, and by how much (accumulator units). */
  readonly saturated: readonly { readonly channel: number; readonly change: number }[];
}

/**
 * `weightAbsSums[o]` is sum_k |W[o, k]| over the taps feeding output channel o; `inputOffset` is -zero point of
 * the int8 input, so |x + inputOffset| <= max(|-128 + inputOffset|, |127 + inputOffset|).
 */
export function saturateBiases(bias: Int32Array, weightAbsSums: readonly number[], inputOffset: number): SaturatedBiases {
  const maxInput = Math.max(Math.abs(-128 + inputOffset), Math.abs(127 + inputOffset));
  const biases = Int32Array.from(bias);
  const saturated: { channel: number; change: number }[] = [];
  weightAbsSums.forEach((absSum, o) => {
    const limit = INT32_MAX - absSum * maxInput;
    if (limit < 0) throw new UnsupportedError(`output channel ${o}: ${absSum} x ${maxInput} can overflow a 32-bit accumulator even without a bias`);
    const b = bias[o]!;
    const clamped = Math.min(limit, Math.max(-limit, b));
    if (clamped !== b) {
      biases[o] = clamped;
      saturated.push({ channel: o, change: Math.abs(clamped - b) });
    }
  });
  return { biases, saturated };
}

/** A report line for the channels `saturateBiases` changed: the largest change in output LSB (change x real multiplier). */
export function describeSaturation(s: SaturatedBiases, multipliers: readonly number[], shifts: readonly number[], arithmetic: RoundingArithmetic): string[] {
  if (s.saturated.length === 0) return [];
  const lsb = Math.max(...s.saturated.map(({ channel, change }) => change * realMultiplier(multipliers[channel]!, shifts[channel]!, arithmetic)));
  const channels = s.saturated.map((c) => c.channel);
  return [
    `bias of output channel${channels.length > 1 ? 's' : ''} ${channels.join(', ')} saturated so the int32 accumulator cannot overflow ` +
      `(output moves by at most ${lsb.toPrecision(2)} LSB before rounding)`,
  ];
}
