/*
 * DEPTHWISE_CONV_2D, int8 (TFLite reference_integer_ops::DepthwiseConvPerChannel). NHWC input, 1HWC weights
 * (output channel c = input channel * depth_multiplier + m), per-channel requantization (tf_requantize_depthwise).
 *
 * Exactness: TFLite sums (x + input_offset) * w over the taps inside the image. For an interior pixel that is
 * sum x * w + input_offset * sum w, whose second term is folded into `folded_bias` at compile time, so interior
 * pixels are plain int8 dot products. Border pixels start from `bias` and add the offset per tap, over the taps
 * that are inside only.
 *
 * Speed: with depth multiplier 1 (MobileNet, DS-CNN) channels go four at a time, so the four accumulators stay in
 * registers across the taps; 3x3 interior pixels have a fully unrolled path.
 */
#include "tf_kernels.h"

typedef struct {
  int32_t in_c, out_c, depth_multiplier, filter_w;
  int32_t x_tap_step; /* input bytes between horizontally adjacent taps: dilation_w * in_c */
  int32_t x_row_step; /* input bytes between vertically adjacent taps: dilation_h * in_w * in_c */
  const int8_t *weights;
  const int32_t *multipliers, *shifts;
  int32_t output_offset, act_min, act_max;
  int32_t rq; /* DSP builds: 2 when every channel suits tf_rq_apply and the range is int8's, 1 when they suit it */
} dw_geom;

static inline int8_t dw_requantize(const dw_geom *g, int32_t acc, int32_t c) {
#if defined(TF_DSP) && TF_RQ_DEPTHWISE
  if (g->rq) {
    acc = tf_rq_apply(tf_rq_channel(g->multipliers[c], g->shifts[c]), acc) + g->output_offset;
    return tf_store_clamped(acc, g->act_min, g->act_max, g->rq == 2);
  }
#endif
  acc = tf_requantize_depthwise(acc, g->multipliers[c], g->shifts[c]) + g->output_offset;
  return (int8_t)tf_clamp(acc, g->act_min, g->act_max);
}

/* Taps [*start, *end) of a window of `size` taps, `dilation` apart, from `origin`, that fall inside [0, extent). */
static void dw_tap_range(int32_t origin, int32_t extent, int32_t size, int32_t dilation, int32_t *start, int32_t *end) {
  int32_t s = 0;
  int32_t e = (extent - 1 - origin) / dilation + 1; /* origin < extent always holds for TFLite's padding */
  if (origin < 0) s = (-origin + dilation - 1) / dilation;
  if (e > size) e = size;
  if (s > e) s = e; /* a dilated window can miss the image entirely */
  *start = s;
  *end = e;
}

/*
 * One output pixel, every output channel: out[c] = requant(start[c] + sum (x + offset) * w) over a window of
 * rows x cols taps whose first tap reads input `x` (channel 0) and weights `w` (channel 0).
 */
static void dw_pixel(const dw_geom *g, const int8_t *x, const int8_t *w, int32_t rows, int32_t cols, const int32_t *start,
                     int32_t offset, int8_t *out) {
  const int32_t in_c = g->in_c, out_c = g->out_c;
  const int32_t w_row_step = g->filter_w * out_c;
  if (g->depth_multiplier == 1) {
    int32_t c = 0;
    for (; c + 3 < in_c; c += 4) {
      int32_t acc0 = start[c], acc1 = start[c + 1], acc2 = start[c + 2], acc3 = start[c + 3];
      const int8_t *xr = x + c;
      const int8_t *wr = w + c;
      for (int32_t r = 0; r < rows; ++r) {
        const int8_t *xk = xr;
        const int8_t *wk = wr;
        for (int32_t k = 0; k < cols; ++k) {
          acc0 += ((int32_t)xk[0] + offset) * wk[0];
          acc1 += ((int32_t)xk[1] + offset) * wk[1];
          acc2 += ((int32_t)xk[2] + offset) * wk[2];
          acc3 += ((int32_t)xk[3] + offset) * wk[3];
          xk += g->x_tap_step;
          wk += out_c;
        }
        xr += g->x_row_step;
        wr += w_row_step;
      }
      out[c] = dw_requantize(g, acc0, c);
      out[c + 1] = dw_requantize(g, acc1, c + 1);
      out[c + 2] = dw_requantize(g, acc2, c + 2);
      out[c + 3] = dw_requantize(g, acc3, c + 3);
    }
    for (; c < in_c; ++c) {
      int32_t acc = start[c];
      const int8_t *xr = x + c;
      const int8_t *wr = w + c;
      for (int32_t r = 0; r < rows; ++r) {
        for (int32_t k = 0; k < cols; ++k) acc += ((int32_t)xr[k * g->x_tap_step] + offset) * wr[k * out_c];
        xr += g->x_row_step;
        wr += w_row_step;
      }
      out[c] = dw_requantize(g, acc, c);
    }
    return;
  }
  for (int32_t ic = 0; ic < in_c; ++ic) {
    for (int32_t m = 0; m < g->depth_multiplier; ++m) {
      const int32_t c = ic * g->depth_multiplier + m;
      int32_t acc = start[c];
      const int8_t *xr = x + ic;
      const int8_t *wr = w + c;
      for (int32_t r = 0; r < rows; ++r) {
        for (int32_t k = 0; k < cols; ++k) acc += ((int32_t)xr[k * g->x_tap_step] + offset) * wr[k * out_c];
        xr += g->x_row_step;
        wr += w_row_step;
      }
      out[c] = dw_requantize(g, acc, c);
    }
  }
}

/* acc_i += x[i] * w[i] for four channels, at one tap. */
#define DW_TAP4(xp, wp)      \
  do {                       \
    const int8_t *xt_ = (xp); \
    const int8_t *wt_ = (wp); \
    acc0 += xt_[0] * wt_[0]; \
    acc1 += xt_[1] * wt_[1]; \
    acc2 += xt_[2] * wt_[2]; \
    acc3 += xt_[3] * wt_[3]; \
  } while (0)

/*
 * A 3x3 interior pixel, depth multiplier 1, from the folded bias; `x` is the input under tap (0, 0). The three
 * taps of a filter row are unrolled; the rows are a loop, which keeps the address arithmetic in registers.
 */
static void dw_pixel_3x3_interior(const dw_geom *g, const int8_t *x, const int32_t *folded_bias, int8_t *out) {
  const int32_t c_count = g->in_c;
  const int32_t tx = g->x_tap_step;
  const int32_t ty = g->x_row_step;
  int32_t c = 0;
  for (; c + 3 < c_count; c += 4) {
    int32_t acc0 = folded_bias[c], acc1 = folded_bias[c + 1], acc2 = folded_bias[c + 2], acc3 = folded_bias[c + 3];
    const int8_t *xr = x + c;
    const int8_t *wr = g->weights + c;
    for (int32_t ky = 0; ky < 3; ++ky) {
      DW_TAP4(xr, wr);
      DW_TAP4(xr + tx, wr + c_count);
      DW_TAP4(xr + 2 * tx, wr + 2 * c_count);
      xr += ty;
      wr += 3 * c_count;
    }
    out[c] = dw_requantize(g, acc0, c);
    out[c + 1] = dw_requantize(g, acc1, c + 1);
    out[c + 2] = dw_requantize(g, acc2, c + 2);
    out[c + 3] = dw_requantize(g, acc3, c + 3);
  }
  for (; c < c_count; ++c) {
    int32_t acc = folded_bias[c];
    const int8_t *xr = x + c;
    const int8_t *wr = g->weights + c;
    for (int32_t ky = 0; ky < 3; ++ky) {
      acc += xr[0] * wr[0] + xr[tx] * wr[c_count] + xr[2 * tx] * wr[2 * c_count];
      xr += ty;
      wr += 3 * c_count;
    }
    out[c] = dw_requantize(g, acc, c);
  }
}

void depthwise_conv2d_s8(const int8_t *input, const int8_t *weights, const int32_t *bias, const int32_t *folded_bias,
                         int8_t *output, int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h,
                         int32_t out_w, int32_t depth_multiplier, int32_t filter_h, int32_t filter_w, int32_t stride_h,
                         int32_t stride_w, int32_t dilation_h, int32_t dilation_w, int32_t pad_top, int32_t pad_left,
                         int32_t input_offset, const int32_t *multipliers, const int32_t *shifts, int32_t output_offset,
                         int32_t act_min, int32_t act_max) {
  dw_geom g;
  g.in_c = in_c;
  g.out_c = in_c * depth_multiplier;
  g.depth_multiplier = depth_multiplier;
  g.filter_w = filter_w;
  g.x_tap_step = dilation_w * in_c;
  g.x_row_step = dilation_h * in_w * in_c;
  g.weights = weights;
  g.multipliers = multipliers;
  g.shifts = shifts;
  g.output_offset = output_offset;
  g.act_min = act_min;
  g.act_max = act_max;
  g.rq = 0;
#if defined(TF_DSP) && TF_RQ_DEPTHWISE
  if (tf_rq_layer_ok(multipliers, shifts, g.out_c)) g.rq = act_min == -128 && act_max == 127 ? 2 : 1;
#endif
  const int32_t row_bytes = in_w * in_c;
  const int32_t last_interior_x = in_w - 1 - (filter_w - 1) * dilation_w;
  const int unrolled_3x3 = filter_h == 3 && filter_w == 3 && depth_multiplier == 1;

  int8_t *out = output;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *image = input + b * in_h * row_bytes;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t origin_y = oy * stride_h - pad_top;
      int32_t ky0, ky1;
      dw_tap_range(origin_y, in_h, filter_h, dilation_h, &ky0, &ky1);
      const int row_interior = ky0 == 0 && ky1 == filter_h;
      for (int32_t ox = 0; ox < out_w; ++ox, out += g.out_c) {
        const int32_t origin_x = ox * stride_w - pad_left;
        if (row_interior && origin_x >= 0 && origin_x <= last_interior_x) {
          const int8_t *x = image + origin_y * row_bytes + origin_x * in_c;
          if (unrolled_3x3) {
            dw_pixel_3x3_interior(&g, x, folded_bias, out);
          } else {
            dw_pixel(&g, x, weights, filter_h, filter_w, folded_bias, 0, out);
          }
          continue;
        }
        int32_t kx0, kx1;
        dw_tap_range(origin_x, in_w, filter_w, dilation_w, &kx0, &kx1);
        if (ky0 < ky1 && kx0 < kx1) {
          /* Only taps inside the image, from the raw bias: no address outside the image is ever formed. */
          const int8_t *x = image + (origin_y + ky0 * dilation_h) * row_bytes + (origin_x + kx0 * dilation_w) * in_c;
          const int8_t *w = weights + (ky0 * filter_w + kx0) * g.out_c;
          dw_pixel(&g, x, w, ky1 - ky0, kx1 - kx0, bias, input_offset, out);
        } else {
          dw_pixel(&g, image, weights, 0, 0, bias, input_offset, out); /* no tap inside: bias only */
        }
      }
    }
  }
}
