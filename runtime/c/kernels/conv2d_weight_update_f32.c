/*
 * SGD step of the int8 weights (OHWI) of a convolution or fully connected layer with Quantization-Aware Scaling
 * (compiler/ops/train/parameter_update.ts). Per weight (oc, ky, kx, ic < keep), in that order: its gradient
 * g = sum over (n, oy, ox) of dy[n, oy, ox, oc] * x_real[n, iy, ix, ic] (taps outside the input skipped), summed in
 * that order; then v = w - lr * g * inv_w_scale[oc] is rounded stochastically with the next draw of the generator,
 * one draw per weight even when g = 0, and clamped to [-127, 127]. x is the saved input with x_c channels (x_c = keep
 * when only those were saved). No weight gradient is stored. The gradients of four consecutive input channels are
 * summed together, each in its own order, which shares the loads of dy and the index arithmetic. x_real comes from a
 * table of the 256 possible values (the same float32 operations, done once), and a term with dy = 0 is skipped: g
 * starts at +0 and a sum that starts at +0 never becomes -0, so adding ±0 cannot change it.
 */
#include "tf_kernels.h"
#include "tf_float32.h"

struct conv_update_window {
  const float *dy;
  const int8_t *x;
  int32_t batches, in_h, in_w, x_c, out_h, out_w, out_c;
  int32_t stride_h, stride_w, pad_top, pad_left;
  /* x_real of each int8 value, indexed by value + 128. */
  const float *x_real;
};

/* g[l] for input channels ic + l, l < lanes; inlined with lanes 4 or 1. */
static inline void conv_tap_gradients(const struct conv_update_window *s, int32_t iy_offset, int32_t ix_offset,
                                      int32_t oc, int32_t ic, int32_t lanes, float *g) {
  for (int32_t l = 0; l < lanes; ++l) g[l] = 0.0f;
  for (int32_t n = 0; n < s->batches; ++n) {
    for (int32_t oy = 0; oy < s->out_h; ++oy) {
      const int32_t iy = oy * s->stride_h - s->pad_top + iy_offset;
      const float *dy_row;
      const int8_t *x_row;
      if (iy < 0 || iy >= s->in_h) continue;
      dy_row = s->dy + (n * s->out_h + oy) * s->out_w * s->out_c + oc;
      x_row = s->x + (n * s->in_h + iy) * s->in_w * s->x_c + ic;
      for (int32_t ox = 0; ox < s->out_w; ++ox) {
        const int32_t ix = ox * s->stride_w - s->pad_left + ix_offset;
        const int8_t *xp;
        float d;
        if (ix < 0 || ix >= s->in_w) continue;
        d = dy_row[ox * s->out_c];
        if (d == 0.0f) continue;
        xp = x_row + ix * s->x_c;
        for (int32_t l = 0; l < lanes; ++l) g[l] += d * s->x_real[xp[l] + 128];
      }
    }
  }
}

void conv2d_weight_update_f32(const float *dy, const int8_t *x, int8_t *w, const float *inv_w_scale, const float *lr,
                              int32_t *rng, int32_t batches, int32_t in_h, int32_t in_w, int32_t x_c, int32_t in_c,
                              int32_t out_h, int32_t out_w, int32_t out_c, int32_t filter_h, int32_t filter_w,
                              int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w,
                              int32_t pad_top, int32_t pad_left, int32_t x_zero_point, int32_t x_scale_bits,
                              int32_t keep) {
  float x_real[256];
  const struct conv_update_window s = {dy, x, batches, in_h, in_w, x_c, out_h, out_w, out_c,
                                       stride_h, stride_w, pad_top, pad_left, x_real};
  const float rate = lr[0];
  tf_dequantization_table(x_real, x_zero_point, tf_f32_from_bits(x_scale_bits));
  int8_t *tap = w;
  for (int32_t oc = 0; oc < out_c; ++oc) {
    const float inv_scale = inv_w_scale[oc];
    for (int32_t ky = 0; ky < filter_h; ++ky) {
      for (int32_t kx = 0; kx < filter_w; ++kx, tap += in_c) {
        for (int32_t ic = 0; ic < keep;) {
          const int32_t lanes = keep - ic >= 4 ? 4 : 1;
          float g[4];
          if (lanes == 4) {
            conv_tap_gradients(&s, ky * dilation_h, kx * dilation_w, oc, ic, 4, g);
          } else {
            conv_tap_gradients(&s, ky * dilation_h, kx * dilation_w, oc, ic, 1, g);
          }
          for (int32_t l = 0; l < lanes; ++l, ++ic) {
            const float v = (float)tap[ic] - rate * g[l] * inv_scale;
            tap[ic] = (int8_t)tf_stochastic_round_weight(v, tf_next_uniform(rng));
          }
        }
      }
    }
  }
}
