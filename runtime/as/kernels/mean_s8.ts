/*
 * MEAN, int8 (TFLM reference_ops::Mean / QuantizedMeanOrSum), as runtime/c/kernels/mean_s8.c. The compiler
 * merges the input dimensions into 3 kept levels (outer, in output order) and 3 reduced levels (inner),
 * dims[6] / strides[6] in input elements, so each output is summed in a register and written once, in order.
 * requantize == 0 (equal input/output quantization): y = sum / count, truncating like TFLM.
 * requantize == 1: y = sat8(MBQM(sum + offset_sum, multiplier, shift) + output_zero_point), where
 * offset_sum = -input_zero_point * count and 1/count is already folded into multiplier/shift.
 * Same int32 sums and fixed-point functions as the C kernel, so bit-exact.
 */
import { multiplyByQuantizedMultiplier, clamp } from "../fixed_point";

export function mean_s8(input: usize, output: usize, dims: usize, strides: usize, count: i32, requantize: i32,
                        offset_sum: i32, multiplier: i32, shift: i32, output_zero_point: i32): void {
  const k0n = load<i32>(dims), k1n = load<i32>(dims, 4), k2n = load<i32>(dims, 8);
  const r0n = load<i32>(dims, 12), r1n = load<i32>(dims, 16), r2n = load<i32>(dims, 20);
  const k0s = load<i32>(strides), k1s = load<i32>(strides, 4), k2s = load<i32>(strides, 8);
  const r0s = load<i32>(strides, 12), r1s = load<i32>(strides, 16), r2s = load<i32>(strides, 20);
  for (let k0 = 0; k0 < k0n; ++k0) {
    for (let k1 = 0; k1 < k1n; ++k1) {
      for (let k2 = 0; k2 < k2n; ++k2) {
        const base = input + k0 * k0s + k1 * k1s + k2 * k2s;
        let acc = 0;
        for (let r0 = 0; r0 < r0n; ++r0) {
          for (let r1 = 0; r1 < r1n; ++r1) {
            let p = base + r0 * r0s + r1 * r1s;
            for (let r2 = 0; r2 < r2n; ++r2) {
              acc += <i32>load<i8>(p);
              p += r2s;
            }
          }
        }
        let y: i32;
        if (requantize) {
          y = clamp(multiplyByQuantizedMultiplier(acc + offset_sum, multiplier, shift) + output_zero_point, -128, 127);
        } else {
          y = acc / count;
        }
        store<i8>(output, y);
        output += 1;
      }
    }
  }
}
