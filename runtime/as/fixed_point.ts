/*
 * tinyforge runtime: TFLite's integer requantization arithmetic, in AssemblyScript.
 * Bit-exact with runtime/c/tf_fixed_point.h (and so with tensorflow/lite/kernels/internal/common.h).
 */

// @ts-ignore: decorator
@inline
export function saturatingRoundingDoublingHighMul(a: i32, b: i32): i32 {
  if (a == i32.MIN_VALUE && b == i32.MIN_VALUE) return i32.MAX_VALUE;
  const ab = <i64>a * <i64>b;
  const nudge: i64 = ab >= 0 ? 1 << 30 : 1 - (1 << 30);
  return <i32>((ab + nudge) / (<i64>1 << 31));
}

// @ts-ignore: decorator
@inline
export function roundingDivideByPot(x: i32, exponent: i32): i32 {
  const mask = <i32>((<i64>1 << exponent) - 1);
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** Two roundings, as TFLM and CMSIS-NN do. `shift` > 0 shifts left (wrapping, like the C runtime). */
// @ts-ignore: decorator
@inline
export function multiplyByQuantizedMultiplier(x: i32, multiplier: i32, shift: i32): i32 {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return roundingDivideByPot(saturatingRoundingDoublingHighMul(x << leftShift, multiplier), rightShift);
}

/** One rounding, as TFLite's TFLITE_SINGLE_ROUNDING build does. */
// @ts-ignore: decorator
@inline
export function multiplyByQuantizedMultiplierSingle(x: i32, multiplier: i32, shift: i32): i32 {
  const totalShift = 31 - shift;
  const round = <i64>1 << (totalShift - 1);
  return <i32>((<i64>x * <i64>multiplier + round) >> totalShift);
}

/** Requantization of CONV_2D and FULLY_CONNECTED accumulators: the rounding is a build option (globals.d.ts). */
// @ts-ignore: decorator
@inline
export function requantizeConv(acc: i32, multiplier: i32, shift: i32): i32 {
  return TF_SINGLE_ROUNDING
    ? multiplyByQuantizedMultiplierSingle(acc, multiplier, shift)
    : multiplyByQuantizedMultiplier(acc, multiplier, shift);
}

// @ts-ignore: decorator
@inline
export function clamp(x: i32, lo: i32, hi: i32): i32 {
  return x < lo ? lo : x > hi ? hi : x;
}
