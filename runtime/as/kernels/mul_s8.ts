/*
 * MUL, int8 (TFLM reference_integer_ops::MulElementwise / BroadcastMul6DSlow), broadcast, as
 * runtime/c/kernels/mul_s8.c: y = clamp(MBQM((x1 + input1_offset) * (x2 + input2_offset), M, shift)
 * + output_offset, act_min, act_max). The scalar path is the C kernel's arithmetic (fixed_point.ts).
 * Same 4-level broadcast loop nest as add_s8: in the innermost level each input is read contiguously
 * (stride 1) or not at all (stride 0), so a broadcast operand is loaded once per row.
 *
 * With SIMD, rows are done 8 elements at a time with the same MBQM in int32x4 lanes. x + offset is formed in
 * int16 lanes (exact: the vector path checks |offset| <= 256; the compiler's offsets are -zero_point) and the
 * product widened to int32. The doubling high multiply is gemmlowp's (ab + nudge) / 2^31, which equals
 * (ab + 2^30) >> 31 for every product (for ab < 0, trunc((ab + 1 - 2^30) / 2^31)
 * = floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31)), computed in int64x2 lanes; only
 * a = b = INT32_MIN saturates, so the vector path requires output_multiplier != INT32_MIN (the compiler's are
 * in [2^30, 2^31)). The rounding shift is rounding_divide_by_pot lane by lane, and the clamp becomes
 * max_s/min_s, equal to the scalar clamp when -128 <= act_min <= act_max <= 127 (always true of the compiler's
 * activation range; the vector path checks it).
 */
import { clamp, multiplyByQuantizedMultiplier, multiplyByQuantizedMultiplier4 } from "../fixed_point";

// Output elements [c, n) of one row, as the C kernel computes them.
// @ts-ignore: decorator
@inline
function mulRow(x1: usize, x2: usize, output: usize, c: i32, n: i32, step1: i32, step2: i32, input1_offset: i32,
                input2_offset: i32, output_multiplier: i32, output_shift: i32, output_offset: i32, act_min: i32,
                act_max: i32): void {
  if (step1 == 0) {
    const a = <i32>load<i8>(x1) + input1_offset;
    for (; c < n; ++c) {
      const y = multiplyByQuantizedMultiplier(a * (<i32>load<i8>(x2 + c) + input2_offset), output_multiplier,
                                              output_shift);
      store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
    }
  } else if (step2 == 0) {
    const b = <i32>load<i8>(x2) + input2_offset;
    for (; c < n; ++c) {
      const y = multiplyByQuantizedMultiplier((<i32>load<i8>(x1 + c) + input1_offset) * b, output_multiplier,
                                              output_shift);
      store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
    }
  } else {
    for (; c < n; ++c) {
      const y = multiplyByQuantizedMultiplier((<i32>load<i8>(x1 + c) + input1_offset) *
                                              (<i32>load<i8>(x2 + c) + input2_offset), output_multiplier,
                                              output_shift);
      store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
    }
  }
}

export function mul_s8(input1: usize, input2: usize, output: usize, dims: usize, strides1: usize, strides2: usize,
                       input1_offset: i32, input2_offset: i32, output_multiplier: i32, output_shift: i32,
                       output_offset: i32, act_min: i32, act_max: i32): void {
  const d0 = load<i32>(dims), d1 = load<i32>(dims, 4), d2 = load<i32>(dims, 8), n = load<i32>(dims, 12);
  const a0 = load<i32>(strides1), a1 = load<i32>(strides1, 4), a2 = load<i32>(strides1, 8);
  const b0 = load<i32>(strides2), b1 = load<i32>(strides2, 4), b2 = load<i32>(strides2, 8);
  const step1 = load<i32>(strides1, 12);
  const step2 = load<i32>(strides2, 12);
  if (ASC_FEATURE_SIMD) {
    if (n >= 8 && output_multiplier != i32.MIN_VALUE && input1_offset >= -256 && input1_offset <= 256 &&
        input2_offset >= -256 && input2_offset <= 256 && -128 <= act_min && act_min <= act_max && act_max <= 127) {
      const vectorN = n & ~7;
      const ls = output_shift > 0 ? output_shift : 0, rs = output_shift > 0 ? 0 : -output_shift;
      const mask = <i32>((<i64>1 << rs) - 1);
      const maskV = i32x4.splat(mask), halfV = i32x4.splat(mask >> 1), m = i32x4.splat(output_multiplier);
      const off1 = i16x8.splat(<i16>input1_offset), off2 = i16x8.splat(<i16>input2_offset);
      const outOff = i32x4.splat(output_offset), lo = i32x4.splat(act_min), hi = i32x4.splat(act_max);
      for (let i0 = 0; i0 < d0; ++i0) {
        for (let i1 = 0; i1 < d1; ++i1) {
          for (let i2 = 0; i2 < d2; ++i2) {
            const x1 = input1 + i0 * a0 + i1 * a1 + i2 * a2;
            const x2 = input2 + i0 * b0 + i1 * b1 + i2 * b2;
            // A broadcast operand is splat.
            const b1 = i16x8.splat(<i16>(<i32>load<i8>(x1) + input1_offset));
            const b2 = i16x8.splat(<i16>(<i32>load<i8>(x2) + input2_offset));
            for (let c = 0; c < vectorN; c += 8) {
              const v1 = step1 == 0 ? b1 : i16x8.add(v128.load8x8_s(x1 + c), off1);
              const v2 = step2 == 0 ? b2 : i16x8.add(v128.load8x8_s(x2 + c), off2);
              let ylo = multiplyByQuantizedMultiplier4(i32x4.extmul_low_i16x8_s(v1, v2), m, ls, rs, maskV, halfV);
              let yhi = multiplyByQuantizedMultiplier4(i32x4.extmul_high_i16x8_s(v1, v2), m, ls, rs, maskV, halfV);
              ylo = i32x4.min_s(i32x4.max_s(i32x4.add(ylo, outOff), lo), hi);
              yhi = i32x4.min_s(i32x4.max_s(i32x4.add(yhi, outOff), lo), hi);
              const y16 = i16x8.narrow_i32x4_s(ylo, yhi);
              v128.store64_lane(output + c, i8x16.narrow_i16x8_s(y16, y16), 0);
            }
            mulRow(x1, x2, output, vectorN, n, step1, step2, input1_offset, input2_offset, output_multiplier,
                   output_shift, output_offset, act_min, act_max);
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
        mulRow(input1 + i0 * a0 + i1 * a1 + i2 * a2, input2 + i0 * b0 + i1 * b1 + i2 * b2, output, 0, n, step1,
               step2, input1_offset, input2_offset, output_multiplier, output_shift, output_offset, act_min, act_max);
        output += n;
      }
    }
  }
}
