/*
 * MUL, int8 (TFLM reference_integer_ops::MulElementwise / BroadcastMul6DSlow), broadcast:
 * y = clamp(MBQM((x1 + input1_offset) * (x2 + input2_offset), M, shift) + output_offset, act_min, act_max).
 * Same 4-level broadcast loop nest as add_s8: in the innermost level each input is read contiguously
 * (stride 1) or not at all (stride 0), so a broadcast operand is loaded once per row.
 */
#include "tf_kernels.h"

void mul_s8(const int8_t *input1, const int8_t *input2, int8_t *output, const int32_t *dims, const int32_t *strides1,
            const int32_t *strides2, int32_t input1_offset, int32_t input2_offset, int32_t output_multiplier,
            int32_t output_shift, int32_t output_offset, int32_t act_min, int32_t act_max) {
  const int32_t n = dims[3];
  /* Innermost input strides: 1 (read contiguously) or 0 (broadcast). */
  const int32_t step1 = strides1[3];
  const int32_t step2 = strides2[3];
  for (int32_t i0 = 0; i0 < dims[0]; ++i0) {
    for (int32_t i1 = 0; i1 < dims[1]; ++i1) {
      for (int32_t i2 = 0; i2 < dims[2]; ++i2) {
        const int8_t *x1 = input1 + i0 * strides1[0] + i1 * strides1[1] + i2 * strides1[2];
        const int8_t *x2 = input2 + i0 * strides2[0] + i1 * strides2[1] + i2 * strides2[2];
        if (step1 == 0) {
          const int32_t a = x1[0] + input1_offset;
          for (int32_t c = 0; c < n; ++c) {
            const int32_t y = tf_multiply_by_quantized_multiplier(a * (x2[c] + input2_offset), output_multiplier, output_shift);
            output[c] = (int8_t)tf_clamp(y + output_offset, act_min, act_max);
          }
        } else if (step2 == 0) {
          const int32_t b = x2[0] + input2_offset;
          for (int32_t c = 0; c < n; ++c) {
            const int32_t y = tf_multiply_by_quantized_multiplier((x1[c] + input1_offset) * b, output_multiplier, output_shift);
            output[c] = (int8_t)tf_clamp(y + output_offset, act_min, act_max);
          }
        } else {
          for (int32_t c = 0; c < n; ++c) {
            const int32_t y = tf_multiply_by_quantized_multiplier((x1[c] + input1_offset) * (x2[c] + input2_offset),
                                                                  output_multiplier, output_shift);
            output[c] = (int8_t)tf_clamp(y + output_offset, act_min, act_max);
          }
        }
        output += n;
      }
    }
  }
}
