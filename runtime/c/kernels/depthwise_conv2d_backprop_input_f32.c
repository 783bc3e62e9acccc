/*
 * Gradient with respect to the input of a depthwise convolution, depth multiplier 1, weights 1HWC
 * (compiler/ops/train/backprop_input.ts): each output gradient, times its channel's weight scale, is scattered into
 * the input pixels under its window; an output gradient of 0 adds nothing and is skipped. Each dx element receives its
 * terms in the reference's order, (n, oy, ox) ascending, each a fused multiply-add (tf_fmaf): within one output pixel
 * it gets at most one, so the pixel's live channels (dy not ±0) go through its taps four at a time, the taps inside
 * the input found once per pixel and their addresses once per four channels. Testing dy rather than g for 0 is
 * enough: weight scales are finite, so g is 0 where dy is, and a g that underflows to 0 only adds ±0, which never
 * changes a sum that started at +0.
 *
 * dx may be dy's own buffer (stride 1 and equal shapes: the planner then lets the input gradient take the output
 * gradient's memory, the training step's largest saving). So the dx rows still receiving terms are accumulated in
 * `scratch`, a ring of min((filter_h - 1) * dilation_h + 1, in_h) rows of in_w x channels floats, and each row is
 * copied out once the output rows' windows have moved past it: with stride 1 never before its own dy row has been
 * read. Without scratch (NULL: dx has a buffer of its own) the same loop accumulates in dx itself, a ring of in_h rows
 * whose slot of each row is the row.
 */
#include <string.h>
#include "tf_float32.h"
#include "tf_kernels.h"

/* The taps of one output pixel that fall inside the input: rows x cols, both at least 1. */
typedef struct {
  float *ring;
  const int8_t *w;     /* the first tap's weights (channel 0) */
  int32_t rows, cols;
  int32_t at;          /* offset in the ring of the first tap's input pixel (channel 0) */
  int32_t wrap;        /* a tap row offset at or past this has left the ring: it moves back by ring_size */
  int32_t row_step, ring_size, x_step, w_row_step, channels;
} Window;

/*
 * Four channels at once, each tap's pointers serving all four; a channel may come more than once with gradient 0 (a
 * group filled up), which adds nothing. The loops stop before stepping past their last tap, so no pointer leaves its
 * buffer.
 */
static void scatter4(const Window *t, int32_t c0, int32_t c1, int32_t c2, int32_t c3, float g0, float g1, float g2,
                     float g3) {
  const int32_t cols = t->cols, x_step = t->x_step, channels = t->channels;
  int32_t at = t->at;
  const int8_t *w_row = t->w;
  for (int32_t ky = t->rows;;) {
    float *out = t->ring + at;
    const int8_t *w = w_row;
    for (int32_t kx = cols;;) {
      out[c0] = tf_fmaf(g0, (float)w[c0], out[c0]);
      out[c1] = tf_fmaf(g1, (float)w[c1], out[c1]);
      out[c2] = tf_fmaf(g2, (float)w[c2], out[c2]);
      out[c3] = tf_fmaf(g3, (float)w[c3], out[c3]);
      if (--kx == 0) break;
      out += x_step;
      w += channels;
    }
    if (--ky == 0) break;
    at += t->row_step;
    if (at >= t->wrap) at -= t->ring_size;
    w_row += t->w_row_step;
  }
}

/* The first output gradient from g on that is not zero (either sign), tested on its bits; `end` if none. */
static const float *next_live(const float *g, const float *end) {
  for (; g != end; ++g) {
    uint32_t bits;
    memcpy(&bits, g, sizeof bits);
    if (bits << 1) break;
  }
  return g;
}

/* First k >= 0 with base + k * step >= 0, and the end of the k from there with base + k * step < size, at most limit. */
static int32_t first_inside(int32_t base, int32_t step) { return base < 0 ? (-base + step - 1) / step : 0; }
static int32_t end_inside(int32_t base, int32_t step, int32_t size, int32_t limit) {
  int32_t end;
  if (base >= size) return 0;
  end = (size - 1 - base) / step + 1;
  return end < limit ? end : limit;
}

void depthwise_conv2d_backprop_input_f32(const float *dy, const int8_t *w, const float *w_scale, float *dx,
                                         void *scratch, int32_t batches, int32_t in_h, int32_t in_w, int32_t channels,
                                         int32_t out_h, int32_t out_w, int32_t filter_h, int32_t filter_w,
                                         int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w,
                                         int32_t pad_top, int32_t pad_left) {
  const int32_t span = (filter_h - 1) * dilation_h + 1;
  const int32_t ring_rows = scratch == NULL ? in_h : span < in_h ? span : in_h;
  const int32_t row = in_w * channels;
  const size_t row_bytes = (size_t)row * sizeof(float);
  Window t;
  /* ky steps through the ring by this many slots: dilation_h may exceed a ring cut short by in_h. */
  t.row_step = dilation_h % ring_rows * row;
  t.ring_size = ring_rows * row;
  t.x_step = dilation_w * channels;
  t.w_row_step = filter_w * channels;
  t.channels = channels;
  for (int32_t n = 0; n < batches; ++n) {
    float *const dx_image = dx + n * in_h * row;
    float *const ring = scratch == NULL ? dx_image : (float *)scratch;
    /* dx rows below `done` are in dx; rows in [done, opened) are in ring slot (row % ring_rows). */
    int32_t done = 0;
    int32_t opened = 0;
    t.ring = ring;
    for (int32_t oy = 0; oy <= out_h; ++oy) {
      const int32_t iy0 = oy * stride_h - pad_top;
      const int32_t complete = oy == out_h || iy0 > in_h ? in_h : iy0;
      int32_t last = iy0 + span - 1;
      int32_t ky0, ky1;
      int32_t tap_row;
      for (; done < complete; ++done) {
        float *const to = dx_image + done * row;
        const float *const from = ring + (done % ring_rows) * row;
        if (done < opened) {
          if (from != to) memcpy(to, from, row_bytes);
        } else {
          memset(to, 0, row_bytes);
        }
      }
      if (oy == out_h) break;
      if (last >= in_h) last = in_h - 1;
      if (opened < done) opened = done;
      for (; opened <= last; ++opened) memset(ring + (opened % ring_rows) * row, 0, row_bytes);
      ky0 = first_inside(iy0, dilation_h);
      ky1 = end_inside(iy0, dilation_h, in_h, filter_h);
      if (ky0 >= ky1) {
        dy += out_w * channels;
        continue;
      }
      t.rows = ky1 - ky0;
      tap_row = (iy0 + ky0 * dilation_h) % ring_rows * row;
      for (int32_t ox = 0; ox < out_w; ++ox, dy += channels) {
        const int32_t ix0 = ox * stride_w - pad_left;
        const int32_t kx0 = first_inside(ix0, dilation_w);
        const int32_t kx1 = end_inside(ix0, dilation_w, in_w, filter_w);
        const int32_t x = (ix0 + kx0 * dilation_w) * channels;
        const float *g = dy, *const g_end = dy + channels;
        if (kx0 >= kx1) continue;
        t.cols = kx1 - kx0;
        t.at = tap_row + x;
        t.wrap = t.ring_size + x;
        t.w = w + (ky0 * filter_w + kx0) * channels;
        /* Live channels four at a time, the last one to three made a four with the first at gradient 0. */
        while ((g = next_live(g, g_end)) != g_end) {
          const int32_t c0 = (int32_t)(g - dy);
          int32_t c1 = c0, c2 = c0, c3 = c0;
          float h1 = 0.0f, h2 = 0.0f, h3 = 0.0f;
          const float h0 = dy[c0] * w_scale[c0];
          if ((g = next_live(g + 1, g_end)) != g_end) {
            c1 = (int32_t)(g - dy), h1 = dy[c1] * w_scale[c1];
            if ((g = next_live(g + 1, g_end)) != g_end) {
              c2 = (int32_t)(g - dy), h2 = dy[c2] * w_scale[c2];
              if ((g = next_live(g + 1, g_end)) != g_end) c3 = (int32_t)(g - dy), h3 = dy[c3] * w_scale[c3], ++g;
            }
          }
          scatter4(&t, c0, c1, c2, c3, h0, h1, h2, h3);
        }
      }
    }
  }
}
