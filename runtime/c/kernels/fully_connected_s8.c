/*
 * FULLY_CONNECTED, int8 (TFLite reference_integer_ops::FullyConnected).
 * The input zero point's contribution, input_offset * sum(weights row), is folded into
 * `bias` at compile time, so the inner loop is a plain int8 dot product.
 */
#include "tf_kernels.h"

void fully_connected_s8(const int8_t *input, const int8_t *weights, const int32_t *bias, int8_t *output,
                        int32_t batches, int32_t in_depth, int32_t out_depth, const int32_t *multipliers,
                        const int32_t *shifts, int32_t output_offset, int32_t act_min, int32_t act_max) {
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *in = input + b * in_depth;
    for (int32_t oc = 0; oc < out_depth; ++oc) {
      const int8_t *w = weights + oc * in_depth;
      int32_t acc = bias[oc];
#ifdef TF_DSP
      acc = tf_dsp_dot_1x1(in, w, in_depth, acc);
#else
      for (int32_t d = 0; d < in_depth; ++d) acc += (int32_t)in[d] * (int32_t)w[d];
#endif
      acc = tf_requantize_conv(acc, multipliers[oc], shifts[oc]) + output_offset;
      output[b * out_depth + oc] = (int8_t)tf_clamp(acc, act_min, act_max);
    }
  }
}
