/*
 * MUL, int8 (TFLM reference_integer_ops::MulElementwise / BroadcastMul6DSlow), broadcast, as
 * runtime/c/kernels/mul_s8.c: y = clamp(MBQM((x1 + input1_offset) * (x2 + input2_offset), M, shift)
 * + output_offset, act_min, act_max). Same int32/int64 arithmetic as the C kernel, so bit-exact.
 * Same 4-level broadcast loop nest as add_s8: in the innermost level each input is read contiguously
 * (stride 1) or not at all (stride 0), so a broadcast operand is loaded once per row.
 */
import { multiplyByQuantizedMultiplier, clamp } from "../fixed_point";

export function mul_s8(input1: usize, input2: usize, output: usize, dims: usize, strides1: usize, strides2: usize,
                       input1_offset: i32, input2_offset: i32, output_multiplier: i32, output_shift: i32,
                       output_offset: i32, act_min: i32, act_max: i32): void {
  const d0 = load<i32>(dims), d1 = load<i32>(dims, 4), d2 = load<i32>(dims, 8), n = load<i32>(dims, 12);
  const a0 = load<i32>(strides1), a1 = load<i32>(strides1, 4), a2 = load<i32>(strides1, 8);
  const b0 = load<i32>(strides2), b1 = load<i32>(strides2, 4), b2 = load<i32>(strides2, 8);
  const step1 = load<i32>(strides1, 12);
  const step2 = load<i32>(strides2, 12);
  for (let i0 = 0; i0 < d0; ++i0) {
    for (let i1 = 0; i1 < d1; ++i1) {
      for (let i2 = 0; i2 < d2; ++i2) {
        const x1 = input1 + i0 * a0 + i1 * a1 + i2 * a2;
        const x2 = input2 + i0 * b0 + i1 * b1 + i2 * b2;
        if (step1 == 0) {
          const a = <i32>load<i8>(x1) + input1_offset;
          for (let c = 0; c < n; ++c) {
            const y = multiplyByQuantizedMultiplier(a * (<i32>load<i8>(x2 + c) + input2_offset), output_multiplier,
                                                    output_shift);
            store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
          }
        } else if (step2 == 0) {
          const b = <i32>load<i8>(x2) + input2_offset;
          for (let c = 0; c < n; ++c) {
            const y = multiplyByQuantizedMultiplier((<i32>load<i8>(x1 + c) + input1_offset) * b, output_multiplier,
                                                    output_shift);
            store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
          }
        } else {
          for (let c = 0; c < n; ++c) {
            const y = multiplyByQuantizedMultiplier((<i32>load<i8>(x1 + c) + input1_offset) *
                                                    (<i32>load<i8>(x2 + c) + input2_offset),
                                                    output_multiplier, output_shift);
            store<i8>(output + c, clamp(y + output_offset, act_min, act_max));
          }
        }
        output += n;
      }
    }
  }
}
