/*
 * Gradient with respect to the input of a depthwise convolution, depth multiplier 1, weights 1HWC
 * (compiler/ops/train/backprop_input.ts): each output gradient, times its channel's weight scale, is scattered into
 * the input pixels under its window; an output gradient of 0 adds nothing and is skipped. Each dx element receives its
 * terms in the reference's order, (n, oy, ox) ascending. Channels never mix, so the channel loop can be outermost,
 * where the channel's taps are converted to float once (at most TF_DEPTHWISE_MAX_TAPS of them; larger filters take
 * the int8 weights directly).
 */
#include "tf_kernels.h"

#define TF_DEPTHWISE_MAX_TAPS 49

void depthwise_conv2d_backprop_input_f32(const float *dy, const int8_t *w, const float *w_scale, float *dx,
                                         int32_t batches, int32_t in_h, int32_t in_w, int32_t channels, int32_t out_h,
                                         int32_t out_w, int32_t filter_h, int32_t filter_w, int32_t stride_h,
                                         int32_t stride_w, int32_t dilation_h, int32_t dilation_w, int32_t pad_top,
                                         int32_t pad_left) {
  const int32_t taps = filter_h * filter_w;
  const int32_t dx_size = batches * in_h * in_w * channels;
  float taps_f[TF_DEPTHWISE_MAX_TAPS];
  for (int32_t i = 0; i < dx_size; ++i) dx[i] = 0.0f;
  for (int32_t c = 0; c < channels; ++c) {
    const float scale = w_scale[c];
    const int small = taps <= TF_DEPTHWISE_MAX_TAPS;
    if (small) {
      for (int32_t t = 0; t < taps; ++t) taps_f[t] = (float)w[t * channels + c];
    }
    for (int32_t n = 0; n < batches; ++n) {
      float *const dx_image = dx + n * in_h * in_w * channels + c;
      const float *g_at = dy + n * out_h * out_w * channels + c;
      for (int32_t oy = 0; oy < out_h; ++oy) {
        const int32_t iy0 = oy * stride_h - pad_top;
        for (int32_t ox = 0; ox < out_w; ++ox, g_at += channels) {
          const int32_t ix0 = ox * stride_w - pad_left;
          const float g = *g_at * scale;
          if (g == 0.0f) continue;
          for (int32_t ky = 0; ky < filter_h; ++ky) {
            const int32_t iy = iy0 + ky * dilation_h;
            if (iy < 0 || iy >= in_h) continue;
            for (int32_t kx = 0; kx < filter_w; ++kx) {
              const int32_t ix = ix0 + kx * dilation_w;
              const int32_t t = ky * filter_w + kx;
              float *out;
              if (ix < 0 || ix >= in_w) continue;
              out = dx_image + (iy * in_w + ix) * channels;
              *out = *out + g * (small ? taps_f[t] : (float)w[t * channels + c]);
            }
          }
        }
      }
    }
  }
}
