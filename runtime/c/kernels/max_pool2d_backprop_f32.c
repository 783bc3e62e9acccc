/*
 * Gradient of max pooling (compiler/ops/train/max_pool_backprop.ts): each output gradient is added to the input
 * element its saved argmax names (tap fy * filter_w + fx of its window), outputs in ascending order, which is the
 * order of the float32 sums where windows overlap.
 */
#include "tf_kernels.h"

void max_pool2d_backprop_f32(const float *dy, const uint8_t *argmax, float *dx, int32_t batches, int32_t in_h,
                             int32_t in_w, int32_t channels, int32_t out_h, int32_t out_w, int32_t filter_h,
                             int32_t filter_w, int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left) {
  const int32_t dx_size = batches * in_h * in_w * channels;
  (void)filter_h;
  for (int32_t i = 0; i < dx_size; ++i) dx[i] = 0.0f;
  for (int32_t n = 0; n < batches; ++n) {
    float *const image = dx + n * in_h * in_w * channels;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      for (int32_t ox = 0; ox < out_w; ++ox) {
        for (int32_t c = 0; c < channels; ++c) {
          const int32_t tap = *argmax++;
          const int32_t iy = oy * stride_h - pad_top + tap / filter_w;
          const int32_t ix = ox * stride_w - pad_left + tap % filter_w;
          float *const out = image + (iy * in_w + ix) * channels + c;
          *out = *out + *dy++;
        }
      }
    }
  }
}
