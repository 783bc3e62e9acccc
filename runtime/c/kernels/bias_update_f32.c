/*
 * SGD step of an int32 bias with Quantization-Aware Scaling (compiler/ops/train/parameter_update.ts): the channel's
 * gradient summed over the pixels (in pixel order), times the learning rate, times inv_scale[c] = 1 / (s_x * s_w[c])
 * (the bias's own units), rounded half to even and subtracted with saturation.
 */
#include "tf_kernels.h"
#include "tf_float32.h"

void bias_update_f32(const float *dy, int32_t *bias, const float *inv_scale, const float *lr, int32_t pixels,
                     int32_t channels) {
  const float rate = lr[0];
  for (int32_t c = 0; c < channels; ++c) {
    const float *g = dy + c;
    float sum = 0.0f;
    for (int32_t p = 0; p < pixels; ++p, g += channels) sum += *g;
    bias[c] = tf_saturating_sub_int32(bias[c], tf_round_half_even_to_int32(rate * sum * inv_scale[c]));
  }
}
