/*
 * QUANTIZE float32 -> int8 (TFLM reference_ops::AffineQuantize): round(x / scale) in float32, halves
 * away from zero, plus the zero point, clamped to int8. The scale arrives as the bits of a float32.
 * Quotients of magnitude >= 256 saturate (TFLM's float -> int32 conversion is undefined past 2^31);
 * NaN gives the zero point.
 */
#include <string.h>
#include "tf_kernels.h"

void quantize_f32_s8(const float *input, int8_t *output, int32_t size, int32_t scale_bits, int32_t zero_point) {
  float scale;
  const uint32_t bits = (uint32_t)scale_bits;
  memcpy(&scale, &bits, sizeof scale);
  for (int32_t i = 0; i < size; ++i) {
    const float v = input[i] / scale;
    int32_t q;
    if (v >= 256.0f) {
      q = 256;
    } else if (v <= -256.0f) {
      q = -256;
    } else if (v == v) {
      /* roundf without libm: |v| < 256, so the truncation and v - q are exact. */
      q = (int32_t)v;
      const float frac = v - (float)q;
      if (frac >= 0.5f) {
        q += 1;
      } else if (frac <= -0.5f) {
        q -= 1;
      }
    } else {
      q = 0;
    }
    output[i] = (int8_t)tf_clamp(q + zero_point, -128, 127);
  }
}
