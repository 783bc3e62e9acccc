/*
 * SGD step of the int8 weights (OHWI) of a convolution or fully connected layer with Quantization-Aware Scaling
 * (compiler/ops/train/parameter_update.ts). Per weight (oc, ky, kx, ic < keep), in that order: its gradient
 * g = sum over (n, oy, ox) of dy[n, oy, ox, oc] * x_real[n, iy, ix, ic] (taps outside the input skipped), summed in
 * that order by fused multiply-adds; then v = w - lr * g * inv_w_scale[oc] is rounded stochastically with the next draw of the generator,
 * one draw per weight even when g = 0, and clamped to [-127, 127]. x is the saved input with x_c channels (x_c = keep
 * when only those were saved). No weight gradient is stored.
 *
 * x_real = (x - x_zero_point) * x_scale of the first keep channels is computed once, into scratch ([pixel][keep]),
 * since every output channel reads it. The gradients of four consecutive input channels are summed together, each in
 * its own order. A term with dy = 0 may be skipped: a sum that starts at +0 never becomes -0, so adding ±0 cannot
 * change it. A 1x1 stride-1 layer (and a fully connected one) takes a loop without window arithmetic that sums four
 * output channels at once, so each x_real load serves four of them; the draws stay in weight order because the
 * gradients of the second to fourth rows wait in scratch (after x_real, 3 * keep floats) until the first row is done.
 *
 * `dequantize` says where x_real comes from: 0, the copy above, made by this call; 1 (a 1x1 stride-1 layer only),
 * no copy but x_real of each of the 256 codes in a table, through which a block reads the codes (a block of fewer than
 * four rows or input channels has its input channels dequantized for all pixels right before it: after the table,
 * pixels * 4 floats; then the pending rows): less memory, more work; 2, the copy that an earlier call on the same input left in scratch (a layer updated a chunk of
 * output channels at a time).
 */
#include <stddef.h>
#include <string.h>
#include "tf_kernels.h"
#include "tf_float32.h"

struct conv_update_window {
  const float *dy;
  /* x_real of the input channels a loop reads, pixel after pixel x_stride floats apart */
  const float *x_real;
  int32_t x_stride;
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
        for (int32_t l = 0; l < lanes; ++l) g[l] = tf_fmaf(d, xp[l], g[l]);
      }
    }
  }
}

/*
 * One weight's step: its value minus lr * g / s_w, rounded stochastically with the next draw of the generator state
 * `state` (a local copy: through the tensor, every weight store, an int8 one, could change it, and it would be
 * reloaded).
 */
static inline void update_weight(int8_t *w, float g, float rate, float inv_scale, uint32_t *state) {
  const float v = (float)*w - rate * g * inv_scale;
  *state = tf_xorshift32(*state);
  *w = (int8_t)tf_stochastic_round_weight(v, *state);
}

/* One row's terms at a pixel, skipped when its gradient's bits are +0: row sums a0..a3 += d * x0..x3, fused. */
#define GRADIENT_ROW(bits, a0, a1, a2, a3)      \
  do {                                          \
    if ((bits) != 0) {                          \
      const float d_ = tf_f32_from_ubits(bits); \
      a0 = tf_fmaf(d_, x0, a0);                 \
      a1 = tf_fmaf(d_, x1, a1);                 \
      a2 = tf_fmaf(d_, x2, a2);                 \
      a3 = tf_fmaf(d_, x3, a3);                 \
    }                                           \
  } while (0)

/*
 * g[r][l] for output channels oc + r, r < 4, and input channels ic + l, l < 4, of a 1x1 stride-1 layer (pixel p of dy
 * is pixel p of x): x_real of pixel p, lane l is x_real[p * x_stride + l], or with x_table (the input read as codes)
 * x_table[x[p * x_c + l]]. Inlined with x_table NULL or not, each caller gets one loop without the test.
 */
static inline __attribute__((always_inline)) void gradients_4x4(const struct conv_update_window *s,
                                                                 const float *x_real, const int8_t *x, int32_t x_c,
                                                                 const float *x_table, int32_t pixels, int32_t oc,
                                                                 float g[4][4]) {
  const float *d = s->dy + oc;
  const int32_t x_stride = s->x_stride;
  float a00 = 0.0f, a01 = 0.0f, a02 = 0.0f, a03 = 0.0f, a10 = 0.0f, a11 = 0.0f, a12 = 0.0f, a13 = 0.0f;
  float a20 = 0.0f, a21 = 0.0f, a22 = 0.0f, a23 = 0.0f, a30 = 0.0f, a31 = 0.0f, a32 = 0.0f, a33 = 0.0f;
  for (int32_t p = 0; p < pixels; ++p, d += s->out_c) {
    /* Most gradients are +0 (the output mask clears them), whose terms are skipped: rows by their bits, and the
     * pixel as a whole when all four are. */
    uint32_t b0, b1, b2, b3;
    memcpy(&b0, d, 4);
    memcpy(&b1, d + 1, 4);
    memcpy(&b2, d + 2, 4);
    memcpy(&b3, d + 3, 4);
    if ((b0 | b1 | b2 | b3) == 0) continue;
    float x0, x1, x2, x3;
    if (x_table != NULL) {
      const int8_t *const q = x + p * x_c;
      x0 = x_table[q[0]], x1 = x_table[q[1]], x2 = x_table[q[2]], x3 = x_table[q[3]];
    } else {
      const float *const r = x_real + p * x_stride;
      x0 = r[0], x1 = r[1], x2 = r[2], x3 = r[3];
    }
    GRADIENT_ROW(b0, a00, a01, a02, a03);
    GRADIENT_ROW(b1, a10, a11, a12, a13);
    GRADIENT_ROW(b2, a20, a21, a22, a23);
    GRADIENT_ROW(b3, a30, a31, a32, a33);
  }
  g[0][0] = a00; g[0][1] = a01; g[0][2] = a02; g[0][3] = a03;
  g[1][0] = a10; g[1][1] = a11; g[1][2] = a12; g[1][3] = a13;
  g[2][0] = a20; g[2][1] = a21; g[2][2] = a22; g[2][3] = a23;
  g[3][0] = a30; g[3][1] = a31; g[3][2] = a32; g[3][3] = a33;
}

static void pointwise_gradients_4x4(const struct conv_update_window *s, const float *x_real, int32_t pixels, int32_t oc,
                                    float g[4][4]) {
  gradients_4x4(s, x_real, NULL, 0, NULL, pixels, oc, g);
}

static void pointwise_gradients_4x4_coded(const struct conv_update_window *s, const int8_t *x, int32_t x_c,
                                          const float *x_table, int32_t pixels, int32_t oc, float g[4][4]) {
  gradients_4x4(s, NULL, x, x_c, x_table, pixels, oc, g);
}

/* g[r][l] for `rows` output channels from oc and `lanes` input channels, x_real[l] of pixel 0 on, any counts up to 4. */
static void pointwise_gradients(const struct conv_update_window *s, const float *x_real, int32_t pixels, int32_t oc,
                                int32_t rows, int32_t lanes, float g[4][4]) {
  if (rows == 4 && lanes == 4) {
    pointwise_gradients_4x4(s, x_real, pixels, oc, g);
    return;
  }
  for (int32_t r = 0; r < rows; ++r) {
    const float *d = s->dy + oc + r;
    const float *xp = x_real;
    for (int32_t l = 0; l < lanes; ++l) g[r][l] = 0.0f;
    for (int32_t p = 0; p < pixels; ++p, d += s->out_c, xp += s->x_stride) {
      for (int32_t l = 0; l < lanes; ++l) g[r][l] = tf_fmaf(*d, xp[l], g[r][l]);
    }
  }
}

/*
 * The update of a 1x1 stride-1 layer, four rows (output channels) at a time; `pending` holds 3 * keep floats. With
 * `table` (x_real of code c at table[c + 128]) a whole block of four rows by four input channels reads the codes
 * through it; a smaller one has its input channels dequantized into `block` first.
 */
static void pointwise_update(const struct conv_update_window *s, int32_t pixels, int8_t *w, int32_t in_c,
                             const float *inv_w_scale, float rate, int32_t *rng, float *pending, const int8_t *x,
                             int32_t x_c, const float *table, float *block) {
  uint32_t state = (uint32_t)*rng;
  for (int32_t oc = 0; oc < s->out_c; oc += 4) {
    const int32_t rows = s->out_c - oc >= 4 ? 4 : s->out_c - oc;
    /* Read once: the int8 weight stores could alias it. */
    const float first_inv_scale = inv_w_scale[oc];
    for (int32_t ic = 0; ic < s->keep; ic += 4) {
      const int32_t lanes = s->keep - ic >= 4 ? 4 : s->keep - ic;
      const float *x_real = s->x_real + ic;
      float g[4][4];
      if (table != NULL && rows == 4 && lanes == 4) {
        pointwise_gradients_4x4_coded(s, x + ic, x_c, table + 128, pixels, oc, g);
      } else {
        if (table != NULL) {
          for (int32_t p = 0; p < pixels; ++p) {
            for (int32_t l = 0; l < lanes; ++l) block[p * 4 + l] = table[x[p * x_c + ic + l] + 128];
          }
          x_real = block;
        }
        pointwise_gradients(s, x_real, pixels, oc, rows, lanes, g);
      }
      for (int32_t l = 0; l < lanes; ++l) update_weight(&w[oc * in_c + ic + l], g[0][l], rate, first_inv_scale, &state);
      for (int32_t r = 1; r < rows; ++r) {
        for (int32_t l = 0; l < lanes; ++l) pending[(r - 1) * s->keep + ic + l] = g[r][l];
      }
    }
    for (int32_t r = 1; r < rows; ++r) {
      const float inv_scale = inv_w_scale[oc + r];
      for (int32_t ic = 0; ic < s->keep; ++ic) {
        update_weight(&w[(oc + r) * in_c + ic], pending[(r - 1) * s->keep + ic], rate, inv_scale, &state);
      }
    }
  }
  *rng = (int32_t)state;
}

void conv2d_weight_update_f32(const float *dy, const int8_t *x, int8_t *w, const float *inv_w_scale, const float *lr,
                              int32_t *rng, void *scratch, int32_t batches, int32_t in_h, int32_t in_w, int32_t x_c,
                              int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c, int32_t filter_h,
                              int32_t filter_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
                              int32_t dilation_w, int32_t pad_top, int32_t pad_left, int32_t x_zero_point,
                              int32_t x_scale_bits, int32_t keep, int32_t dequantize) {
  float *const x_real = (float *)scratch;
  const struct conv_update_window s = {dy, x_real, dequantize == 1 ? 4 : keep, batches, in_h, in_w, keep, out_h, out_w, out_c,
                                       stride_h, stride_w, pad_top, pad_left};
  const int32_t in_pixels = batches * in_h * in_w;
  const int pointwise = filter_h == 1 && filter_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 &&
                        pad_left == 0 && in_h == out_h && in_w == out_w;
  const float x_scale = tf_f32_from_bits(x_scale_bits);
  const float rate = lr[0];
  int8_t *tap = w;
  if (dequantize == 1) {
    float *const table = (float *)scratch;
    for (int32_t code = -128; code < 128; ++code) table[code + 128] = (float)(code - x_zero_point) * x_scale;
    pointwise_update(&s, in_pixels, w, in_c, inv_w_scale, rate, rng, table + 256 + in_pixels * 4, x, x_c, table,
                     table + 256);
    return;
  }
  if (dequantize == 0) {
    for (int32_t q = 0; q < in_pixels; ++q) {
      for (int32_t ic = 0; ic < keep; ++ic) x_real[q * keep + ic] = (float)((int32_t)x[q * x_c + ic] - x_zero_point) * x_scale;
    }
  }
  if (pointwise) {
    pointwise_update(&s, in_pixels, w, in_c, inv_w_scale, rate, rng, x_real + in_pixels * keep, x, x_c, NULL, NULL);
    return;
  }
  uint32_t state = (uint32_t)*rng;
  for (int32_t oc = 0; oc < out_c; ++oc) {
    for (int32_t ky = 0; ky < filter_h; ++ky) {
      for (int32_t kx = 0; kx < filter_w; ++kx, tap += in_c) {
        for (int32_t ic = 0; ic < keep;) {
          const int32_t lanes = keep - ic >= 4 ? 4 : keep - ic;
          float g[4];
          conv_tap_gradients(&s, ky * dilation_h, kx * dilation_w, oc, ic, lanes, g);
          for (int32_t l = 0; l < lanes; ++l, ++ic) update_weight(&tap[ic], g[l], rate, inv_w_scale[oc], &state);
        }
      }
    }
  }
  *rng = (int32_t)state;
}
