/*
 * DEQUANTIZE int8 -> float32 (TFLM reference_ops::Dequantize): scale * (q - zero_point) in float32.
 * The scale arrives as the bits of a float32.
 */
#include <string.h>
#include "tf_kernels.h"

void dequantize_s8_f32(const int8_t *input, float *output, int32_t size, int32_t scale_bits, int32_t zero_point) {
  float scale;
  const uint32_t bits = (uint32_t)scale_bits;
  memcpy(&scale, &bits, sizeof scale);
  for (int32_t i = 0; i < size; ++i) output[i] = scale * (float)((int32_t)input[i] - zero_point);
}
