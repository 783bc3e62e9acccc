/*
 * Gradient with respect to the input of a depthwise convolution, depth multiplier 1, weights 1HWC
 * (compiler/ops/train/backprop_input.ts): each output gradient, times its channel's weight scale, is scattered into
 * the input pixels under its window; an output gradient of 0 adds nothing and is skipped. Each dx element receives its
 * terms in the reference's order, (n, oy, ox) ascending.
 *
 * dx may be dy's own buffer (stride 1 and equal shapes: the planner then lets the input gradient take the output
 * gradient's memory, the training step's largest saving). So the dx rows still receiving terms are accumulated in
 * `scratch`, a ring of min((filter_h - 1) * dilation_h + 1, in_h) rows of in_w x channels floats, and each row is
 * copied out once the output rows' windows have moved past it: with stride 1 never before its own dy row has been
 * read. Without scratch (NULL: dx has a buffer of its own) the same loop accumulates in dx itself, a ring of in_h rows
 * whose slot of each row is the row.
 */
#include <string.h>
#include "tf_kernels.h"

void depthwise_conv2d_backprop_input_f32(const float *dy, const int8_t *w, const float *w_scale, float *dx,
                                         void *scratch, int32_t batches, int32_t in_h, int32_t in_w, int32_t channels,
                                         int32_t out_h, int32_t out_w, int32_t filter_h, int32_t filter_w,
                                         int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w,
                                         int32_t pad_top, int32_t pad_left) {
  const int32_t span = (filter_h - 1) * dilation_h + 1;
  const int32_t ring_rows = scratch == NULL ? in_h : span < in_h ? span : in_h;
  /* ky steps through the ring by this many slots: dilation_h may exceed a ring cut short by in_h. */
  const int32_t slot_step = dilation_h % ring_rows;
  const int32_t row = in_w * channels;
  const size_t row_bytes = (size_t)row * sizeof(float);
  for (int32_t n = 0; n < batches; ++n) {
    float *const dx_image = dx + n * in_h * row;
    float *const ring = scratch == NULL ? dx_image : (float *)scratch;
    /* dx rows below `done` are in dx; rows in [done, opened) are in ring slot (row % ring_rows). */
    int32_t done = 0;
    int32_t opened = 0;
    for (int32_t oy = 0; oy <= out_h; ++oy) {
      const int32_t iy0 = oy * stride_h - pad_top;
      const int32_t complete = oy == out_h || iy0 > in_h ? in_h : iy0;
      int32_t last = iy0 + span - 1;
      int32_t slot0;
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
      slot0 = iy0 % ring_rows;
      if (slot0 < 0) slot0 += ring_rows;
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * stride_w - pad_left;
        for (int32_t c = 0; c < channels; ++c) {
          const float g = *dy++ * w_scale[c];
          int32_t slot = slot0;
          if (g == 0.0f) continue;
          for (int32_t ky = 0; ky < filter_h; ++ky) {
            const int32_t iy = iy0 + ky * dilation_h;
            float *const ring_row = ring + slot * row + c;
            slot += slot_step;
            if (slot >= ring_rows) slot -= ring_rows;
            if (iy < 0 || iy >= in_h) continue;
            for (int32_t kx = 0; kx < filter_w; ++kx) {
              const int32_t ix = ix0 + kx * dilation_w;
              float *out;
              if (ix < 0 || ix >= in_w) continue;
              out = ring_row + ix * channels;
              *out = *out + g * (float)w[(ky * filter_w + kx) * channels + c];
            }
          }
        }
      }
    }
  }
}
