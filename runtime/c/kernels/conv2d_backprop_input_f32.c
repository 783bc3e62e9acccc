/*
 * Gradient with respect to the input of a convolution or fully connected layer (compiler/ops/train/backprop_input.ts):
 * each output gradient, times its channel's weight scale, is scattered into the input pixels under its window through
 * the int8 weights (OHWI); an output gradient of 0 adds nothing and is skipped. Every dx element receives its terms in
 * the reference's order, (n, oy, ox, oc) ascending, each one fused multiply-add (tf_fmaf), which is the numerics. A
 * layer whose partial update split its weights (split_conv1x1_s8) has input channels ic < keep in `w` (rows of keep)
 * and the others in `w_tail` (rows of in_c - keep); else w_tail is NULL and keep == in_c. With `accumulate` the sums
 * continue from what dx holds (a layer's input gradient summed over its output channels in several calls, each over
 * the next ones) instead of from 0.
 *
 * A 1x1 convolution with stride 1 and a fully connected layer (most of a training step's input gradients) take a
 * gathering loop instead: dx[p, ic] = sum over oc ascending of g[p, oc] * w[oc, ic], the same terms in the same order,
 * four pixels by four input channels at a time so that each weight is converted to float once per four pixels. The
 * four pixels' scaled gradients are computed once per output channel, into a table that all input channels share and
 * that leaves out the output channels whose gradient is 0 at all four pixels (behind a ReLU, many are). That loop,
 * conv2d_backprop_input_pointwise_f32, takes the rows of w and w_tail any number of bytes apart and may mask dy as it
 * reads it: expansion_backward_f32 runs it on a chunk of a layer's input channels, columns of its weights, from the
 * gradient before the layer's output mask. The zero terms of the channels kept are added: adding ±0 to a sum that
 * started at +0 never changes it (it cannot become -0), so skipping is only a shortcut. That is also why testing dy
 * rather than g for 0 is enough: weight scales are finite, so g is 0 where dy is, and a g that underflows to 0 only
 * adds ±0 terms.
 */
#include <stddef.h>
#include "tf_float32.h"
#include "tf_kernels.h"

/*
 * Output channels per table (20 bytes of stack each). Each table's sums are carried to the next through dx, 16 loads
 * and 16 stores per four pixels by four input channels: a smaller table costs more of those, a bigger one more stack.
 */
#define TERMS 16

/* An output channel's gradients at four pixels times its weight scale, and how many weight rows it is past the last. */
typedef struct {
  float h[4];
  int32_t step;
} Term;

/*
 * The terms' sums into input channels col[0..3] of four dx rows from x (rows of in_c), added to what they hold if
 * `resume`; their weights start at w (channel 0 of output channel 0, rows of w_stride). A channel given twice gets the
 * same sums twice.
 */
static inline __attribute__((always_inline)) void gather4x4_at(const Term *t, const Term *end, const int8_t *w,
                                                                int32_t w_stride, const int32_t *col, float *x,
                                                                int32_t in_c, int resume) {
  const int32_t c0 = col[0], c1 = col[1], c2 = col[2], c3 = col[3];
  float *const x1 = x + in_c, *const x2 = x1 + in_c, *const x3 = x2 + in_c;
  float a00 = 0.0f, a01 = 0.0f, a02 = 0.0f, a03 = 0.0f, a10 = 0.0f, a11 = 0.0f, a12 = 0.0f, a13 = 0.0f;
  float a20 = 0.0f, a21 = 0.0f, a22 = 0.0f, a23 = 0.0f, a30 = 0.0f, a31 = 0.0f, a32 = 0.0f, a33 = 0.0f;
  if (resume) {
    a00 = x[c0], a01 = x[c1], a02 = x[c2], a03 = x[c3];
    a10 = x1[c0], a11 = x1[c1], a12 = x1[c2], a13 = x1[c3];
    a20 = x2[c0], a21 = x2[c1], a22 = x2[c2], a23 = x2[c3];
    a30 = x3[c0], a31 = x3[c1], a32 = x3[c2], a33 = x3[c3];
  }
  for (; t != end; ++t) {
    float w0, w1, w2, w3, h;
    w += t->step * w_stride;
    w0 = (float)w[c0], w1 = (float)w[c1], w2 = (float)w[c2], w3 = (float)w[c3];
    h = t->h[0];
    a00 = tf_fmaf(h, w0, a00);
    a01 = tf_fmaf(h, w1, a01);
    a02 = tf_fmaf(h, w2, a02);
    a03 = tf_fmaf(h, w3, a03);
    h = t->h[1];
    a10 = tf_fmaf(h, w0, a10);
    a11 = tf_fmaf(h, w1, a11);
    a12 = tf_fmaf(h, w2, a12);
    a13 = tf_fmaf(h, w3, a13);
    h = t->h[2];
    a20 = tf_fmaf(h, w0, a20);
    a21 = tf_fmaf(h, w1, a21);
    a22 = tf_fmaf(h, w2, a22);
    a23 = tf_fmaf(h, w3, a23);
    h = t->h[3];
    a30 = tf_fmaf(h, w0, a30);
    a31 = tf_fmaf(h, w1, a31);
    a32 = tf_fmaf(h, w2, a32);
    a33 = tf_fmaf(h, w3, a33);
  }
  x[c0] = a00, x[c1] = a01, x[c2] = a02, x[c3] = a03;
  x1[c0] = a10, x1[c1] = a11, x1[c2] = a12, x1[c3] = a13;
  x2[c0] = a20, x2[c1] = a21, x2[c2] = a22, x2[c3] = a23;
  x3[c0] = a30, x3[c1] = a31, x3[c2] = a32, x3[c3] = a33;
}

/* gather4x4_at for channels [0, 4): their offsets are constants. */
static void gather4x4(const Term *t, const Term *end, const int8_t *w, int32_t w_stride, float *x, int32_t in_c,
                      int resume) {
  const int32_t col[4] = {0, 1, 2, 3};
  gather4x4_at(t, end, w, w_stride, col, x, in_c, resume);
}

static void gather4x4_cols(const Term *t, const Term *end, const int8_t *w, int32_t w_stride, const int32_t *col,
                           float *x, int32_t in_c, int resume) {
  gather4x4_at(t, end, w, w_stride, col, x, in_c, resume);
}

/*
 * gather4x4 for input channels [0, count) of w and x: four at a time and the last one to three one at a time; or, with
 * `live` (bit c set where channel c is wanted at one of the four pixels), only the wanted channels, four at a time (the
 * last group repeating its last channel).
 */
static void gather_channels(const Term *t, const Term *end, const int8_t *w, int32_t w_stride, int32_t count, float *x,
                            int32_t in_c, int resume, const uint8_t *live) {
  int32_t l = 0;
  if (live != NULL) {
    int32_t col[4];
    int32_t n = 0;
    for (int32_t b = 0; b < (count + 7) / 8; ++b) {
      for (uint32_t bits = live[b]; bits != 0; bits &= bits - 1u) {
        col[n++] = 8 * b + __builtin_ctz(bits);
        if (n == 4) {
          gather4x4_cols(t, end, w, w_stride, col, x, in_c, resume);
          n = 0;
        }
      }
    }
    if (n > 0) {
      for (int32_t k = n; k < 4; ++k) col[k] = col[n - 1];
      gather4x4_cols(t, end, w, w_stride, col, x, in_c, resume);
    }
    return;
  }
  for (; l + 4 <= count; l += 4) gather4x4(t, end, w + l, w_stride, x + l, in_c, resume);
  for (; l < count; ++l) {
    const int8_t *v = w + l;
    float *const y = x + l;
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
    if (resume) a0 = y[0], a1 = y[in_c], a2 = y[2 * in_c], a3 = y[3 * in_c];
    for (const Term *u = t; u != end; ++u) {
      float f;
      v += u->step * w_stride;
      f = (float)*v;
      a0 = tf_fmaf(u->h[0], f, a0);
      a1 = tf_fmaf(u->h[1], f, a1);
      a2 = tf_fmaf(u->h[2], f, a2);
      a3 = tf_fmaf(u->h[3], f, a3);
    }
    y[0] = a0, y[in_c] = a1, y[2 * in_c] = a2, y[3 * in_c] = a3;
  }
}

/* The most channels a live row covers (its bytes are on the stack); past it every channel is computed. */
#define LIVE_MAX_CHANNELS 2048

/*
 * Bit c of row, for c < count: whether mask bit `bit` + j * stride + c is set for one of j = 0..3, a byte at a time;
 * the mask bytes read are those holding these bits.
 */
static void live_row(const uint8_t *mask, int32_t bit, int32_t stride, int32_t count, uint8_t *row) {
  const int32_t bytes = (count + 7) / 8;
  for (int32_t b = 0; b < bytes; ++b) row[b] = 0;
  for (int32_t j = 0; j < 4; ++j) {
    for (int32_t c = 0; c < count; c += 8) {
      const int32_t i = bit + j * stride + c;
      const int32_t shift = i & 7;
      uint32_t v = (uint32_t)mask[i >> 3] >> shift;
      if (shift != 0 && c + 8 - shift < count) v |= (uint32_t)mask[(i >> 3) + 1] << (8 - shift);
      row[c >> 3] |= (uint8_t)v;
    }
  }
  if (count % 8 != 0) row[bytes - 1] &= (uint8_t)((1u << (count % 8)) - 1u);
}

/* dy[i], or 0 where dy_mask (when there is one) has bit i clear: an ApplyMask read as it goes. */
static inline float gradient_at(const float *dy, const uint8_t *dy_mask, int32_t i) {
  return dy_mask == NULL || (dy_mask[i >> 3] >> (i & 7)) & 1 ? dy[i] : 0.0f;
}

/* The plain loop over pixels [first, end). */
static void pointwise_sums(const float *dy, const uint8_t *dy_mask, const int8_t *w, int32_t w_stride,
                           const int8_t *w_tail, int32_t tail_stride, const float *w_scale, float *dx, int32_t first,
                           int32_t end, int32_t in_c, int32_t out_c, int32_t keep, int accumulate) {
  for (int32_t p = first; p < end; ++p) {
    for (int32_t ic = 0; ic < in_c; ++ic) {
      const int8_t *const col = ic < keep ? w + ic : w_tail + (ic - keep);
      const int32_t stride = ic < keep ? w_stride : tail_stride;
      float acc = accumulate ? dx[p * in_c + ic] : 0.0f;
      for (int32_t oc = 0; oc < out_c; ++oc) {
        acc = tf_fmaf(gradient_at(dy, dy_mask, p * out_c + oc) * w_scale[oc], (float)col[oc * stride], acc);
      }
      dx[p * in_c + ic] = acc;
    }
  }
}

/*
 * The table for the four pixels from p and output channels from *oc on (at most TERMS; *oc moves past them), steps
 * counted from channel 0: the ones whose gradient is 0 at all four pixels are left out. Returns its end. Inlined with
 * dy_mask NULL or not, so that the unmasked loop does not test for a mask.
 */
static inline __attribute__((always_inline)) Term *fill_table(Term *table, const float *dy, const uint8_t *dy_mask,
                                                               const float *w_scale, int32_t p, int32_t out_c,
                                                               int32_t *oc) {
  Term *end = table;
  int32_t last = 0, c = *oc;
  for (; c < out_c && end != table + TERMS; ++c) {
    const int32_t i = p * out_c + c;
    const float g0 = gradient_at(dy, dy_mask, i), g1 = gradient_at(dy, dy_mask, i + out_c);
    const float g2 = gradient_at(dy, dy_mask, i + 2 * out_c), g3 = gradient_at(dy, dy_mask, i + 3 * out_c);
    const float scale = w_scale[c];
    if (g0 == 0.0f && g1 == 0.0f && g2 == 0.0f && g3 == 0.0f) continue;
    end->h[0] = g0 * scale, end->h[1] = g1 * scale, end->h[2] = g2 * scale, end->h[3] = g3 * scale;
    end->step = c - last;
    last = c;
    ++end;
  }
  *oc = c;
  return end;
}

/*
 * The gathering loop over `pixels` pixels. When their count is not a multiple of four the last four are taken, again
 * for the ones already done: their sums come out the same. Fewer than four pixels in all (a fully connected layer's
 * small batch) take a plain loop. dy_mask, if not NULL, clears the gradients whose bits are clear. live, if not NULL,
 * is the mask that the caller applies to dx next (bit p * live_stride + live_c0 + ic for dx[p, ic]): of four pixels,
 * the input channels whose bits are all clear there are not computed, since the mask clears them anyway (behind a
 * ReLU about half are).
 */
void conv2d_backprop_input_pointwise_f32(const float *dy, const uint8_t *dy_mask, const int8_t *w, int32_t w_stride,
                                         const int8_t *w_tail, int32_t tail_stride, const float *w_scale, float *dx,
                                         int32_t pixels, int32_t in_c, int32_t out_c, int32_t keep,
                                         int32_t accumulate, const uint8_t *live, int32_t live_stride,
                                         int32_t live_c0) {
  const int32_t rest = in_c - keep;
  Term table[TERMS];
  /* The kept channels' live row, then the others'. */
  uint8_t wanted[LIVE_MAX_CHANNELS / 8 + 1];
  uint8_t *const wanted_rest = wanted + (keep + 7) / 8;
  if (in_c > LIVE_MAX_CHANNELS) live = NULL;
  if (pixels < 4) {
    pointwise_sums(dy, dy_mask, w, w_stride, w_tail, tail_stride, w_scale, dx, 0, pixels, in_c, out_c, keep, accumulate);
    return;
  }
  if (accumulate && pixels % 4 != 0) {
    /* Taking the last four pixels again would add their terms twice: the ones past the last four go alone. */
    const int32_t whole = pixels - pixels % 4;
    pointwise_sums(dy, dy_mask, w, w_stride, w_tail, tail_stride, w_scale, dx, whole, pixels, in_c, out_c, keep, 1);
    pixels = whole;
  }
  for (int32_t p = 0; p < pixels; p += 4) {
    float *x;
    int resume = accumulate;
    int32_t oc = 0;
    if (p > pixels - 4) p = pixels - 4;
    x = dx + p * in_c;
    if (live != NULL) {
      live_row(live, p * live_stride + live_c0, live_stride, keep, wanted);
      live_row(live, p * live_stride + live_c0 + keep, live_stride, rest, wanted_rest);
    }
    do {
      Term *const end = dy_mask != NULL ? fill_table(table, dy, dy_mask, w_scale, p, out_c, &oc)
                                        : fill_table(table, dy, NULL, w_scale, p, out_c, &oc);
      /* Even an empty first table writes its zeros. */
      if (end == table && resume) break;
      if (keep > 0) gather_channels(table, end, w, w_stride, keep, x, in_c, resume, live != NULL ? wanted : NULL);
      if (rest > 0) {
        gather_channels(table, end, w_tail, tail_stride, rest, x + keep, in_c, resume,
                        live != NULL ? wanted_rest : NULL);
      }
      resume = 1;
    } while (oc < out_c);
  }
}

void conv2d_backprop_input_f32(const float *dy, const int8_t *w, const int8_t *w_tail, const float *w_scale, float *dx,
                               int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h, int32_t out_w,
                               int32_t out_c, int32_t filter_h, int32_t filter_w, int32_t stride_h, int32_t stride_w,
                               int32_t dilation_h, int32_t dilation_w, int32_t pad_top, int32_t pad_left, int32_t keep,
                               int32_t accumulate) {
  const int32_t taps = filter_h * filter_w;
  const int32_t rest = in_c - keep;
  const int32_t dx_size = batches * in_h * in_w * in_c;
  if (filter_h == 1 && filter_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0 &&
      in_h == out_h && in_w == out_w) {
    conv2d_backprop_input_pointwise_f32(dy, NULL, w, keep, w_tail, rest, w_scale, dx, batches * in_h * in_w, in_c, out_c,
                                        keep, accumulate, NULL, 0, 0);
    return;
  }
  if (!accumulate) {
    for (int32_t i = 0; i < dx_size; ++i) dx[i] = 0.0f;
  }
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
              for (int32_t ic = 0; ic < keep; ++ic) out[ic] = tf_fmaf(g, (float)tap[ic], out[ic]);
              if (rest > 0) {
                tap = w_tail + row * rest;
                for (int32_t ic = 0; ic < rest; ++ic) out[keep + ic] = tf_fmaf(g, (float)tap[ic], out[keep + ic]);
              }
            }
          }
        }
      }
    }
  }
}
