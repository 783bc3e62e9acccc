/*
 * Gradient of average pooling (and of a spatial mean: one window over the whole map),
 * compiler/ops/train/average_pool_backprop.ts: each output gradient divided by the number of valid taps of its window
 * is added to each of them. The loop order is the order of the float32 sums and must stay as it is.
 */
#include "tf_kernels.h"

void average_pool2d_backprop_f32(const float *dy, float *dx, int32_t batches, int32_t in_h, int32_t in_w,
                                 int32_t channels, int32_t out_h, int32_t out_w, int32_t filter_h, int32_t filter_w,
                                 int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left) {
  const int32_t dx_size = batches * in_h * in_w * channels;
  for (int32_t i = 0; i < dx_size; ++i) dx[i] = 0.0f;
  for (int32_t n = 0; n < batches; ++n) {
    float *const dx_image = dx + n * in_h * in_w * channels;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t top = oy * stride_h - pad_top;
      const int32_t y0 = top > 0 ? top : 0;
      const int32_t y1 = top + filter_h < in_h ? top + filter_h : in_h;
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t left = ox * stride_w - pad_left;
        const int32_t x0 = left > 0 ? left : 0;
        const int32_t x1 = left + filter_w < in_w ? left + filter_w : in_w;
        const float count = (float)((y1 - y0) * (x1 - x0));
        for (int32_t c = 0; c < channels; ++c) {
          const float g = *dy++ / count;
          for (int32_t iy = y0; iy < y1; ++iy) {
            float *out = dx_image + (iy * in_w + x0) * channels + c;
            for (int32_t ix = x0; ix < x1; ++ix, out += channels) *out = *out + g;
          }
        }
      }
    }
  }
}
