/*
 * ADD and SUB, int8 (TFLM reference_integer_ops::AddFunc, reference_ops::SubElementwise), broadcast, as
 * runtime/c/kernels/add_s8.c. Each input is rescaled to a common scale, s_i = MBQM((x_i + offset_i) << 20,
 * M_i, shift_i), then y = clamp(MBQM(s1 + sign * s2, M_out, shift_out) + out_offset, act_min, act_max); sign
 * is -1 for SUB (applied after rounding, as TFLM subtracts the rescaled values). Same int32/int64 arithmetic
 * as the C kernel (fixed_point.ts), so bit-exact.
 *
 * The compiler merges the output dimensions into a 4-level loop nest dims[4] whose per-level input strides
 * are strides1 / strides2 (0 where an input is broadcast). In the innermost level each input is read
 * contiguously or not at all, so a broadcast input is rescaled once per row.
 */
import { multiplyByQuantizedMultiplier, clamp } from "../fixed_point";

// @ts-ignore: decorator
@inline
function addRescale(x: i32, offset: i32, multiplier: i32, shift: i32): i32 {
  return multiplyByQuantizedMultiplier((x + offset) << 20, multiplier, shift);
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
  for (let i0 = 0; i0 < d0; ++i0) {
    for (let i1 = 0; i1 < d1; ++i1) {
      for (let i2 = 0; i2 < d2; ++i2) {
        const x1 = input1 + i0 * a0 + i1 * a1 + i2 * a2;
        const x2 = input2 + i0 * b0 + i1 * b1 + i2 * b2;
        if (broadcast1) {
          const s1 = addRescale(load<i8>(x1), input1_offset, input1_multiplier, input1_shift);
          for (let c = 0; c < n; ++c) {
            const s2 = addRescale(load<i8>(x2 + c), input2_offset, input2_multiplier, input2_shift);
            const y = multiplyByQuantizedMultiplier(s1 + input2_sign * s2, output_multiplier, output_shift);
            store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
          }
        } else if (broadcast2) {
          const s2 = input2_sign * addRescale(load<i8>(x2), input2_offset, input2_multiplier, input2_shift);
          for (let c = 0; c < n; ++c) {
            const s1 = addRescale(load<i8>(x1 + c), input1_offset, input1_multiplier, input1_shift);
            const y = multiplyByQuantizedMultiplier(s1 + s2, output_multiplier, output_shift);
            store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
          }
        } else {
          for (let c = 0; c < n; ++c) {
            const s1 = addRescale(load<i8>(x1 + c), input1_offset, input1_multiplier, input1_shift);
            const s2 = addRescale(load<i8>(x2 + c), input2_offset, input2_multiplier, input2_shift);
            const y = multiplyByQuantizedMultiplier(s1 + input2_sign * s2, output_multiplier, output_shift);
            store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
          }
        }
        output += n;
      }
    }
  }
}
