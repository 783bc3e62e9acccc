/**
 * @fileoverview TFLite's integer requantization arithmetic, bit-exact with
 * tensorflow/lite/kernels/internal/common.h and gemmlowp's fixed-point helpers.
 * The C kernels implement the same functions in runtime/c/tf_fixed_point.h.
 *
 * JavaScript numbers hold 53-bit integers, not the 64-bit products these need, so the
 * products are split into 16-bit halves: exact without BigInt, which is ~50x slower.
 */

import { InvalidModelError } from '../../errors.ts';

/**
 * How a multiplier requantization of an int32 accumulator rounds:
 * - 'double': gemmlowp's two roundings (TFLM, CMSIS-NN); the multiplier is a Q31 fixed-point number and a shift;
 * - 'single': one rounding (TFLITE_SINGLE_ROUNDING), same multiplier;
 * - 'float32': the integer function that float32 arithmetic computes: round half to even of fl(fl(acc) * m),
 *   m the float32 multiplier (passed as its bits, shift 0). That is how ONNX QDQ models define requantization
 *   (and how the paper's models were trained); every backend computes it exactly (IEEE float32 or integers).
 */
export type RoundingArithmetic = 'double' | 'single' | 'float32';

/**
 * The rounding a program is compiled with:
 * - 'double': TFLM and CMSIS-NN, every requantization rounds twice;
 * - 'single': TFLite's runtime build: conv and fully connected round once, depthwise conv twice;
 * - 'float32': conv, depthwise conv and fully connected requantize as float32 arithmetic does (the default for ONNX).
 */
export type Rounding = 'double' | 'single' | 'float32';

export const ROUNDINGS: readonly Rounding[] = ['double', 'single', 'float32'];

/** The arithmetic of CONV_2D and FULLY_CONNECTED requantization under `rounding`. */
export function convArithmetic(rounding: Rounding): RoundingArithmetic {
  return rounding;
}

/** The arithmetic of DEPTHWISE_CONV_2D requantization under `rounding`. */
export function depthwiseArithmetic(rounding: Rounding): RoundingArithmetic {
  return rounding === 'float32' ? 'float32' : 'double';
}

/** The per-channel multiplier of `real` in the form `arithmetic` takes. */
export function channelMultiplier(real: number, arithmetic: RoundingArithmetic): QuantizedMultiplier {
  if (arithmetic !== 'float32') return quantizeMultiplier(real);
  if (!Number.isFinite(real)) throw new InvalidModelError(`requantization scale ${real} is not finite (a quantization scale is 0 or missing)`);
  return { multiplier: float32Bits(real), shift: 0 };
}

const float32View = new Float32Array(1);
const int32View = new Int32Array(float32View.buffer);

function float32Bits(x: number): number {
  float32View[0] = x;
  return int32View[0]!;
}

function float32FromBits(bits: number): number {
  int32View[0] = bits;
  return float32View[0]!;
}

/** The real number a multiplier of `arithmetic` stands for. */
export function realMultiplier(multiplier: number, shift: number, arithmetic: RoundingArithmetic): number {
  return arithmetic === 'float32' ? float32FromBits(multiplier) : (multiplier / 2 ** 31) * 2 ** shift;
}

/** Round half to even. */
export function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  return diff > 0.5 || (diff === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
}

/** 'float32' requantization: round half to even of fl(fl(x) * m), m given by its float32 bits. */
function requantizeFloat32(x: number, multiplierBits: number): number {
  return roundHalfToEven(Math.fround(Math.fround(x) * float32FromBits(multiplierBits)));
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const TWO_16 = 65536;

/** floor((a * b + c) / 2^k) exactly, for int32 a and b, |c| < 2^52, 1 <= k <= 62 and a result below 2^53. */
function mulAddFloorShift(a: number, b: number, c: number, k: number): number {
  const bHigh = b >> 16;
  const bLow = b & 0xffff;
  const high = a * bHigh;
  const low = a * bLow + c;
  const carry = Math.floor(low / TWO_16);
  const rest = high + carry;
  // a * b + c == rest * 2^16 + (low - carry * 2^16), the second term in [0, 2^16).
  if (k >= 16) return Math.floor(rest / 2 ** (k - 16));
  return rest * 2 ** (16 - k) + Math.floor((low - carry * TWO_16) / 2 ** k);
}

/** gemmlowp SaturatingRoundingDoublingHighMul: (a * b * 2 + 2^31 rounded half away from zero) >> 32. */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const negative = a < 0 !== b < 0 && a !== 0 && b !== 0;
  if (!negative) return mulAddFloorShift(a, b, 2 ** 30, 31);
  // C++ integer division truncates toward zero: trunc(x / 2^31) = -floor(-x / 2^31) for negative x.
  return -mulAddFloorShift(-a, b, 2 ** 30 - 1, 31);
}

/** gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  const mask = exponent >= 31 ? INT32_MAX : (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/**
 * TFLite MultiplyByQuantizedMultiplier; `shift` > 0 is a left shift. 'double' rounds twice (TFLM, CMSIS-NN);
 * 'single' is TFLite's TFLITE_SINGLE_ROUNDING build; 'float32' takes the multiplier's float32 bits (shift 0).
 */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number, rounding: RoundingArithmetic): number {
  if (rounding === 'float32') return requantizeFloat32(x, multiplier);
  if (rounding === 'single') {
    const totalShift = 31 - shift;
    return mulAddFloorShift(x, multiplier, 2 ** (totalShift - 1), totalShift);
  }
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  // The C kernels shift through uint32_t, so an overflowing left shift wraps the same way here.
  const shifted = (x << leftShift) | 0;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(shifted, multiplier), rightShift);
}

export interface QuantizedMultiplier {
  readonly multiplier: number;
  readonly shift: number;
}

/** TFLite QuantizeMultiplier: real = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31). */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (!Number.isFinite(real)) throw new InvalidModelError(`requantization scale ${real} is not finite (a quantization scale is 0 or missing)`);
  if (real === 0) return { multiplier: 0, shift: 0 };
  let shift = Math.ceil(Math.log2(Math.abs(real)));
  let fraction = real / 2 ** shift;
  // log2 can be off by one near powers of two; frexp's contract is 0.5 <= |fraction| < 1.
  while (Math.abs(fraction) >= 1) {
    shift += 1;
    fraction = real / 2 ** shift;
  }
  while (Math.abs(fraction) < 0.5) {
    shift -= 1;
    fraction = real / 2 ** shift;
  }
  let fixed = roundHalfAwayFromZero(fraction * 2 ** 31);
  if (fixed === 2 ** 31) {
    fixed /= 2;
    shift += 1;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  return { multiplier: fixed, shift };
}

/** std::round / TfLiteRound: halves go away from zero (Math.round sends -0.5 to 0). */
export function roundHalfAwayFromZero(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

export function saturate(x: number, min: number, max: number): number {
  return x < min ? min : x > max ? max : x;
}
