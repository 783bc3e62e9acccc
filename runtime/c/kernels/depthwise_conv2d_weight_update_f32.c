/*
 * SGD step of the int8 weights (1HWC, depth multiplier 1) of a depthwise convolution with Quantization-Aware Scaling
 * (compiler/ops/train/parameter_update.ts). Per weight (c < keep, ky, kx), in that order: its gradient
 * g = sum over (n, oy, ox) of dy[n, oy, ox, c] * x_real[n, iy, ix, c] (taps outside the input skipped), summed in
 * that order by fused multiply-adds; then v = w - lr * g * inv_w_scale[c] is rounded stochastically with the next draw of the generator,
 * one draw per weight even when g = 0, and clamped to [-127, 127]. x is the saved input with x_c channels (x_c = keep
 * when only those were saved). No weight gradient is stored. x_real comes from a table of the 256 possible values,
 * and a term with dy = 0 is skipped (a sum that starts at +0 never becomes -0, so adding ±0 cannot change it).
 */
#include "tf_kernels.h"
#include "tf_float32.h"

void depthwise_conv2d_weight_update_f32(const float *dy, const int8_t *x, int8_t *w, const float *inv_w_scale,
                                        const float *lr, int32_t *rng, int32_t batches, int32_t in_h, int32_t in_w,
                                        int32_t x_c, int32_t channels, int32_t out_h, int32_t out_w, int32_t filter_h,
                                        int32_t filter_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
                                        int32_t dilation_w, int32_t pad_top, int32_t pad_left, int32_t x_zero_point,
                                        int32_t x_scale_bits, int32_t keep) {
  const float rate = lr[0];
  float x_real[256];
  tf_dequantization_table(x_real, x_zero_point, tf_f32_from_bits(x_scale_bits));
  for (int32_t c = 0; c < keep; ++c) {
    const float inv_scale = inv_w_scale[c];
    for (int32_t ky = 0; ky < filter_h; ++ky) {
      for (int32_t kx = 0; kx < filter_w; ++kx) {
        int8_t *const tap = w + (ky * filter_w + kx) * channels + c;
        float g = 0.0f, v;
        for (int32_t n = 0; n < batches; ++n) {
          for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t iy = oy * stride_h - pad_top + ky * dilation_h;
            const float *dy_row;
            const int8_t *x_row;
            if (iy < 0 || iy >= in_h) continue;
            dy_row = dy + (n * out_h + oy) * out_w * channels + c;
            x_row = x + (n * in_h + iy) * in_w * x_c + c;
            for (int32_t ox = 0; ox < out_w; ++ox) {
              const int32_t ix = ox * stride_w - pad_left + kx * dilation_w;
              const float d = dy_row[ox * channels];
              if (ix < 0 || ix >= in_w || d == 0.0f) continue;
              g = tf_fmaf(d, x_real[x_row[ix * x_c] + 128], g);
            }
          }
        }
        v = (float)*tap - rate * g * inv_scale;
        *tap = (int8_t)tf_stochastic_round_weight(v, tf_next_draw(rng));
      }
    }
  }
}
