/*
 * CONV_2D, int8, any filter size, stride, dilation and padding (TFLite reference_integer_ops::ConvPerChannel).
 * NHWC input, OHWI weights, per-output-channel requantization.
 *
 * Exactness: TFLite sums (x + input_offset) * w over the taps inside the image. For an interior pixel (every tap
 * inside) that is sum x * w + input_offset * sum w, and the second term is folded into `folded_bias` at compile time,
 * so interior pixels are plain int8 dot products. Border pixels start from `bias` and add the offset per tap, over
 * the taps that are inside only.
 *
 * Speed: interior pixels are computed two at a time (horizontal neighbours), two output channels at a time, so that
 * each input and weight byte loaded feeds two multiply-accumulates.
 */
#include "tf_kernels.h"

/* The constant part of one call. */
typedef struct {
  int32_t in_h, in_w, in_c, out_c;
  int32_t filter_h, filter_w, dilation_h, dilation_w;
  int32_t row_stride;  /* bytes between input rows */
  int32_t filter_size; /* weights per output channel */
  const int8_t *weights;
  const int32_t *multipliers, *shifts;
  int32_t output_offset, act_min, act_max;
} conv_geom;

static inline int8_t conv_requantize(const conv_geom *g, int32_t acc, int32_t oc) {
  acc = tf_requantize_conv(acc, g->multipliers[oc], g->shifts[oc]) + g->output_offset;
  return (int8_t)tf_clamp(acc, g->act_min, g->act_max);
}

/* Taps [*start, *end) of a window of `size` taps, `dilation` apart, from `origin`, that fall inside [0, extent). */
static void tap_range(int32_t origin, int32_t extent, int32_t size, int32_t dilation, int32_t *start, int32_t *end) {
  int32_t s = 0;
  int32_t e = (extent - 1 - origin) / dilation + 1; /* origin < extent always holds for TFLite's padding */
  if (origin < 0) s = (-origin + dilation - 1) / dilation;
  if (e > size) e = size;
  if (s > e) s = e; /* a dilated window can miss the image entirely */
  *start = s;
  *end = e;
}

/*
 * One output pixel, every output channel: out[oc] = requant(start[oc] + sum (x + offset) * w) over taps
 * [ky0, ky1) x [kx0, kx1). `x_first` points at the input pixel under tap (ky0, kx0).
 */
static void conv_pixel(const conv_geom *g, const int8_t *x_first, const int32_t *start, int32_t offset,
                       int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1, int8_t *out) {
  const int32_t in_c = g->in_c;
  /* With dilation_w == 1 the taps of one filter row are one contiguous run of input (and weight) bytes. */
  const int32_t runs = g->dilation_w == 1 ? 1 : kx1 - kx0;
  const int32_t run_len = g->dilation_w == 1 ? (kx1 - kx0) * in_c : in_c;
  const int32_t run_step = g->dilation_w * in_c;
  const int32_t w_first = (ky0 * g->filter_w + kx0) * in_c;
  const int32_t w_row_skip = (g->filter_w - (kx1 - kx0)) * in_c;
  int32_t oc = 0;
  for (; oc + 1 < g->out_c; oc += 2) {
    const int8_t *w0 = g->weights + oc * g->filter_size + w_first;
    const int8_t *w1 = w0 + g->filter_size;
    int32_t acc0 = start[oc];
    int32_t acc1 = start[oc + 1];
    const int8_t *xr = x_first;
    for (int32_t ky = ky0; ky < ky1; ++ky) {
      const int8_t *xk = xr;
      for (int32_t r = 0; r < runs; ++r) {
        for (int32_t i = 0; i < run_len; ++i) {
          const int32_t xv = (int32_t)xk[i] + offset;
          acc0 += xv * w0[i];
          acc1 += xv * w1[i];
        }
        xk += run_step;
        w0 += run_len;
        w1 += run_len;
      }
      w0 += w_row_skip;
      w1 += w_row_skip;
      xr += g->dilation_h * g->row_stride;
    }
    out[oc] = conv_requantize(g, acc0, oc);
    out[oc + 1] = conv_requantize(g, acc1, oc + 1);
  }
  if (oc < g->out_c) {
    const int8_t *w0 = g->weights + oc * g->filter_size + w_first;
    int32_t acc0 = start[oc];
    const int8_t *xr = x_first;
    for (int32_t ky = ky0; ky < ky1; ++ky) {
      const int8_t *xk = xr;
      for (int32_t r = 0; r < runs; ++r) {
        for (int32_t i = 0; i < run_len; ++i) acc0 += ((int32_t)xk[i] + offset) * w0[i];
        xk += run_step;
        w0 += run_len;
      }
      w0 += w_row_skip;
      xr += g->dilation_h * g->row_stride;
    }
    out[oc] = conv_requantize(g, acc0, oc);
  }
}

/*
 * Two horizontally adjacent interior pixels (every tap inside the image), every output channel, from the folded
 * bias: x0 and x0 + pixel_step are the input pixels under their tap (0, 0).
 */
static void conv_pixel_pair_interior(const conv_geom *g, const int8_t *x0, int32_t pixel_step, const int32_t *folded_bias,
                                     int8_t *out0, int8_t *out1) {
  const int32_t in_c = g->in_c;
  const int32_t runs = g->dilation_w == 1 ? 1 : g->filter_w;
  const int32_t run_len = g->dilation_w == 1 ? g->filter_w * in_c : in_c;
  const int32_t run_step = g->dilation_w * in_c;
  const int32_t row_step = g->dilation_h * g->row_stride;
  int32_t oc = 0;
  for (; oc + 1 < g->out_c; oc += 2) {
    const int8_t *w0 = g->weights + oc * g->filter_size;
    const int8_t *w1 = w0 + g->filter_size;
    int32_t acc00 = folded_bias[oc], acc01 = folded_bias[oc + 1]; /* pixel 0 */
    int32_t acc10 = acc00, acc11 = acc01;                           /* pixel 1 */
    const int8_t *xr = x0;
    for (int32_t ky = 0; ky < g->filter_h; ++ky) {
      const int8_t *xa = xr;
      for (int32_t r = 0; r < runs; ++r) {
        const int8_t *xb = xa + pixel_step;
        for (int32_t i = 0; i < run_len; ++i) {
          const int32_t a = xa[i], b = xb[i], u = w0[i], v = w1[i];
          acc00 += a * u;
          acc01 += a * v;
          acc10 += b * u;
          acc11 += b * v;
        }
        xa += run_step;
        w0 += run_len;
        w1 += run_len;
      }
      xr += row_step;
    }
    out0[oc] = conv_requantize(g, acc00, oc);
    out0[oc + 1] = conv_requantize(g, acc01, oc + 1);
    out1[oc] = conv_requantize(g, acc10, oc);
    out1[oc + 1] = conv_requantize(g, acc11, oc + 1);
  }
  if (oc < g->out_c) {
    const int8_t *w0 = g->weights + oc * g->filter_size;
    int32_t acc0 = folded_bias[oc], acc1 = acc0;
    const int8_t *xr = x0;
    for (int32_t ky = 0; ky < g->filter_h; ++ky) {
      const int8_t *xa = xr;
      for (int32_t r = 0; r < runs; ++r) {
        const int8_t *xb = xa + pixel_step;
        for (int32_t i = 0; i < run_len; ++i) {
          const int32_t u = w0[i];
          acc0 += xa[i] * u;
          acc1 += xb[i] * u;
        }
        xa += run_step;
        w0 += run_len;
      }
      xr += row_step;
    }
    out0[oc] = conv_requantize(g, acc0, oc);
    out1[oc] = conv_requantize(g, acc1, oc);
  }
}

void conv2d_s8(const int8_t *input, const int8_t *weights, const int32_t *bias, const int32_t *folded_bias, int8_t *output,
               int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
               int32_t filter_h, int32_t filter_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w,
               int32_t pad_top, int32_t pad_left, int32_t input_offset, const int32_t *multipliers, const int32_t *shifts,
               int32_t output_offset, int32_t act_min, int32_t act_max) {
  conv_geom g;
  g.in_h = in_h;
  g.in_w = in_w;
  g.in_c = in_c;
  g.out_c = out_c;
  g.filter_h = filter_h;
  g.filter_w = filter_w;
  g.dilation_h = dilation_h;
  g.dilation_w = dilation_w;
  g.row_stride = in_w * in_c;
  g.filter_size = filter_h * filter_w * in_c;
  g.weights = weights;
  g.multipliers = multipliers;
  g.shifts = shifts;
  g.output_offset = output_offset;
  g.act_min = act_min;
  g.act_max = act_max;
  /* The rightmost input column an interior window may start at. */
  const int32_t last_interior_x = in_w - 1 - (filter_w - 1) * dilation_w;

  int8_t *out = output;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *image = input + b * in_h * g.row_stride;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t origin_y = oy * stride_h - pad_top;
      int32_t ky0, ky1;
      tap_range(origin_y, in_h, filter_h, dilation_h, &ky0, &ky1);
      const int row_interior = ky0 == 0 && ky1 == filter_h;
      int32_t ox = 0;
      while (ox < out_w) {
        const int32_t origin_x = ox * stride_w - pad_left;
        if (row_interior && origin_x >= 0 && origin_x + stride_w <= last_interior_x && ox + 1 < out_w) {
          const int8_t *x = image + origin_y * g.row_stride + origin_x * in_c;
          conv_pixel_pair_interior(&g, x, stride_w * in_c, folded_bias, out, out + out_c);
          out += 2 * out_c;
          ox += 2;
          continue;
        }
        int32_t kx0, kx1;
        tap_range(origin_x, in_w, filter_w, dilation_w, &kx0, &kx1);
        if (row_interior && kx0 == 0 && kx1 == filter_w) {
          conv_pixel(&g, image + origin_y * g.row_stride + origin_x * in_c, folded_bias, 0, 0, filter_h, 0, filter_w, out);
        } else if (ky0 < ky1 && kx0 < kx1) {
          /* Only taps inside the image, from the raw bias: no address outside the image is ever formed. */
          const int8_t *x = image + (origin_y + ky0 * dilation_h) * g.row_stride + (origin_x + kx0 * dilation_w) * in_c;
          conv_pixel(&g, x, bias, input_offset, ky0, ky1, kx0, kx1, out);
        } else {
          conv_pixel(&g, image, bias, input_offset, 0, 0, 0, 0, out); /* no tap inside: bias only */
        }
        out += out_c;
        ++ox;
      }
    }
  }
}
