/*
 * CONV_2D, int8, any filter size, stride, dilation and padding (TFLite reference_integer_ops::ConvPerChannel).
 * NHWC input, OHWI weights, per-output-channel requantization.
 *
 * Exactness: TFLite sums (x + input_offset) * w over the taps inside the image. Equivalently, sum x * w over every
 * tap, with taps outside the image reading the input zero point (-input_offset), plus input_offset * sum w: that
 * last term is folded into `folded_bias` at compile time. So each output is a plain int8 dot product of the
 * weights with the pixel's window ("column"), borders included.
 *
 * Speed: the window of two output pixels at a time is gathered into `scratch` (2 * filter_h * filter_w * in_c
 * bytes, padded with the zero point); for 1x1 filters (which never reach the padding) the column is the input
 * pixel itself and nothing is copied. Each column pair is then multiplied by the weights two output channels at a
 * time, so every byte loaded feeds two multiply-accumulates. On DSP builds, where the columns are short, the
 * weights few and the channels a multiple of 4 (a network's first convolution: 27 taps, 16 channels), the weights
 * are sign-extended into halfword lanes once per call and each window once, straight from the image where it lies
 * inside, and four channels share every window word loaded: the 2x2 blocks spent more on gathering, extending and
 * spilling than on multiply-accumulates there.
 */
#include <string.h>
#include "tf_kernels.h"

/* The constant part of one call. */
typedef struct {
  int32_t in_h, in_w, in_c, out_c;
  int32_t filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int32_t filter_size; /* weights per output channel = column bytes */
  int8_t pad_value;    /* the input zero point */
  const int8_t *weights;
  const int32_t *folded_bias, *multipliers, *shifts;
  int32_t output_offset, act_min, act_max;
  int32_t rq; /* DSP builds: 2 when every channel suits tf_rq_apply (or the rounding is 'float32') and the range is
               * int8's, 1 when they suit it */
  const int32_t *weight_lanes;      /* DSP builds: the weights in halfword lanes, channels four at a time, or NULL */
  int32_t lane_words;               /* lane words per column */
  const struct window_plan *packed; /* with weight_lanes: their order, over rows back to back (weights, columns) */
} conv_geom;

static inline int8_t conv_requantize(const conv_geom *g, int32_t acc, int32_t oc) {
#if defined(TF_DSP) && TF_FLOAT32_REQUANT
  acc = tf_requantize_float32_add_sat(acc, g->multipliers[oc], g->output_offset);
  return tf_store_clamped(acc, g->act_min, g->act_max, g->rq == 2);
#elif defined(TF_DSP) && TF_RQ_CONV
  if (g->rq) {
    acc = tf_rq_apply(tf_rq_channel(g->multipliers[oc], g->shifts[oc]), acc) + g->output_offset;
    return tf_store_clamped(acc, g->act_min, g->act_max, g->rq == 2);
  }
#endif
  acc = tf_requantize_conv(acc, g->multipliers[oc], g->shifts[oc]) + g->output_offset;
  return (int8_t)tf_clamp(acc, g->act_min, g->act_max);
}

static void copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) { /* word copies; compilers turn these memcpy calls into (unaligned) loads/stores */
    uint32_t word;
    memcpy(&word, src + i, 4);
    memcpy(dst + i, &word, 4);
  }
  for (; i < n; ++i) dst[i] = src[i];
}

static void fill_bytes(int8_t *dst, int8_t value, int32_t n) {
  for (int32_t i = 0; i < n; ++i) dst[i] = value;
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

/* The column of output pixel (oy, ox): its window in OHWI tap order, filter_size bytes. */
static const int8_t *conv_column(const conv_geom *g, const int8_t *image, int32_t oy, int32_t ox, int8_t *col) {
  const int32_t in_c = g->in_c;
  if (g->filter_h == 1 && g->filter_w == 1) return image + (oy * g->stride_h * g->in_w + ox * g->stride_w) * in_c;
  const int32_t origin_y = oy * g->stride_h - g->pad_top;
  const int32_t origin_x = ox * g->stride_w - g->pad_left;
  const int32_t row_bytes = g->filter_w * in_c;
  if (g->dilation_w == 1 && origin_x >= 0 && origin_x + g->filter_w <= g->in_w) {
    /* Every row of the window is whole and contiguous (most pixels): no tap range to find. */
    int8_t *dst = col;
    for (int32_t ky = 0; ky < g->filter_h; ++ky, dst += row_bytes) {
      const int32_t iy = origin_y + ky * g->dilation_h;
      if (iy < 0 || iy >= g->in_h) {
        fill_bytes(dst, g->pad_value, row_bytes);
      } else {
        copy_bytes(dst, image + (iy * g->in_w + origin_x) * in_c, row_bytes);
      }
    }
    return col;
  }
  int32_t kx0, kx1;
  tap_range(origin_x, g->in_w, g->filter_w, g->dilation_w, &kx0, &kx1);
  int8_t *dst = col;
  for (int32_t ky = 0; ky < g->filter_h; ++ky, dst += row_bytes) {
    const int32_t iy = origin_y + ky * g->dilation_h;
    if (iy < 0 || iy >= g->in_h || kx0 == kx1) {
      fill_bytes(dst, g->pad_value, row_bytes);
      continue;
    }
    const int8_t *src = image + (iy * g->in_w + origin_x + kx0 * g->dilation_w) * in_c;
    fill_bytes(dst, g->pad_value, kx0 * in_c);
    if (g->dilation_w == 1) {
      copy_bytes(dst + kx0 * in_c, src, (kx1 - kx0) * in_c);
    } else {
      for (int32_t kx = kx0; kx < kx1; ++kx, src += g->dilation_w * in_c) copy_bytes(dst + kx * in_c, src, in_c);
    }
    fill_bytes(dst + kx1 * in_c, g->pad_value, (g->filter_w - kx1) * in_c);
  }
  return col;
}

/* Two output pixels (columns c0, c1), every output channel. */
static void conv_pixel_pair(const conv_geom *g, const int8_t *c0, const int8_t *c1, int8_t *out0, int8_t *out1) {
  const int32_t n = g->filter_size;
  int32_t oc = 0;
  for (; oc + 1 < g->out_c; oc += 2) {
    const int8_t *w0 = g->weights + oc * n;
    const int8_t *w1 = w0 + n;
    int32_t acc00 = g->folded_bias[oc], acc01 = g->folded_bias[oc + 1]; /* pixel 0 */
    int32_t acc10 = acc00, acc11 = acc01;                                 /* pixel 1 */
#ifdef TF_DSP
    tf_dsp_dot_2x2(c0, c1, w0, w1, n, &acc00, &acc01, &acc10, &acc11);
#else
    for (int32_t i = 0; i < n; ++i) {
      const int32_t a = c0[i], b = c1[i], u = w0[i], v = w1[i];
      acc00 += a * u;
      acc01 += a * v;
      acc10 += b * u;
      acc11 += b * v;
    }
#endif
    out0[oc] = conv_requantize(g, acc00, oc);
    out0[oc + 1] = conv_requantize(g, acc01, oc + 1);
    out1[oc] = conv_requantize(g, acc10, oc);
    out1[oc + 1] = conv_requantize(g, acc11, oc + 1);
  }
  if (oc < g->out_c) {
    const int8_t *w0 = g->weights + oc * n;
    int32_t acc0 = g->folded_bias[oc], acc1 = acc0;
#ifdef TF_DSP
    tf_dsp_dot_1x2(w0, c0, c1, n, &acc0, &acc1);
#else
    for (int32_t i = 0; i < n; ++i) {
      const int32_t u = w0[i];
      acc0 += c0[i] * u;
      acc1 += c1[i] * u;
    }
#endif
    out0[oc] = conv_requantize(g, acc0, oc);
    out1[oc] = conv_requantize(g, acc1, oc);
  }
}

#ifdef TF_DSP
/* Columns of at most this many taps, and at most this many lane words of weights (stack), take the lanes path (and
 * windows spanning at most INT16_MAX bytes of the image, for window_plan's offsets). */
#define CONV_LANES_MAX_TAPS 64
#define CONV_LANES_MAX_WEIGHT_WORDS 256

/*
 * The order in which a window's bytes go into halfword lanes, as offsets from its first byte: the whole words of its
 * rows (word_at), then the bytes each row leaves over (row_bytes % 4, rest_at), packed four to a word in row order, the
 * last word padded with zeros. Weights, gathered columns and windows read in place all take this order, so the
 * products pair up tap by tap and the padding adds 0; only the bytes between rows (row_step) differ.
 */
typedef struct window_plan {
  int32_t words, rest;
  int16_t word_at[CONV_LANES_MAX_TAPS / 4]; /* int16: the lanes path takes windows spanning at most INT16_MAX bytes */
  int16_t rest_at[CONV_LANES_MAX_TAPS];
} window_plan;

static void plan_window(int32_t rows, int32_t row_bytes, int32_t row_step, window_plan *plan) {
  const int32_t whole = row_bytes & ~3;
  plan->words = 0;
  plan->rest = 0;
  for (int32_t ky = 0; ky < rows; ++ky) {
    for (int32_t i = 0; i < whole; i += 4) plan->word_at[plan->words++] = (int16_t)(ky * row_step + i);
  }
  for (int32_t ky = 0; ky < rows; ++ky) {
    for (int32_t i = whole; i < row_bytes; ++i) plan->rest_at[plan->rest++] = (int16_t)(ky * row_step + i);
  }
}

/*
 * The window at `base` in lanes, in the plan's order, as SXTB16 extends each word: bytes 4k, 4k + 2 to dst[0] and
 * 4k + 1, 4k + 3 to dst[step], the next word 2 * step words on.
 */
static void lanes_from_plan(const window_plan *plan, const int8_t *base, int32_t *dst, int32_t step) {
  for (const int16_t *at = plan->word_at, *end = at + plan->words; at != end; ++at, dst += 2 * step) {
    const uint32_t word = tf_load_s8x4(base + *at);
    dst[0] = tf_sxtb16_even(word);
    dst[step] = tf_sxtb16_odd(word);
  }
  for (int32_t j = 0; j < plan->rest; j += 4, dst += 2 * step) {
    uint32_t word = 0;
    for (int32_t b = 0; b < 4 && j + b < plan->rest; ++b) {
      word |= (uint32_t)(uint8_t)base[plan->rest_at[j + b]] << (8 * b);
    }
    dst[0] = tf_sxtb16_even(word);
    dst[step] = tf_sxtb16_odd(word);
  }
}

/*
 * The window of output pixel (oy, ox) in lanes (at dst with step 2): read in place through `in_image` where its rows
 * are whole and inside the image (most pixels), else gathered into `col` and read through g->packed.
 */
static void window_lanes(const conv_geom *g, const window_plan *in_image, const int8_t *image, int32_t oy, int32_t ox,
                         int8_t *col, int32_t *dst) {
  const int32_t origin_y = oy * g->stride_h - g->pad_top;
  const int32_t origin_x = ox * g->stride_w - g->pad_left;
  if (g->dilation_w == 1 && origin_x >= 0 && origin_x + g->filter_w <= g->in_w && origin_y >= 0 &&
      origin_y + (g->filter_h - 1) * g->dilation_h < g->in_h) {
    lanes_from_plan(in_image, image + (origin_y * g->in_w + origin_x) * g->in_c, dst, 2);
  } else {
    lanes_from_plan(g->packed, conv_column(g, image, oy, ox, col), dst, 2);
  }
}

/*
 * The image's output pixels two at a time, every output channel four at a time, from the windows in lanes (a lone
 * last pixel is paired with itself, its outputs written twice with the same values).
 */
static void conv_image_lanes(const conv_geom *g, const int8_t *image, int32_t out_h, int32_t out_w, int8_t *col,
                             int8_t *out) {
  int32_t columns[CONV_LANES_MAX_TAPS]; /* lane word k of both windows at [2k] and [2k + 1] */
  const int32_t *const columns_end = columns + 2 * g->lane_words;
  const int32_t out_c = g->out_c;
  window_plan in_image;
  plan_window(g->filter_h, g->filter_w * g->in_c, g->dilation_h * g->in_w * g->in_c, &in_image);
  for (int32_t p = 0; p < out_h * out_w; p += 2) {
    const int32_t q = p + 1 < out_h * out_w ? p + 1 : p;
    window_lanes(g, &in_image, image, p / out_w, p % out_w, col, columns);
    window_lanes(g, &in_image, image, q / out_w, q % out_w, col, columns + 1);
    int8_t *const out0 = out + p * out_c, *const out1 = out + q * out_c;
    const int32_t *w = g->weight_lanes;
    for (int32_t oc = 0; oc < out_c; oc += 4) {
      int32_t s00 = g->folded_bias[oc], s01 = g->folded_bias[oc + 1];
      int32_t s02 = g->folded_bias[oc + 2], s03 = g->folded_bias[oc + 3];
      int32_t s10 = s00, s11 = s01, s12 = s02, s13 = s03;
      /* lane_words is even (two per four bytes): two at a time. */
      for (const int32_t *x = columns; x != columns_end; x += 4, w += 8) {
#pragma GCC unroll 2
        for (int32_t k = 0; k < 2; ++k) {
          const int32_t x0 = x[2 * k], x1 = x[2 * k + 1];
          const int32_t *const wk = w + 4 * k;
          s00 = __smlad(x0, wk[0], s00);
          s10 = __smlad(x1, wk[0], s10);
          s01 = __smlad(x0, wk[1], s01);
          s11 = __smlad(x1, wk[1], s11);
          s02 = __smlad(x0, wk[2], s02);
          s12 = __smlad(x1, wk[2], s12);
          s03 = __smlad(x0, wk[3], s03);
          s13 = __smlad(x1, wk[3], s13);
        }
      }
      out0[oc] = conv_requantize(g, s00, oc);
      out0[oc + 1] = conv_requantize(g, s01, oc + 1);
      out0[oc + 2] = conv_requantize(g, s02, oc + 2);
      out0[oc + 3] = conv_requantize(g, s03, oc + 3);
      out1[oc] = conv_requantize(g, s10, oc);
      out1[oc + 1] = conv_requantize(g, s11, oc + 1);
      out1[oc + 2] = conv_requantize(g, s12, oc + 2);
      out1[oc + 3] = conv_requantize(g, s13, oc + 3);
    }
  }
}
#endif

/* One output pixel (column c0), every output channel. */
static void conv_pixel(const conv_geom *g, const int8_t *c0, int8_t *out0) {
  const int32_t n = g->filter_size;
  int32_t oc = 0;
  for (; oc + 1 < g->out_c; oc += 2) {
    const int8_t *w0 = g->weights + oc * n;
    const int8_t *w1 = w0 + n;
    int32_t acc0 = g->folded_bias[oc], acc1 = g->folded_bias[oc + 1];
#ifdef TF_DSP
    tf_dsp_dot_1x2(c0, w0, w1, n, &acc0, &acc1);
#else
    for (int32_t i = 0; i < n; ++i) {
      const int32_t a = c0[i];
      acc0 += a * w0[i];
      acc1 += a * w1[i];
    }
#endif
    out0[oc] = conv_requantize(g, acc0, oc);
    out0[oc + 1] = conv_requantize(g, acc1, oc + 1);
  }
  if (oc < g->out_c) {
    const int8_t *w0 = g->weights + oc * n;
    int32_t acc0 = g->folded_bias[oc];
#ifdef TF_DSP
    acc0 = tf_dsp_dot_1x1(c0, w0, n, acc0);
#else
    for (int32_t i = 0; i < n; ++i) acc0 += c0[i] * w0[i];
#endif
    out0[oc] = conv_requantize(g, acc0, oc);
  }
}

void conv2d_s8(const int8_t *input, const int8_t *weights, const int32_t *folded_bias, int8_t *output, void *scratch,
               int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
               int32_t filter_h, int32_t filter_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
               int32_t dilation_w, int32_t pad_top, int32_t pad_left, int32_t input_zero_point,
               const int32_t *multipliers, const int32_t *shifts, int32_t output_offset, int32_t act_min,
               int32_t act_max) {
  conv_geom g;
  g.in_h = in_h;
  g.in_w = in_w;
  g.in_c = in_c;
  g.out_c = out_c;
  g.filter_h = filter_h;
  g.filter_w = filter_w;
  g.stride_h = stride_h;
  g.stride_w = stride_w;
  g.dilation_h = dilation_h;
  g.dilation_w = dilation_w;
  g.pad_top = pad_top;
  g.pad_left = pad_left;
  g.filter_size = filter_h * filter_w * in_c;
  g.pad_value = (int8_t)input_zero_point;
  g.weights = weights;
  g.folded_bias = folded_bias;
  g.multipliers = multipliers;
  g.shifts = shifts;
  g.output_offset = output_offset;
  g.act_min = act_min;
  g.act_max = act_max;
  g.rq = 0;
#if defined(TF_DSP) && (TF_RQ_CONV || TF_FLOAT32_REQUANT)
  if (TF_FLOAT32_REQUANT || tf_rq_layer_ok(multipliers, shifts, out_c)) {
    g.rq = act_min == -128 && act_max == 127 ? 2 : 1;
  }
#endif
  g.weight_lanes = NULL;
  g.lane_words = 0;
  g.packed = NULL;
#ifdef TF_DSP
  /* Weight words of channel 4q + j, lane word k at [(q * lane_words + k) * 4 + j]. */
  int32_t weight_lanes[CONV_LANES_MAX_WEIGHT_WORDS];
  window_plan packed;
  const int32_t lane_words = 2 * ((g.filter_size + 3) / 4);
  const int32_t window_span = (filter_h - 1) * dilation_h * in_w * in_c + filter_w * in_c;
  if (g.filter_size <= CONV_LANES_MAX_TAPS && out_c % 4 == 0 && out_c * lane_words <= CONV_LANES_MAX_WEIGHT_WORDS &&
      window_span <= INT16_MAX) {
    plan_window(filter_h, filter_w * in_c, filter_w * in_c, &packed);
    for (int32_t oc = 0; oc < out_c; ++oc) {
      lanes_from_plan(&packed, weights + oc * g.filter_size, weight_lanes + (oc / 4) * lane_words * 4 + oc % 4, 4);
    }
    g.weight_lanes = weight_lanes;
    g.lane_words = lane_words;
    g.packed = &packed;
  }
#endif
  /* Two columns (1x1 filters would not use them: their columns are the input pixels). */
  int8_t *col0 = (int8_t *)scratch;
  int8_t *col1 = col0 + g.filter_size;

  int8_t *out = output;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *image = input + b * in_h * in_w * in_c;
#ifdef TF_DSP
    if (g.weight_lanes) {
      conv_image_lanes(&g, image, out_h, out_w, col0, out);
      out += out_h * out_w * out_c;
      continue;
    }
#endif
    /* Output pixels in order, two at a time (a pair may straddle two rows). */
    int32_t oy = 0, ox = 0;
    for (int32_t left = out_h * out_w; left > 0;) {
      const int8_t *c0 = conv_column(&g, image, oy, ox, col0);
      if (left == 1) {
        conv_pixel(&g, c0, out);
        out += out_c;
        break;
      }
      if (++ox == out_w) {
        ox = 0;
        ++oy;
      }
      const int8_t *c1 = conv_column(&g, image, oy, ox, col1);
      if (++ox == out_w) {
        ox = 0;
        ++oy;
      }
      conv_pixel_pair(&g, c0, c1, out, out + out_c);
      out += 2 * out_c;
      left -= 2;
    }
  }
}
