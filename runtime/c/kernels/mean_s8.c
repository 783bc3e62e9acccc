/*
 * MEAN, int8 (TFLM reference_ops::Mean / QuantizedMeanOrSum). The compiler merges the input dimensions
 * into 3 kept levels (outer, in output order) and 3 reduced levels (inner), dims[6] / strides[6] in input
 * elements, so each output is summed in a register and written once, in order, without scratch memory.
 * requantize == 0 (equal input/output quantization): y = sum / count, truncating like TFLM.
 * requantize == 1: y = sat8(MBQM(sum + offset_sum, multiplier, shift) + output_zero_point), where
 * offset_sum = -input_zero_point * count and 1/count is already folded into multiplier/shift.
 */
#include "tf_kernels.h"

void mean_s8(const int8_t *input, int8_t *output, const int32_t *dims, const int32_t *strides, int32_t count,
             int32_t requantize, int32_t offset_sum, int32_t multiplier, int32_t shift, int32_t output_zero_point) {
  const int32_t r0n = dims[3], r1n = dims[4], r2n = dims[5];
  const int32_t r0s = strides[3], r1s = strides[4], r2s = strides[5];
  for (int32_t k0 = 0; k0 < dims[0]; ++k0) {
    for (int32_t k1 = 0; k1 < dims[1]; ++k1) {
      for (int32_t k2 = 0; k2 < dims[2]; ++k2) {
        const int8_t *base = input + k0 * strides[0] + k1 * strides[1] + k2 * strides[2];
        int32_t acc = 0;
        for (int32_t r0 = 0; r0 < r0n; ++r0) {
          for (int32_t r1 = 0; r1 < r1n; ++r1) {
            const int8_t *p = base + r0 * r0s + r1 * r1s;
            for (int32_t r2 = 0; r2 < r2n; ++r2) {
              acc += *p;
              p += r2s;
            }
          }
        }
        int32_t y;
        if (requantize) {
          y = tf_multiply_by_quantized_multiplier(acc + offset_sum, multiplier, shift) + output_zero_point;
          y = tf_clamp(y, -128, 127);
        } else {
          y = acc / count;
        }
        *output++ = (int8_t)y;
      }
    }
  }
}
