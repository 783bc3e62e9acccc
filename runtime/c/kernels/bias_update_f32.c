/*
 * SGD step of an int32 bias with Quantization-Aware Scaling (compiler/ops/train/parameter_update.ts): the channel's
 * gradient summed over the pixels (in pixel order), times the learning rate, times inv_scale[c] = 1 / (s_x * s_w[c])
 * (the bias's own units), rounded half to even and subtracted with saturation.
 */
#include "tf_kernels.h"
#include "tf_float32.h"

/* One channel's step from its gradient sum. */
static inline void update_bias(int32_t *bias, float sum, float rate, float inv_scale) {
  *bias = tf_saturating_sub_int32(*bias, tf_round_half_even_to_int32(rate * sum * inv_scale));
}

void bias_update_f32(const float *dy, int32_t *bias, const float *inv_scale, const float *lr, int32_t pixels,
                     int32_t channels) {
  const float rate = lr[0];
  int32_t c = 0;
  /* Four channels' sums side by side, each still in pixel order. */
  for (; c + 4 <= channels; c += 4) {
    const float *g = dy + c;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    for (int32_t p = 0; p < pixels; ++p, g += channels) {
      s0 += g[0];
      s1 += g[1];
      s2 += g[2];
      s3 += g[3];
    }
    update_bias(&bias[c], s0, rate, inv_scale[c]);
    update_bias(&bias[c + 1], s1, rate, inv_scale[c + 1]);
    update_bias(&bias[c + 2], s2, rate, inv_scale[c + 2]);
    update_bias(&bias[c + 3], s3, rate, inv_scale[c + 3]);
  }
  for (; c < channels; ++c) {
    const float *g = dy + c;
    float sum = 0.0f;
    for (int32_t p = 0; p < pixels; ++p, g += channels) sum += *g;
    update_bias(&bias[c], sum, rate, inv_scale[c]);
  }
}
