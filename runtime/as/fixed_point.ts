/*
 * tinyforge runtime: TFLite's integer requantization arithmetic, in AssemblyScript.
 * Bit-exact with runtime/c/tf_fixed_point.h (and so with tensorflow/lite/kernels/internal/common.h).
 */

/*
 * gemmlowp's (ab + nudge) / 2^31, truncating, equals (ab + 2^30) >> 31 for every product: for ab >= 0 both are
 * floor((ab + 2^30) / 2^31); for ab < 0, trunc((ab + 1 - 2^30) / 2^31) = floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31).
 * The shift is much cheaper than an i64 division. Only a = b = INT32_MIN saturates.
 */
// @ts-ignore: decorator
@inline
export function saturatingRoundingDoublingHighMul(a: i32, b: i32): i32 {
  if (a == i32.MIN_VALUE && b == i32.MIN_VALUE) return i32.MAX_VALUE;
  return <i32>((<i64>a * <i64>b + (1 << 30)) >> 31);
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

/*
 * The 'float32' rounding, as runtime/c/tf_fixed_point.h: round half to even of fl(fl(acc) * m), m the float32 whose
 * bits `multiplier` holds. |p| is capped at 2^22 (results that large saturate the int8 range anyway).
 */
// @ts-ignore: decorator
@inline
export function requantizeFloat32(acc: i32, multiplier: i32): i32 {
  const p = <f32>acc * reinterpret<f32>(multiplier);
  return <i32>nearest<f32>(min<f32>(max<f32>(p, -4194304), 4194304));
}

/** requantizeFloat32 on four lanes, m the float32 multipliers (as v128 bits), SIMD builds only. */
// @ts-ignore: decorator
@inline
export function requantizeFloat32x4(acc: v128, m: v128): v128 {
  const p = f32x4.mul(f32x4.convert_i32x4_s(acc), m);
  const capped = f32x4.min(f32x4.max(p, f32x4.splat(-4194304)), f32x4.splat(4194304));
  return i32x4.trunc_sat_f32x4_s(f32x4.nearest(capped));
}

/** Requantization of CONV_2D and FULLY_CONNECTED accumulators: the rounding is a build option (globals.d.ts). */
// @ts-ignore: decorator
@inline
export function requantizeConv(acc: i32, multiplier: i32, shift: i32): i32 {
  if (TF_FLOAT32_REQUANT) return requantizeFloat32(acc, multiplier);
  return TF_SINGLE_ROUNDING
    ? multiplyByQuantizedMultiplierSingle(acc, multiplier, shift)
    : multiplyByQuantizedMultiplier(acc, multiplier, shift);
}

/** Requantization of DEPTHWISE_CONV_2D accumulators: two roundings, or the 'float32' rounding (globals.d.ts). */
// @ts-ignore: decorator
@inline
export function requantizeDepthwise(acc: i32, multiplier: i32, shift: i32): i32 {
  return TF_FLOAT32_REQUANT ? requantizeFloat32(acc, multiplier) : multiplyByQuantizedMultiplier(acc, multiplier, shift);
}

// @ts-ignore: decorator
@inline
export function clamp(x: i32, lo: i32, hi: i32): i32 {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * multiplyByQuantizedMultiplier on four lanes with one multiplier and one shift for all of them (per-tensor
 * requantization), SIMD builds only: the high multiply as above in i64x2 lanes (the caller guarantees
 * multiplier != INT32_MIN), then roundingDivideByPot as (h >> e) + ((h & mask) > halfMask + (h < 0)).
 * mask = (1 << rightShift) - 1 and halfMask = mask >> 1, splat.
 */
// @ts-ignore: decorator
@inline
export function multiplyByQuantizedMultiplier4(x: v128, multiplier: v128, leftShift: i32, rightShift: i32, mask: v128,
                                               halfMask: v128): v128 {
  const a = i32x4.shl(x, leftShift);
  const round = i64x2.splat(1 << 30);
  // Bits 31..62 of ab + 2^30, i.e. the low 32 bits of (ab + 2^30) >> 31.
  const lo = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(a, multiplier), round), 31);
  const hi = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(a, multiplier), round), 31);
  const h = i8x16.shuffle(lo, hi, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
  return roundingDivideByPot4(h, rightShift, mask, halfMask);
}

/** roundingDivideByPot on four lanes with one exponent (mask and halfMask as above); true comparisons are -1. */
// @ts-ignore: decorator
@inline
export function roundingDivideByPot4(h: v128, exponent: i32, mask: v128, halfMask: v128): v128 {
  const threshold = i32x4.sub(halfMask, i32x4.shr_s(h, 31));
  return i32x4.sub(i32x4.shr_s(h, exponent), i32x4.gt_s(v128.and(h, mask), threshold));
}
