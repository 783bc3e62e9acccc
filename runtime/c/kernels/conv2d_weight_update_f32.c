/*
 * SGD step of the int8 weights (OHWI) of a convolution or fully connected layer with Quantization-Aware Scaling
 * (compiler/ops/train/parameter_update.ts). Per weight (oc, ky, kx, ic < keep), in that order: its gradient
 * g = sum over (n, oy, ox) of dy[n, oy, ox, oc] * x_real[n, iy, ix, ic] (taps outside the input skipped), summed in
 * that order; then v = w - lr * g * inv_w_scale[oc] is rounded stochastically with the next draw of the generator,
 * one draw per weight even when g = 0, and clamped to [-127, 127]. x is the saved input with x_c channels (x_c = keep
 * when only those were saved). No weight gradient is stored.
 *
 * x_real = (x - x_zero_point) * x_scale of the first keep channels is computed once, into scratch ([pixel][keep]),
 * since every output channel reads it. The gradients of four consecutive input channels are summed together, each in
 * its own order. A term with dy = 0 may be skipped: a sum that starts at +0 never becomes -0, so adding ±0 cannot
 * change it. A 1x1 stride-1 layer (and a fully connected one) takes a loop without window arithmetic.
 */
#include "tf_kernels.h"
#include "tf_float32.h"

struct conv_update_window {
  const float *dy;
  const float *x_real;
  int32_t batches, in_h, in_w, keep, out_h, out_w, out_c;
  int32_t stride_h, stride_w, pad_top, pad_left;
};

/* g[l] for input channels ic + l, l < lanes (at most 4), of the tap (iy_offset, ix_offset). */
static void conv_tap_gradients(const struct conv_update_window *s, int32_t iy_offset, int32_t ix_offset, int32_t oc,
                               int32_t ic, int32_t lanes, float *g) {
  for (int32_t l = 0; l < lanes; ++l) g[l] = 0.0f;
  for (int32_t n = 0; n < s->batches; ++n) {
    for (int32_t oy = 0; oy < s->out_h; ++oy) {
      const int32_t iy = oy * s->stride_h - s->pad_top + iy_offset;
      const float *dy_row;
      const float *x_row;
      if (iy < 0 || iy >= s->in_h) continue;
      dy_row = s->dy + (n * s->out_h + oy) * s->out_w * s->out_c + oc;
      x_row = s->x_real + (n * s->in_h + iy) * s->in_w * s->keep + ic;
      for (int32_t ox = 0; ox < s->out_w; ++ox) {
        const int32_t ix = ox * s->stride_w - s->pad_left + ix_offset;
        const float d = dy_row[ox * s->out_c];
        const float *xp;
        if (ix < 0 || ix >= s->in_w || d == 0.0f) continue;
        xp = x_row + ix * s->keep;
        for (int32_t l = 0; l < lanes; ++l) g[l] += d * xp[l];
      }
    }
  }
}

/* The same for a 1x1 stride-1 layer: pixel p of dy is pixel p of x. */
static void pointwise_gradients(const struct conv_update_window *s, int32_t pixels, int32_t oc, int32_t ic,
                                int32_t lanes, float *g) {
  const float *d = s->dy + oc;
  const float *xp = s->x_real + ic;
  if (lanes == 4) {
    float g0 = 0.0f, g1 = 0.0f, g2 = 0.0f, g3 = 0.0f;
    for (int32_t p = 0; p < pixels; ++p, d += s->out_c, xp += s->keep) {
      const float v = *d;
      g0 += v * xp[0];
      g1 += v * xp[1];
      g2 += v * xp[2];
      g3 += v * xp[3];
    }
    g[0] = g0;
    g[1] = g1;
    g[2] = g2;
    g[3] = g3;
    return;
  }
  for (int32_t l = 0; l < lanes; ++l) g[l] = 0.0f;
  for (int32_t p = 0; p < pixels; ++p, d += s->out_c, xp += s->keep) {
    for (int32_t l = 0; l < lanes; ++l) g[l] += *d * xp[l];
  }
}

void conv2d_weight_update_f32(const float *dy, const int8_t *x, int8_t *w, const float *inv_w_scale, const float *lr,
                              int32_t *rng, void *scratch, int32_t batches, int32_t in_h, int32_t in_w, int32_t x_c,
                              int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c, int32_t filter_h,
                              int32_t filter_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
                              int32_t dilation_w, int32_t pad_top, int32_t pad_left, int32_t x_zero_point,
                              int32_t x_scale_bits, int32_t keep) {
  float *const x_real = (float *)scratch;
  const struct conv_update_window s = {dy, x_real, batches, in_h, in_w, keep, out_h, out_w, out_c,
                                       stride_h, stride_w, pad_top, pad_left};
  const int32_t in_pixels = batches * in_h * in_w;
  const int pointwise = filter_h == 1 && filter_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 &&
                        pad_left == 0 && in_h == out_h && in_w == out_w;
  const float x_scale = tf_f32_from_bits(x_scale_bits);
  const float rate = lr[0];
  int8_t *tap = w;
  for (int32_t q = 0; q < in_pixels; ++q) {
    for (int32_t ic = 0; ic < keep; ++ic) x_real[q * keep + ic] = (float)((int32_t)x[q * x_c + ic] - x_zero_point) * x_scale;
  }
  for (int32_t oc = 0; oc < out_c; ++oc) {
    const float inv_scale = inv_w_scale[oc];
    for (int32_t ky = 0; ky < filter_h; ++ky) {
      for (int32_t kx = 0; kx < filter_w; ++kx, tap += in_c) {
        for (int32_t ic = 0; ic < keep;) {
          const int32_t lanes = keep - ic >= 4 ? 4 : keep - ic;
          float g[4];
          if (pointwise) {
            pointwise_gradients(&s, in_pixels, oc, ic, lanes, g);
          } else {
            conv_tap_gradients(&s, ky * dilation_h, kx * dilation_w, oc, ic, lanes, g);
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
