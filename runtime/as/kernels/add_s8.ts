/*
 * ADD and SUB, int8 (TFLM reference_integer_ops::AddFunc, reference_ops::SubElementwise), broadcast, as
 * runtime/c/kernels/add_s8.c. Each input is rescaled to a common scale, s_i = MBQM((x_i + offset_i) << 20,
 * M_i, shift_i), then y = clamp(MBQM(s1 + sign * s2, M_out, shift_out) + out_offset, act_min, act_max); sign
 * is -1 for SUB (applied after rounding, as TFLM subtracts the rescaled values; s1 + sign * s2 is the same
 * wrapping int32 value whichever operand the C kernel hoists). The scalar path is the C kernel's arithmetic
 * (fixed_point.ts).
 *
 * The compiler merges the output dimensions into a 4-level loop nest dims[4] whose per-level input strides
 * are strides1 / strides2 (0 where an input is broadcast). In the innermost level each input is read
 * contiguously or not at all, so a broadcast input is rescaled once per row.
 *
 * With SIMD, rows are done 8 elements at a time. The input rescales need no 64-bit product (addRescale4); the
 * output requantization is multiplyByQuantizedMultiplier4 (fixed_point.ts), which requires M_out != INT32_MIN (the
 * compiler's multipliers are in [2^30, 2^31)). The clamp becomes max_s/min_s, equal to the scalar clamp when
 * -128 <= act_min <= act_max <= 127 (always true of the compiler's activation range). The vector path checks
 * each of its assumptions and leaves anything else to the scalar path. An ADD one of whose inputs has M = 2^30 and
 * shift 0 (TFLite gives that to the input of the larger scale) takes addRowExact, about half the vector operations.
 */
import { clamp, multiplyByQuantizedMultiplier, multiplyByQuantizedMultiplier4, roundingDivideByPot4 } from "../fixed_point";

// @ts-ignore: decorator
@inline
function addRescale(x: i32, offset: i32, multiplier: i32, shift: i32): i32 {
  return multiplyByQuantizedMultiplier((x + offset) << 20, multiplier, shift);
}

// Rescale of 4 int8 inputs (already widened to int32 lanes), MBQM((x + offset) << 20, M, shift) for shift <= 0, in
// int32 lanes only. With v = x + offset (|v| <= 384 as the vector path checks) and M = mHigh * 2^11 + mLow
// (0 <= mLow < 2^11), saturatingRoundingDoublingHighMul(v * 2^20, M) = floor((v * M + 2^10) / 2^11)
// = v * mHigh + floor((v * mLow + 2^10) / 2^11), where |v * mHigh| < 2^29 and |v * mLow| < 2^20: nothing overflows,
// and v * 2^20 is never INT32_MIN, so the saturating case cannot occur.
// @ts-ignore: decorator
@inline
function addRescale4(x: v128, offset: v128, mHigh: v128, mLow: v128, rightShift: i32, mask: v128,
                     halfMask: v128): v128 {
  const v = i32x4.add(x, offset);
  const low = i32x4.shr_s(i32x4.add(i32x4.mul(v, mLow), i32x4.splat(1 << 10)), 11);
  return roundingDivideByPot4(i32x4.add(i32x4.mul(v, mHigh), low), rightShift, mask, halfMask);
}

/*
 * A row of ADD (sign 1, neither input broadcast) where input b has M = 2^30 and shift 0, as TFLite gives the input
 * of the larger scale: its rescale is exactly (x + offset) << 19 (|x + offset| <= 384 keeps v << 20 in range, and
 * (v * 2^50 + 2^30) >> 31 = v * 2^19). Input a's rescale is addRescale4's with its exponent e >= 1, and both
 * rounding divisions use RoundingDivideByPOT(h, e) = (h - [h < 0] + 2^(e-1)) >> e (arithmetic shift: a floor),
 * where a multiple of 2^e added before the shift comes out as the quotient: the output offset is added as
 * output_offset << e_out. The output requantization is SRDHM(sum, M_out) = (2 sum M_out + 2^31) >> 32, the high
 * words of a 64-bit product: |sum| < 2^29, so nothing overflows and nothing saturates. The saturating narrows and
 * i8x16 min/max then clamp exactly, as -128 <= act_min <= act_max <= 127. The caller checks every condition.
 */
function addRowExact(a: usize, b: usize, output: usize, n: i32, aOffset: i32, aMultiplier: i32, aExponent: i32,
                     bOffset: i32, outputMultiplier: i32, outputExponent: i32, outputOffset: i32, actMin: i32,
                     actMax: i32): void {
  const mHigh = i32x4.splat(aMultiplier >> 11), mLow = i32x4.splat(aMultiplier & 0x7ff);
  const c1 = i32x4.splat(aOffset * (aMultiplier >> 11)), c2 = i32x4.splat(aOffset * (aMultiplier & 0x7ff) + (1 << 10));
  const roundA = i32x4.splat(1 << (aExponent - 1));
  const bias = i32x4.splat(bOffset << 19);
  const mOut = i32x4.splat(outputMultiplier);
  const half = i64x2.splat(<i64>1 << 31);
  const roundOut = i32x4.splat((1 << (outputExponent - 1)) + (outputOffset << outputExponent));
  const lo = i8x16.splat(<i8>actMin), hi = i8x16.splat(<i8>actMax);
  let c = 0;
  for (; c + 8 <= n; c += 8) {
    const xa = v128.load8x8_s(a + c), xb = v128.load8x8_s(b + c);
    const y0 = addExactLanes(i32x4.extend_low_i16x8_s(xa), i32x4.extend_low_i16x8_s(xb), mHigh, mLow, c1, c2, roundA,
      aExponent, bias, mOut, half, roundOut, outputExponent);
    const y1 = addExactLanes(i32x4.extend_high_i16x8_s(xa), i32x4.extend_high_i16x8_s(xb), mHigh, mLow, c1, c2, roundA,
      aExponent, bias, mOut, half, roundOut, outputExponent);
    const y16 = i16x8.narrow_i32x4_s(y0, y1);
    v128.store64_lane(output + c, i8x16.min_s(i8x16.max_s(i8x16.narrow_i16x8_s(y16, y16), lo), hi), 0);
  }
  addRow(a, b, output, c, n, false, false, aOffset, aMultiplier, -aExponent, bOffset, 1 << 30, 0, 1, outputMultiplier,
    -outputExponent, outputOffset, actMin, actMax);
}

/* addRowExact's arithmetic on four lanes: the output before its clamp, output offset included. */
// @ts-ignore: decorator
@inline
function addExactLanes(xa: v128, xb: v128, mHigh: v128, mLow: v128, c1: v128, c2: v128, roundA: v128, aExponent: i32,
                       bias: v128, mOut: v128, half: v128, roundOut: v128, outputExponent: i32): v128 {
  const h = i32x4.add(i32x4.add(i32x4.mul(xa, mHigh), c1), i32x4.shr_s(i32x4.add(i32x4.mul(xa, mLow), c2), 11));
  const sa = i32x4.shr_s(i32x4.add(i32x4.add(h, i32x4.shr_s(h, 31)), roundA), aExponent);
  const sum = i32x4.add(sa, i32x4.add(i32x4.shl(xb, 19), bias));
  const sum2 = i32x4.add(sum, sum);
  const y = i32x4.shuffle(i64x2.add(i64x2.extmul_low_i32x4_s(sum2, mOut), half),
    i64x2.add(i64x2.extmul_high_i32x4_s(sum2, mOut), half), 1, 3, 5, 7);
  return i32x4.shr_s(i32x4.add(i32x4.add(y, i32x4.shr_s(y, 31)), roundOut), outputExponent);
}

// Output elements [c, n) of one row, as the C kernel computes them.
// @ts-ignore: decorator
@inline
function addRow(x1: usize, x2: usize, output: usize, c: i32, n: i32, broadcast1: bool, broadcast2: bool,
                input1_offset: i32, input1_multiplier: i32, input1_shift: i32, input2_offset: i32,
                input2_multiplier: i32, input2_shift: i32, input2_sign: i32, output_multiplier: i32,
                output_shift: i32, output_offset: i32, act_min: i32, act_max: i32): void {
  if (broadcast1) {
    const s1 = addRescale(load<i8>(x1), input1_offset, input1_multiplier, input1_shift);
    for (; c < n; ++c) {
      const s2 = addRescale(load<i8>(x2 + c), input2_offset, input2_multiplier, input2_shift);
      const y = multiplyByQuantizedMultiplier(s1 + input2_sign * s2, output_multiplier, output_shift);
      store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
    }
  } else if (broadcast2) {
    const s2 = input2_sign * addRescale(load<i8>(x2), input2_offset, input2_multiplier, input2_shift);
    for (; c < n; ++c) {
      const s1 = addRescale(load<i8>(x1 + c), input1_offset, input1_multiplier, input1_shift);
      const y = multiplyByQuantizedMultiplier(s1 + s2, output_multiplier, output_shift);
      store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
    }
  } else {
    for (; c < n; ++c) {
      const s1 = addRescale(load<i8>(x1 + c), input1_offset, input1_multiplier, input1_shift);
      const s2 = addRescale(load<i8>(x2 + c), input2_offset, input2_multiplier, input2_shift);
      const y = multiplyByQuantizedMultiplier(s1 + input2_sign * s2, output_multiplier, output_shift);
      store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
    }
  }
}

export function add_s8(input1: usize, input2: usize, output: usize, dims: usize, strides1: usize, strides2: usize,
                       input1_offset: i32, input1_multiplier: i32, input1_shift: i32, input2_offset: i32,
                       input2_multiplier: i32, input2_shift: i32, input2_sign: i32, output_multiplier: i32,
                       output_shift: i32, output_offset: i32, act_min: i32, act_max: i32): void {
  const d0 = load<i32>(dims), d1 = load<i32>(dims, 4), d2 = load<i32>(dims, 8), n = load<i32>(dims, 12);
  const a0 = load<i32>(strides1), a1 = load<i32>(strides1, 4), a2 = load<i32>(strides1, 8);
  const b0 = load<i32>(strides2), b1 = load<i32>(strides2, 4), b2 = load<i32>(strides2, 8);
  const broadcast1 = load<i32>(strides1, 12) == 0;
  const broadcast2 = load<i32>(strides2, 12) == 0;
  if (ASC_FEATURE_SIMD) {
    // addRowExact's conditions, with a = whichever input is not the exact one.
    const exact1 = input1_multiplier == 1 << 30 && input1_shift == 0;
    const exact2 = input2_multiplier == 1 << 30 && input2_shift == 0;
    const aShift = exact2 ? input1_shift : input2_shift;
    if (n >= 8 && input2_sign == 1 && !broadcast1 && !broadcast2 && exact1 != exact2 && aShift < 0 &&
        (exact2 ? input1_multiplier : input2_multiplier) >= 0 &&
        -256 <= input1_offset && input1_offset <= 256 && -256 <= input2_offset && input2_offset <= 256 &&
        output_multiplier > 0 && output_shift < 0 && output_shift > -30 &&
        (<i64>abs(output_offset) + 1 << <i64>(-output_shift)) < (<i64>1 << 30) &&
        -128 <= act_min && act_min <= act_max && act_max <= 127) {
      for (let i0 = 0; i0 < d0; ++i0) {
        for (let i1 = 0; i1 < d1; ++i1) {
          for (let i2 = 0; i2 < d2; ++i2) {
            const x1 = input1 + i0 * a0 + i1 * a1 + i2 * a2;
            const x2 = input2 + i0 * b0 + i1 * b1 + i2 * b2;
            if (exact2) {
              addRowExact(x1, x2, output, n, input1_offset, input1_multiplier, -input1_shift, input2_offset,
                output_multiplier, -output_shift, output_offset, act_min, act_max);
            } else {
              addRowExact(x2, x1, output, n, input2_offset, input2_multiplier, -input2_shift, input1_offset,
                output_multiplier, -output_shift, output_offset, act_min, act_max);
            }
            output += n;
          }
        }
      }
      return;
    }
    if (n >= 8 && (input2_sign == 1 || input2_sign == -1) && input1_shift <= 0 && input2_shift <= 0 &&
        -256 <= input1_offset && input1_offset <= 256 &&
        -256 <= input2_offset && input2_offset <= 256 && output_multiplier != i32.MIN_VALUE &&
        -128 <= act_min && act_min <= act_max && act_max <= 127) {
      const vectorN = n & ~7;
      const rs1 = -input1_shift, rs2 = -input2_shift;
      const lso = output_shift > 0 ? output_shift : 0, rso = output_shift > 0 ? 0 : -output_shift;
      const mask1 = <i32>((<i64>1 << rs1) - 1), mask2 = <i32>((<i64>1 << rs2) - 1);
      const masko = <i32>((<i64>1 << rso) - 1);
      const mask1V = i32x4.splat(mask1), half1V = i32x4.splat(mask1 >> 1);
      const mask2V = i32x4.splat(mask2), half2V = i32x4.splat(mask2 >> 1);
      const maskoV = i32x4.splat(masko), halfoV = i32x4.splat(masko >> 1);
      const m1High = i32x4.splat(input1_multiplier >> 11), m1Low = i32x4.splat(input1_multiplier & 0x7ff);
      const m2High = i32x4.splat(input2_multiplier >> 11), m2Low = i32x4.splat(input2_multiplier & 0x7ff);
      const mo = i32x4.splat(output_multiplier);
      const off1 = i32x4.splat(input1_offset), off2 = i32x4.splat(input2_offset);
      // -s2 as (s2 ^ -1) + 1: the same wrapping value as the C kernel's -1 * s2, without a vector multiply.
      const flip = i32x4.splat(input2_sign < 0 ? -1 : 0), outOff = i32x4.splat(output_offset);
      const lo = i32x4.splat(act_min), hi = i32x4.splat(act_max);
      for (let i0 = 0; i0 < d0; ++i0) {
        for (let i1 = 0; i1 < d1; ++i1) {
          for (let i2 = 0; i2 < d2; ++i2) {
            const x1 = input1 + i0 * a0 + i1 * a1 + i2 * a2;
            const x2 = input2 + i0 * b0 + i1 * b1 + i2 * b2;
            // A broadcast operand's rescaled value is the scalar one, splat.
            const s1b = i32x4.splat(addRescale(load<i8>(x1), input1_offset, input1_multiplier, input1_shift));
            const s2b = i32x4.splat(addRescale(load<i8>(x2), input2_offset, input2_multiplier, input2_shift));
            for (let c = 0; c < vectorN; c += 8) {
              let s1lo = s1b, s1hi = s1b, s2lo = s2b, s2hi = s2b;
              if (!broadcast1) {
                const v = v128.load8x8_s(x1 + c);
                s1lo = addRescale4(i32x4.extend_low_i16x8_s(v), off1, m1High, m1Low, rs1, mask1V, half1V);
                s1hi = addRescale4(i32x4.extend_high_i16x8_s(v), off1, m1High, m1Low, rs1, mask1V, half1V);
              }
              if (!broadcast2) {
                const v = v128.load8x8_s(x2 + c);
                s2lo = addRescale4(i32x4.extend_low_i16x8_s(v), off2, m2High, m2Low, rs2, mask2V, half2V);
                s2hi = addRescale4(i32x4.extend_high_i16x8_s(v), off2, m2High, m2Low, rs2, mask2V, half2V);
              }
              const sumLo = i32x4.add(s1lo, i32x4.sub(v128.xor(s2lo, flip), flip));
              const sumHi = i32x4.add(s1hi, i32x4.sub(v128.xor(s2hi, flip), flip));
              let ylo = multiplyByQuantizedMultiplier4(sumLo, mo, lso, rso, maskoV, halfoV);
              let yhi = multiplyByQuantizedMultiplier4(sumHi, mo, lso, rso, maskoV, halfoV);
              ylo = i32x4.min_s(i32x4.max_s(i32x4.add(ylo, outOff), lo), hi);
              yhi = i32x4.min_s(i32x4.max_s(i32x4.add(yhi, outOff), lo), hi);
              const y16 = i16x8.narrow_i32x4_s(ylo, yhi);
              v128.store64_lane(output + c, i8x16.narrow_i16x8_s(y16, y16), 0);
            }
            addRow(x1, x2, output, vectorN, n, broadcast1, broadcast2, input1_offset, input1_multiplier, input1_shift,
                   input2_offset, input2_multiplier, input2_shift, input2_sign, output_multiplier, output_shift,
                   output_offset, act_min, act_max);
            output += n;
          }
        }
      }
      return;
    }
  }
  for (let i0 = 0; i0 < d0; ++i0) {
    for (let i1 = 0; i1 < d1; ++i1) {
      for (let i2 = 0; i2 < d2; ++i2) {
        addRow(input1 + i0 * a0 + i1 * a1 + i2 * a2, input2 + i0 * b0 + i1 * b1 + i2 * b2, output, 0, n, broadcast1,
               broadcast2, input1_offset, input1_multiplier, input1_shift, input2_offset, input2_multiplier,
               input2_shift, input2_sign, output_multiplier, output_shift, output_offset, act_min, act_max);
        output += n;
      }
    }
  }
}
