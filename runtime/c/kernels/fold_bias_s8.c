/*
 * Computes what a trained layer's forward kernel reads from its current parameters (compiler/ops/train/fold_bias.ts,
 * and compiler/ops/common/bias.ts at compile time): the bias clamped to +-(2^31 - 1 - sum|w| * max_input) so that the
 * int32 accumulator cannot overflow (`saturated`, depthwise layers only, else NULL), and the folded bias,
 * that bias + input_offset * sum(w). Conv / fully connected rows are w[c * taps + t]; depthwise channels w[t * channels + c].
 * A layer whose partial update split its weights (split_conv1x1_s8) has the first `keep` taps of row c at
 * w[c * keep + t] and the others at w_tail[c * (taps - keep) + t - keep]; else w_tail is NULL and keep == taps.
 * 64-bit arithmetic, stored modulo 2^32 like the reference's Int32Array.
 */
#include "tf_kernels.h"

static inline void fold_bias_sums(const int8_t *v, int32_t count, int32_t step, int32_t *sum, int64_t *sum_abs) {
  for (int32_t t = 0; t < count; ++t, v += step) {
    *sum += *v;
    *sum_abs += *v < 0 ? -*v : *v;
  }
}

void fold_bias_s8(const int8_t *w, const int8_t *w_tail, const int32_t *bias, int32_t *saturated, int32_t *folded,
                  int32_t channels, int32_t taps, int32_t depthwise, int32_t input_offset, int32_t max_input,
                  int32_t keep) {
  const int32_t rest = taps - keep;
  for (int32_t c = 0; c < channels; ++c) {
    int32_t sum = 0;
    int64_t sum_abs = 0, limit, b;
    if (depthwise) {
      fold_bias_sums(w + c, taps, channels, &sum, &sum_abs);
    } else {
      fold_bias_sums(w + c * keep, keep, 1, &sum, &sum_abs);
      if (rest > 0) fold_bias_sums(w_tail + c * rest, rest, 1, &sum, &sum_abs);
    }
    limit = INT32_MAX - sum_abs * max_input;
    b = bias[c] < -limit ? -limit : bias[c];
    if (b > limit) b = limit;
    if (saturated) saturated[c] = (int32_t)(uint32_t)b;
    folded[c] = (int32_t)(uint32_t)(b + (int64_t)input_offset * sum);
  }
}
