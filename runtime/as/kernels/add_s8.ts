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
 * With SIMD, rows are done 8 elements at a time with the same MBQM in int32x4 lanes: the doubling high
 * multiply is gemmlowp's (ab + nudge) / 2^31, which equals (ab + 2^30) >> 31 for every product (for ab < 0,
 * trunc((ab + 1 - 2^30) / 2^31) = floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31)), computed in int64x2 lanes; only
 * a = b = INT32_MIN saturates, so the vector path requires multipliers != INT32_MIN (the compiler's are in
 * [2^30, 2^31)). The rounding shift is rounding_divide_by_pot lane by lane, and the clamp becomes
 * max_s/min_s, equal to the scalar clamp when -128 <= act_min <= act_max <= 127 (always true of the compiler's
 * activation range; the vector path checks it).
 */
import { multiplyByQuantizedMultiplier, clamp } from "../fixed_point";

// @ts-ignore: decorator
@inline
function addRescale(x: i32, offset: i32, multiplier: i32, shift: i32): i32 {
  return multiplyByQuantizedMultiplier((x + offset) << 20, multiplier, shift);
}

// MBQM of 4 int32 lanes; multiplier is splat, mask = (1 << rightShift) - 1 and halfMask = mask >> 1 are splat.
// @ts-ignore: decorator
@inline
function multiplyByQuantizedMultiplier4(x: v128, multiplier: v128, leftShift: i32, rightShift: i32, mask: v128,
                                        halfMask: v128): v128 {
  const a = i32x4.shl(x, leftShift);
  const round = i64x2.splat(1 << 30);
  // Bits 31..62 of ab + 2^30, i.e. the low 32 bits of (ab + 2^30) >> 31.
  const lo = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(a, multiplier), round), 31);
  const hi = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(a, multiplier), round), 31);
  const h = i8x16.shuffle(lo, hi, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
  // (h >> e) + ((h & mask) > halfMask + (h < 0)); true comparisons are -1.
  const threshold = i32x4.sub(halfMask, i32x4.shr_s(h, 31));
  return i32x4.sub(i32x4.shr_s(h, rightShift), i32x4.gt_s(v128.and(h, mask), threshold));
}

// Rescale of 4 int8 inputs (already widened to int32 lanes): MBQM((x + offset) << 20, ...).
// @ts-ignore: decorator
@inline
function addRescale4(x: v128, offset: v128, multiplier: v128, leftShift: i32, rightShift: i32, mask: v128,
                     halfMask: v128): v128 {
  return multiplyByQuantizedMultiplier4(i32x4.shl(i32x4.add(x, offset), 20), multiplier, leftShift, rightShift,
                                        mask, halfMask);
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
    if (n >= 8 && input1_multiplier != i32.MIN_VALUE && input2_multiplier != i32.MIN_VALUE &&
        output_multiplier != i32.MIN_VALUE && -128 <= act_min && act_min <= act_max && act_max <= 127) {
      const vectorN = n & ~7;
      const ls1 = input1_shift > 0 ? input1_shift : 0, rs1 = input1_shift > 0 ? 0 : -input1_shift;
      const ls2 = input2_shift > 0 ? input2_shift : 0, rs2 = input2_shift > 0 ? 0 : -input2_shift;
      const lso = output_shift > 0 ? output_shift : 0, rso = output_shift > 0 ? 0 : -output_shift;
      const mask1 = <i32>((<i64>1 << rs1) - 1), mask2 = <i32>((<i64>1 << rs2) - 1);
      const masko = <i32>((<i64>1 << rso) - 1);
      const mask1V = i32x4.splat(mask1), half1V = i32x4.splat(mask1 >> 1);
      const mask2V = i32x4.splat(mask2), half2V = i32x4.splat(mask2 >> 1);
      const maskoV = i32x4.splat(masko), halfoV = i32x4.splat(masko >> 1);
      const m1 = i32x4.splat(input1_multiplier), m2 = i32x4.splat(input2_multiplier);
      const mo = i32x4.splat(output_multiplier);
      const off1 = i32x4.splat(input1_offset), off2 = i32x4.splat(input2_offset);
      const sign = i32x4.splat(input2_sign), outOff = i32x4.splat(output_offset);
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
                s1lo = addRescale4(i32x4.extend_low_i16x8_s(v), off1, m1, ls1, rs1, mask1V, half1V);
                s1hi = addRescale4(i32x4.extend_high_i16x8_s(v), off1, m1, ls1, rs1, mask1V, half1V);
              }
              if (!broadcast2) {
                const v = v128.load8x8_s(x2 + c);
                s2lo = addRescale4(i32x4.extend_low_i16x8_s(v), off2, m2, ls2, rs2, mask2V, half2V);
                s2hi = addRescale4(i32x4.extend_high_i16x8_s(v), off2, m2, ls2, rs2, mask2V, half2V);
              }
              let ylo = multiplyByQuantizedMultiplier4(i32x4.add(s1lo, i32x4.mul(sign, s2lo)), mo, lso, rso, maskoV,
                                                       halfoV);
              let yhi = multiplyByQuantizedMultiplier4(i32x4.add(s1hi, i32x4.mul(sign, s2hi)), mo, lso, rso, maskoV,
                                                       halfoV);
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
