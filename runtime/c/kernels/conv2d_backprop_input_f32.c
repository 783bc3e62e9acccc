/*
 * Gradient with respect to the input of a convolution or fully connected layer (compiler/ops/train/backprop_input.ts):
 * each output gradient, times its channel's weight scale, is scattered into the input pixels under its window through
 * the int8 weights (OHWI); an output gradient of 0 adds nothing and is skipped. Every dx element receives its terms in
 * the reference's order, (n, oy, ox, oc) ascending, which is the numerics. A layer whose partial update split its
 * weights (split_conv1x1_s8) has input channels ic < keep in `w` (rows of keep) and the others in `w_tail` (rows of
 * in_c - keep); else w_tail is NULL and keep == in_c.
 *
 * A 1x1 convolution with stride 1 and a fully connected layer (most of a training step's input gradients) take a
 * gathering loop instead: dx[p, ic] = sum over oc ascending of g[p, oc] * w[oc, ic], the same terms in the same order,
 * four pixels by four input channels at a time so that each weight is converted to float once per four pixels and
 * each gradient once per four channels. It does not skip zero terms: adding ±0 to a sum that started at +0 never changes
 * it (it cannot become -0), so skipping is only a shortcut.
 */
#include "tf_kernels.h"

/* dx rows `pixels` (at most 4) x input channels `lanes` (at most 4) of a 1x1 stride-1 layer, w_col = &w[0][ic]. */
static void pointwise_gather(const float *dy, const float *w_scale, const int8_t *w_col, int32_t w_stride, float *dx_col,
                             int32_t in_c, int32_t out_c, int32_t pixels, int32_t lanes) {
  if (pixels == 4 && lanes == 4) {
    float a00 = 0.0f, a01 = 0.0f, a02 = 0.0f, a03 = 0.0f, a10 = 0.0f, a11 = 0.0f, a12 = 0.0f, a13 = 0.0f;
    float a20 = 0.0f, a21 = 0.0f, a22 = 0.0f, a23 = 0.0f, a30 = 0.0f, a31 = 0.0f, a32 = 0.0f, a33 = 0.0f;
    const float *g0 = dy, *g1 = dy + out_c, *g2 = dy + 2 * out_c, *g3 = dy + 3 * out_c;
    for (int32_t oc = 0; oc < out_c; ++oc, w_col += w_stride) {
      const float scale = w_scale[oc];
      float w0, w1, w2, w3, h0, h1, h2, h3;
      /* An output channel masked to zero at all four pixels adds nothing (ReLU layers have many). */
      if (g0[oc] == 0.0f && g1[oc] == 0.0f && g2[oc] == 0.0f && g3[oc] == 0.0f) continue;
      w0 = (float)w_col[0], w1 = (float)w_col[1], w2 = (float)w_col[2], w3 = (float)w_col[3];
      h0 = g0[oc] * scale, h1 = g1[oc] * scale, h2 = g2[oc] * scale, h3 = g3[oc] * scale;
      a00 += h0 * w0;
      a01 += h0 * w1;
      a02 += h0 * w2;
      a03 += h0 * w3;
      a10 += h1 * w0;
      a11 += h1 * w1;
      a12 += h1 * w2;
      a13 += h1 * w3;
      a20 += h2 * w0;
      a21 += h2 * w1;
      a22 += h2 * w2;
      a23 += h2 * w3;
      a30 += h3 * w0;
      a31 += h3 * w1;
      a32 += h3 * w2;
      a33 += h3 * w3;
    }
    dx_col[0] = a00;
    dx_col[1] = a01;
    dx_col[2] = a02;
    dx_col[3] = a03;
    dx_col[in_c] = a10;
    dx_col[in_c + 1] = a11;
    dx_col[in_c + 2] = a12;
    dx_col[in_c + 3] = a13;
    dx_col[2 * in_c] = a20;
    dx_col[2 * in_c + 1] = a21;
    dx_col[2 * in_c + 2] = a22;
    dx_col[2 * in_c + 3] = a23;
    dx_col[3 * in_c] = a30;
    dx_col[3 * in_c + 1] = a31;
    dx_col[3 * in_c + 2] = a32;
    dx_col[3 * in_c + 3] = a33;
    return;
  }
  for (int32_t p = 0; p < pixels; ++p) {
    for (int32_t l = 0; l < lanes; ++l) {
      float acc = 0.0f;
      for (int32_t oc = 0; oc < out_c; ++oc) acc += dy[p * out_c + oc] * w_scale[oc] * (float)w_col[oc * w_stride + l];
      dx_col[p * in_c + l] = acc;
    }
  }
}

/* Input channels [first, first + count) of every pixel, whose weights are rows of `w_stride` starting at w_col. */
static void pointwise_gather_channels(const float *dy, const float *w_scale, const int8_t *w_col, int32_t w_stride,
                                      float *dx, int32_t first, int32_t count, int32_t pixels, int32_t in_c,
                                      int32_t out_c) {
  for (int32_t p = 0; p < pixels; p += 4) {
    const int32_t rows = pixels - p < 4 ? pixels - p : 4;
    for (int32_t l = 0; l < count; l += 4) {
      const int32_t lanes = count - l < 4 ? count - l : 4;
      pointwise_gather(dy + p * out_c, w_scale, w_col + l, w_stride, dx + p * in_c + first + l, in_c, out_c, rows, lanes);
    }
  }
}

void conv2d_backprop_input_f32(const float *dy, const int8_t *w, const int8_t *w_tail, const float *w_scale, float *dx,
                               int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h, int32_t out_w,
                               int32_t out_c, int32_t filter_h, int32_t filter_w, int32_t stride_h, int32_t stride_w,
                               int32_t dilation_h, int32_t dilation_w, int32_t pad_top, int32_t pad_left, int32_t keep) {
  const int32_t taps = filter_h * filter_w;
  const int32_t rest = in_c - keep;
  const int32_t dx_size = batches * in_h * in_w * in_c;
  if (filter_h == 1 && filter_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0 &&
      in_h == out_h && in_w == out_w) {
    const int32_t pixels = batches * in_h * in_w;
    pointwise_gather_channels(dy, w_scale, w, keep, dx, 0, keep, pixels, in_c, out_c);
    if (rest > 0) pointwise_gather_channels(dy, w_scale, w_tail, rest, dx, keep, rest, pixels, in_c, out_c);
    return;
  }
  for (int32_t i = 0; i < dx_size; ++i) dx[i] = 0.0f;
  for (int32_t n = 0; n < batches; ++n) {
    float *const dx_image = dx + n * in_h * in_w * in_c;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * stride_h - pad_top;
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * stride_w - pad_left;
        for (int32_t oc = 0; oc < out_c; ++oc) {
          const float g = *dy++ * w_scale[oc];
          if (g == 0.0f) continue;
          for (int32_t ky = 0; ky < filter_h; ++ky) {
            const int32_t iy = iy0 + ky * dilation_h;
            if (iy < 0 || iy >= in_h) continue;
            for (int32_t kx = 0; kx < filter_w; ++kx) {
              const int32_t ix = ix0 + kx * dilation_w;
              const int32_t row = oc * taps + ky * filter_w + kx;
              float *out;
              const int8_t *tap;
              if (ix < 0 || ix >= in_w) continue;
              out = dx_image + (iy * in_w + ix) * in_c;
              tap = w + row * keep;
              for (int32_t ic = 0; ic < keep; ++ic) out[ic] = out[ic] + g * (float)tap[ic];
              if (rest > 0) {
                tap = w_tail + row * rest;
                for (int32_t ic = 0; ic < rest; ++ic) out[keep + ic] = out[keep + ic] + g * (float)tap[ic];
              }
            }
          }
        }
      }
    }
  }
}
