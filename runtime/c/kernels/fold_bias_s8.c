/*
 * Computes what a trained layer's forward kernel reads from its current parameters (compiler/ops/train/fold_bias.ts,
 * and compiler/ops/common/bias.ts at compile time): the bias clamped to +-(2^31 - 1 - sum|w| * max_input) so that the
 * int32 accumulator cannot overflow (`saturated`, depthwise layers only, else NULL), and the folded bias,
 * that bias + input_offset * sum(w). Conv / fully connected rows are w[c * keep + t]; depthwise channels
 * w[t * channels + c]. The weights that do not train are summed at compile time: tail_sum[c] and tail_abs[c] (else
 * NULL) hold the sum and sum of magnitudes of a split layer's frozen rest (split_conv1x1_s8: w has only the first
 * `keep` taps of each row), or of all of a frozen layer's weights (keep 0, w NULL).
 * The sums fit int32 (|w| <= 128 per tap); the bound is computed in 64 bits, and the folded bias is stored modulo
 * 2^32 like the reference's Int32Array.
 */
#include "tf_kernels.h"

void fold_bias_s8(const int8_t *w, const int32_t *tail_sum, const int32_t *tail_abs, const int32_t *bias,
                  int32_t *saturated, int32_t *folded, int32_t channels, int32_t keep, int32_t depthwise,
                  int32_t input_offset, int32_t max_input) {
  const int32_t step = depthwise ? channels : 1;
  for (int32_t c = 0; c < channels; ++c) {
    const int8_t *v = depthwise ? w + c : w + c * keep;
    int32_t sum = tail_sum ? tail_sum[c] : 0;
    int32_t sum_abs = tail_abs ? tail_abs[c] : 0;
    int32_t t = 0;
    /* Integer sums: any order gives the same, so four taps at a time. */
#ifdef TF_DSP
    if (step == 1) {
      /* Biased by 128, each byte x is x + 128 unsigned: USADA8 sums x + 128 against 0 and |x| against 128. */
      uint32_t biased = 0, magnitudes = 0;
      for (; t + 4 <= keep; t += 4, v += 4) {
        const uint32_t u = tf_load_s8x4(v) ^ 0x80808080u;
        biased = __usada8(u, 0u, biased);
        magnitudes = __usada8(u, 0x80808080u, magnitudes);
      }
      sum += (int32_t)biased - 128 * t;
      sum_abs += (int32_t)magnitudes;
    }
#endif
    for (; t + 4 <= keep; t += 4, v += 4 * step) {
      const int32_t x0 = v[0], x1 = v[step], x2 = v[2 * step], x3 = v[3 * step];
      sum += x0 + x1 + x2 + x3;
      sum_abs += (x0 < 0 ? -x0 : x0) + (x1 < 0 ? -x1 : x1) + (x2 < 0 ? -x2 : x2) + (x3 < 0 ? -x3 : x3);
    }
    for (; t < keep; ++t, v += step) {
      const int32_t x = *v;
      sum += x;
      sum_abs += x < 0 ? -x : x;
    }
    const int64_t limit = INT32_MAX - (int64_t)sum_abs * max_input;
    int64_t b = bias[c] < -limit ? -limit : bias[c];
    if (b > limit) b = limit;
    if (saturated) saturated[c] = (int32_t)(uint32_t)b;
    folded[c] = (int32_t)(uint32_t)(b + (int64_t)input_offset * sum);
  }
}
