/**
 * @fileoverview gemmlowp's fixed-point math (fixedpoint/fixedpoint.h) on int32 raw values, plus the
 * int16 primitives TFLite's quantized HardSwish uses. Compile-time only: the LUT builders of LOGISTIC,
 * TANH, HARD_SWISH and SOFTMAX run these exactly as TFLM's reference kernels do at run time.
 *
 * A fixed-point value is its raw int32 and a number of integer bits m (format Qm.(31-m)); the
 * functions take m explicitly where gemmlowp has it as a template parameter. Plain additions wrap
 * modulo 2^32, as the int32 arithmetic in gemmlowp does on every compiler TFLM is built with.
 */
import { roundingDivideByPOT, saturatingRoundingDoublingHighMul } from './fixed_point.ts';

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** FixedPoint operator*: the raw product of Qa and Qb is a Q(a+b). */
export const fpMul = saturatingRoundingDoublingHighMul;

/** gemmlowp Add / Sub on int32: not saturating, wrapping. */
export function fpAdd(a: number, b: number): number {
  return (a + b) | 0;
}

export function fpSub(a: number, b: number): number {
  return (a - b) | 0;
}

/** FixedPoint<int32, m>::One(). */
export function fpOne(integerBits: number): number {
  return integerBits === 0 ? INT32_MAX : 2 ** (31 - integerBits);
}

/** FixedPoint<int32, m>::ConstantPOT<exponent>(). */
export function fpConstantPOT(integerBits: number, exponent: number): number {
  return 2 ** (31 - integerBits + exponent);
}

/** SaturatingRoundingMultiplyByPOT<exponent>: saturating left shift, or rounding right shift. */
export function saturatingRoundingMultiplyByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  const threshold = 2 ** (31 - exponent) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return x * 2 ** exponent;
}

/** Rescale<dstBits>(FixedPoint<int32, srcBits>). */
export function rescale(x: number, srcBits: number, dstBits: number): number {
  return saturatingRoundingMultiplyByPOT(x, srcBits - dstBits);
}

/** gemmlowp RoundingHalfSum on int32: (a + b) / 2 rounded half away from zero (C++ division truncates). */
export function roundingHalfSum(a: number, b: number): number {
  const sum = a + b;
  return Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/** exp(a) for a in [-1/4, 0), a and the result Q0.31. */
export function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: number): number {
  const constantTerm = 1895147668; // exp(-1/8)
  const constant1Over3 = 715827883;
  const x = fpAdd(a, fpConstantPOT(0, -3));
  const x2 = fpMul(x, x);
  const x3 = fpMul(x2, x);
  const x4 = fpMul(x2, x2);
  const x4Over4 = saturatingRoundingMultiplyByPOT(x4, -2);
  const poly = saturatingRoundingMultiplyByPOT(fpAdd(fpMul(fpAdd(x4Over4, x3), constant1Over3), x2), -1);
  return fpAdd(constantTerm, fpMul(constantTerm, fpAdd(x, poly)));
}

/** exp(-2^k) in Q0.31 for the barrel shifter of exp_on_negative_values, k = -2..4. */
const EXP_BARREL: readonly (readonly [number, number])[] = [
  [-2, 1672461947],
  [-1, 1302514674],
  [0, 790015084],
  [1, 290630308],
  [2, 39332535],
  [3, 720401],
  [4, 242],
];

/** exp(a) for a <= 0; `a` is Q(integerBits), the result Q0.31. */
export function expOnNegativeValues(a: number, integerBits: number): number {
  const fractionalBits = 31 - integerBits;
  const oneQuarter = fpConstantPOT(integerBits, -2);
  const mask = oneQuarter - 1;
  const aModQuarterMinusOneQuarter = fpSub(a & mask, oneQuarter);
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(rescale(aModQuarterMinusOneQuarter, integerBits, 0));
  const remainder = fpSub(aModQuarterMinusOneQuarter, a);
  for (const [exponent, multiplier] of EXP_BARREL) {
    if (integerBits > exponent) {
      const shift = fractionalBits + exponent;
      if ((remainder & (1 << shift)) !== 0) result = fpMul(result, multiplier);
    }
  }
  if (integerBits > 5) {
    const clamp = -(2 ** (36 - integerBits)); // -32.0
    if (a < clamp) result = 0;
  }
  if (a === 0) result = fpOne(0);
  return result;
}

/** The three Newton-Raphson steps shared by 1/(1+x) and (1-x)/(1+x); returns x as a Q2.29. */
function newtonReciprocalOfHalfDenominator(halfDenominator: number): number {
  const constant48Over17 = 1515870810;
  const constantNeg32Over17 = -1010580540;
  let x = fpAdd(constant48Over17, fpMul(halfDenominator, constantNeg32Over17));
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = fpMul(halfDenominator, x);
    const oneMinusHalfDenominatorTimesX = fpSub(fpOne(2), halfDenominatorTimesX);
    x = fpAdd(x, rescale(fpMul(x, oneMinusHalfDenominatorTimesX), 4, 2));
  }
  return x;
}

/** 1 / (1 + a) for a in (0, 1), Q0.31 in and out. */
export function oneOverOnePlusXForXIn01(a: number): number {
  const x = newtonReciprocalOfHalfDenominator(roundingHalfSum(a, fpOne(0)));
  return rescale(x, 1, 0); // Rescale<0>(ExactMulByPot<-1>(x))
}

/** (1 - a) / (1 + a) for a in (0, 1), Q0.31 in and out. */
export function oneMinusXOverOnePlusXForXIn01(a: number): number {
  const x = newtonReciprocalOfHalfDenominator(roundingHalfSum(a, fpOne(0)));
  return rescale(fpSub(x, fpOne(2)), 2, 0);
}

/** gemmlowp::tanh of a Q(integerBits) value; the result is Q0.31. */
export function fpTanh(a: number, integerBits: number): number {
  const negative = a < 0;
  const n = negative ? a : -a | 0;
  // neg_tanh_on_negative_values: ExactMulByPot<1> gives one more integer bit to the same raw value.
  const t = oneMinusXOverOnePlusXForXIn01(expOnNegativeValues(n, integerBits + 1));
  if (a === 0) return 0;
  return negative ? -t | 0 : t;
}

/** gemmlowp::logistic of a Q(integerBits) value; the result is Q0.31. */
export function fpLogistic(a: number, integerBits: number): number {
  const positive = a > 0;
  const absInput = positive ? a : -a | 0;
  const resultIfPositive = oneOverOnePlusXForXIn01(expOnNegativeValues(-absInput | 0, integerBits));
  const resultIfNegative = fpSub(fpOne(0), resultIfPositive);
  if (a === 0) return 2 ** 30;
  return positive ? resultIfPositive : resultIfNegative;
}

/** TFLite GetReciprocal: 1/x for x a Q(integerDigits), as a Q0.31 scale and a count of bits above 1.0. */
export function getReciprocal(x: number, integerDigits: number): { readonly raw: number; readonly numBitsOverUnit: number } {
  const headroomPlusOne = Math.clz32(x);
  const numBitsOverUnit = integerDigits - headroomPlusOne;
  const shiftedSumMinusOne = ((x * 2 ** headroomPlusOne) % 2 ** 32) - 2 ** 31;
  return { raw: oneOverOnePlusXForXIn01(shiftedSumMinusOne | 0), numBitsOverUnit };
}

/** TFLite CalculateInputRadius (the double-precision branch). */
export function calculateInputRadius(inputIntegerBits: number, inputLeftShift: number, totalSignedBits = 31): number {
  const maxInputRescaled = (1.0 * (2 ** inputIntegerBits - 1) * 2 ** (totalSignedBits - inputIntegerBits)) / 2 ** inputLeftShift;
  return Math.floor(maxInputRescaled);
}

// ---------------------------------------------------------------------------------------------------------------
// int16 primitives (gemmlowp's std::int16_t specializations and TFLite's hard_swish.h helpers). Every
// intermediate is narrowed to int16 the way the C++ stores it.

/** static_cast<int16_t>: keep the low 16 bits, two's complement. */
export function toInt16(x: number): number {
  return (x << 16) >> 16;
}

/** gemmlowp SaturatingRoundingDoublingHighMul<int16_t>. */
export function srdhm16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  const ab = a * b;
  const nudge = ab >= 0 ? 1 << 14 : 1 - (1 << 14);
  return toInt16(Math.trunc((ab + nudge) / 32768));
}

/** TFLite SaturatingDoublingHighMul (int16, rounding toward zero). */
export function saturatingDoublingHighMul16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  return toInt16(Math.trunc((a * b) / 32768));
}

/** gemmlowp RoundingDivideByPOT<int16_t>, exponent in [0, 31], with the int16 narrowing of mask and threshold. */
export function roundingDivideByPOT16(x: number, exponent: number): number {
  const mask = toInt16(2 ** exponent - 1);
  const remainder = toInt16(x & mask);
  const threshold = toInt16((mask >> 1) + (x < 0 ? 1 : 0));
  return toInt16(toInt16(x >> exponent) + (remainder > threshold ? 1 : 0));
}

/** TFLite hard_swish.h SaturatingLeftShift: value * 2^amount saturated to int16. */
export function saturatingLeftShift16(value: number, amount: number): number {
  const result = value * 2 ** amount;
  return result > 32767 ? 32767 : result < -32768 ? -32768 : result;
}

/**
 * `q = std::frexp(real, &shift); multiplier = static_cast<int32_t>(TfLiteRound(q * (1ll << 31)))`, as
 * TFLM's LOGISTIC and TANH Prepare compute their input multiplier (without QuantizeMultiplier's fix-ups).
 */
export function frexpQ31(real: number): { readonly multiplier: number; readonly shift: number } {
  if (real === 0 || !Number.isFinite(real)) return { multiplier: 0, shift: 0 };
  let shift = Math.ceil(Math.log2(Math.abs(real)));
  let q = real / 2 ** shift;
  while (Math.abs(q) >= 1) q = real / 2 ** ++shift;
  while (Math.abs(q) < 0.5) q = real / 2 ** --shift;
  const fixed = Math.sign(q) * Math.round(Math.abs(q) * 2 ** 31);
  return { multiplier: fixed, shift };
}
