/*
 * SGD step of the bias of a layer whose weights stay frozen, kept only inside its folded bias
 * (compiler/ops/train/parameter_update.ts): bias = folded[c] - offset_sum[c]; the step is bias_update_f32's;
 * the new bias is clamped to ±limit[c] (so the int32 accumulator cannot overflow) and folded back.
 */
#include "tf_kernels.h"
#include "tf_float32.h"

void folded_bias_update_f32(const float *dy, int32_t *folded, const float *inv_scale,
                            const int32_t *offset_sum, const int32_t *limit, const float *lr, int32_t pixels,
                            int32_t channels) {
  const float rate = lr[0];
  for (int32_t c = 0; c < channels; ++c) {
    const float *g = dy + c;
    float sum = 0.0f;
    for (int32_t p = 0; p < pixels; ++p, g += channels) sum += *g;
    const int64_t step = tf_round_half_even_to_int32(rate * sum * inv_scale[c]);
    int64_t bias = (int64_t)folded[c] - offset_sum[c] - step;
    if (bias > limit[c]) bias = limit[c];
    if (bias < -(int64_t)limit[c]) bias = -(int64_t)limit[c];
    folded[c] = (int32_t)(bias + offset_sum[c]);
  }
}
