/*
 * The forward half of the max pool gradient (compiler/ops/train/max_pool_backprop.ts): per output element, the tap
 * t = fy * filter_w + fx of its window holding the maximum, the first in row-major order among equal values; taps
 * off the image never win.
 */
#include "tf_kernels.h"

void max_pool2d_argmax_s8(const int8_t *x, uint8_t *argmax, int32_t batches, int32_t in_h, int32_t in_w,
                          int32_t channels, int32_t out_h, int32_t out_w, int32_t filter_h, int32_t filter_w,
                          int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left) {
  for (int32_t n = 0; n < batches; ++n) {
    const int8_t *const image = x + n * in_h * in_w * channels;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t y0 = oy * stride_h - pad_top;
      const int32_t fy0 = y0 < 0 ? -y0 : 0;
      const int32_t fy1 = in_h - y0 < filter_h ? in_h - y0 : filter_h;
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t x0 = ox * stride_w - pad_left;
        const int32_t fx0 = x0 < 0 ? -x0 : 0;
        const int32_t fx1 = in_w - x0 < filter_w ? in_w - x0 : filter_w;
        for (int32_t c = 0; c < channels; ++c) {
          int32_t best = 0;
          int32_t max = -129;
          for (int32_t fy = fy0; fy < fy1; ++fy) {
            const int8_t *row = image + ((y0 + fy) * in_w + x0) * channels + c;
            for (int32_t fx = fx0; fx < fx1; ++fx) {
              if (row[fx * channels] > max) {
                max = row[fx * channels];
                best = fy * filter_w + fx;
              }
            }
          }
          *argmax++ = (uint8_t)best;
        }
      }
    }
  }
}
