/*
 * A 1x1 convolution with stride 1, or a fully connected layer, whose weights a partial update split along the input
 * channels (compiler/ops/train/split_conv.ts): channels ic < keep in `head` (rows of keep, trainable state in SRAM),
 * the others in `tail` (rows of in_c - keep, frozen, in flash). Each output is folded_bias[oc] plus the int8 dot
 * product of one input pixel with the whole weight row, requantized as conv2d_1x1_s8 and fully_connected_s8 do.
 *
 * Two pixels by two output channels at a time, as conv2d_1x1_s8 does, so that each byte loaded feeds two
 * multiply-accumulates; the head and the tail are two runs of the same dot products (integer sums, exact in any order).
 */
#include "tf_kernels.h"

/* acc[2i + j] += x_i . w_j over n bytes. */
static inline void split_dot_2x2(const int8_t *x0, const int8_t *x1, const int8_t *w0, const int8_t *w1, int32_t n,
                                 int32_t *acc) {
#ifdef TF_DSP
  tf_dsp_dot_2x2(x0, x1, w0, w1, n, &acc[0], &acc[1], &acc[2], &acc[3]);
#else
  for (int32_t i = 0; i < n; ++i) {
    const int32_t a = x0[i], b = x1[i], u = w0[i], v = w1[i];
    acc[0] += a * u;
    acc[1] += a * v;
    acc[2] += b * u;
    acc[3] += b * v;
  }
#endif
}

static inline int8_t split_requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset,
                                      int32_t act_min, int32_t act_max) {
  return (int8_t)tf_clamp(tf_requantize_conv(acc, multiplier, shift) + output_offset, act_min, act_max);
}

void split_conv1x1_s8(const int8_t *input, const int8_t *head, const int8_t *tail, const int32_t *folded_bias,
                      int8_t *output, int32_t pixels, int32_t in_c, int32_t out_c, int32_t keep,
                      const int32_t *multipliers, const int32_t *shifts, int32_t output_offset, int32_t act_min,
                      int32_t act_max) {
  const int32_t rest = in_c - keep;
  for (int32_t p = 0; p < pixels; p += 2) {
    /* A lone last pixel (or channel) is paired with itself: its copy writes the same value to the same place. */
    const int32_t p1 = p + 1 < pixels ? p + 1 : p;
    const int8_t *x0 = input + p * in_c, *x1 = input + p1 * in_c;
    int8_t *out0 = output + p * out_c, *out1 = output + p1 * out_c;
    for (int32_t oc = 0; oc < out_c; oc += 2) {
      const int32_t oc1 = oc + 1 < out_c ? oc + 1 : oc;
      int32_t acc[4];
      acc[0] = acc[2] = folded_bias[oc];
      acc[1] = acc[3] = folded_bias[oc1];
      split_dot_2x2(x0, x1, head + oc * keep, head + oc1 * keep, keep, acc);
      split_dot_2x2(x0 + keep, x1 + keep, tail + oc * rest, tail + oc1 * rest, rest, acc);
      out0[oc] = split_requantize(acc[0], multipliers[oc], shifts[oc], output_offset, act_min, act_max);
      out0[oc1] = split_requantize(acc[1], multipliers[oc1], shifts[oc1], output_offset, act_min, act_max);
      out1[oc] = split_requantize(acc[2], multipliers[oc], shifts[oc], output_offset, act_min, act_max);
      out1[oc1] = split_requantize(acc[3], multipliers[oc1], shifts[oc1], output_offset, act_min, act_max);
    }
  }
}
