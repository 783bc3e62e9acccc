/*
 * CONV_2D, int8, 1x1 filter (TFLite reference_integer_ops::ConvPerChannel restricted to 1x1 windows).
 * A 1x1 window never reaches the padding, so every output pixel is a dot product of one input pixel with one
 * weight row, and the input zero point's contribution is entirely in `folded_bias` (folded at compile time).
 * With stride 1 the whole batch is one [pixels x in_c] by [out_c x in_c]^T matrix multiply.
 *
 * Pixels are computed two at a time and output channels two at a time: each byte loaded feeds two
 * multiply-accumulates (the same core as conv2d_s8's, which gathers windows into columns first).
 */
#include "tf_kernels.h"

static inline int8_t conv1x1_requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset,
                                        int32_t act_min, int32_t act_max) {
  return (int8_t)tf_clamp(tf_requantize_conv(acc, multiplier, shift) + output_offset, act_min, act_max);
}

/* A run of `count` output pixels whose inputs are `pixel_step` bytes apart. */
static void conv1x1_run(const int8_t *x, int32_t pixel_step, int32_t count, const int8_t *weights, const int32_t *folded_bias,
                        int8_t *out, int32_t in_c, int32_t out_c, const int32_t *multipliers, const int32_t *shifts,
                        int32_t output_offset, int32_t act_min, int32_t act_max) {
  int32_t p = 0;
  for (; p + 1 < count; p += 2) {
    const int8_t *x0 = x + p * pixel_step;
    const int8_t *x1 = x0 + pixel_step;
    int8_t *out0 = out + p * out_c;
    int8_t *out1 = out0 + out_c;
    int32_t oc = 0;
    for (; oc + 1 < out_c; oc += 2) {
      const int8_t *w0 = weights + oc * in_c;
      const int8_t *w1 = w0 + in_c;
      int32_t acc00 = folded_bias[oc], acc01 = folded_bias[oc + 1];
      int32_t acc10 = acc00, acc11 = acc01;
      for (int32_t i = 0; i < in_c; ++i) {
        const int32_t a = x0[i], b = x1[i], u = w0[i], v = w1[i];
        acc00 += a * u;
        acc01 += a * v;
        acc10 += b * u;
        acc11 += b * v;
      }
      out0[oc] = conv1x1_requantize(acc00, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
      out0[oc + 1] = conv1x1_requantize(acc01, multipliers[oc + 1], shifts[oc + 1], output_offset, act_min, act_max);
      out1[oc] = conv1x1_requantize(acc10, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
      out1[oc + 1] = conv1x1_requantize(acc11, multipliers[oc + 1], shifts[oc + 1], output_offset, act_min, act_max);
    }
    if (oc < out_c) {
      const int8_t *w0 = weights + oc * in_c;
      int32_t acc0 = folded_bias[oc], acc1 = acc0;
      for (int32_t i = 0; i < in_c; ++i) {
        const int32_t u = w0[i];
        acc0 += x0[i] * u;
        acc1 += x1[i] * u;
      }
      out0[oc] = conv1x1_requantize(acc0, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
      out1[oc] = conv1x1_requantize(acc1, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
    }
  }
  if (p < count) {
    const int8_t *x0 = x + p * pixel_step;
    int8_t *out0 = out + p * out_c;
    int32_t oc = 0;
    for (; oc + 1 < out_c; oc += 2) {
      const int8_t *w0 = weights + oc * in_c;
      const int8_t *w1 = w0 + in_c;
      int32_t acc0 = folded_bias[oc], acc1 = folded_bias[oc + 1];
      for (int32_t i = 0; i < in_c; ++i) {
        const int32_t a = x0[i];
        acc0 += a * w0[i];
        acc1 += a * w1[i];
      }
      out0[oc] = conv1x1_requantize(acc0, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
      out0[oc + 1] = conv1x1_requantize(acc1, multipliers[oc + 1], shifts[oc + 1], output_offset, act_min, act_max);
    }
    if (oc < out_c) {
      const int8_t *w0 = weights + oc * in_c;
      int32_t acc0 = folded_bias[oc];
      for (int32_t i = 0; i < in_c; ++i) acc0 += x0[i] * w0[i];
      out0[oc] = conv1x1_requantize(acc0, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
    }
  }
}

void conv2d_1x1_s8(const int8_t *input, const int8_t *weights, const int32_t *folded_bias, int8_t *output,
                   int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                   int32_t stride_h, int32_t stride_w, const int32_t *multipliers, const int32_t *shifts,
                   int32_t output_offset, int32_t act_min, int32_t act_max) {
  if (stride_h == 1 && stride_w == 1) {
    /* out_h == in_h and out_w == in_w: every input pixel, in order. */
    conv1x1_run(input, in_c, batches * out_h * out_w, weights, folded_bias, output, in_c, out_c, multipliers, shifts,
                output_offset, act_min, act_max);
    return;
  }
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int8_t *row = input + ((b * in_h + oy * stride_h) * in_w) * in_c;
      int8_t *out = output + ((b * out_h + oy) * out_w) * out_c;
      conv1x1_run(row, stride_w * in_c, out_w, weights, folded_bias, out, in_c, out_c, multipliers, shifts,
                  output_offset, act_min, act_max);
    }
  }
}
