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
 * registers across the taps; 3x3 interior pixels have a fully unrolled path. Cortex-M DSP builds have their own path
 * for depth multiplier 1 (dw_dsp_layer).
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

#if defined(TF_DSP) && (TF_RQ_DEPTHWISE || TF_FLOAT32_REQUANT)
/*
 * Cortex-M DSP path, depth multiplier 1. Channels go four at a time (a 32-bit load is one tap of four channels),
 * the channel group being the outer loop so that its weights and requantization constants are prepared once per
 * layer rather than once per pixel. Taps go in pairs: two words [a0 a1 a2 a3] (tap a) and [b0 b1 b2 b3] (tap b)
 * become [a0 a1 b0 b1] (PKHBT) and [a2 a3 b2 b3] (PKHTB), whose SXTB16 even/odd expansions pair a channel's two taps
 * in the halfword lanes: one SMLAD per channel per two taps, against weights packed the same way in advance. A tap
 * left over is a 16x16 SMLABB/SMLATT per channel. Those are the interior pixels (plain int8 products from the
 * folded bias); border pixels go tap by tap over the taps inside the image (dw_dsp_row). Requantization: tf_rq_apply
 * with the output offset folded in (double rounding), or the 'float32' rounding with a saturating offset addition;
 * four outputs are saturated, packed, clamped to the activation range with SSUB8/SEL and stored as one word.
 *
 * Tap order, shared by the packing and the products: each filter row's columns in pairs, then (odd widths) the last
 * column's rows in pairs, then (odd heights too) the last tap alone.
 */
#define DW_DSP_MAX_TAPS 49 /* up to 7x7: a group's prepared weights are 198 words on the stack (dw_dsp_group) */

/* [a0 a1 b0 b1] of words [a0 a1 a2 a3], [b0 b1 b2 b3]: PKHBT. */
static inline uint32_t dw_pack_lo(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

/* [a2 a3 b2 b3]: PKHTB. */
static inline uint32_t dw_pack_hi(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
  return r;
}

/* Lanes (channel 0, 1, 2, 3) of taps a and b: [a0 b0], [a1 b1], [a2 b2], [a3 b3]. */
#define DW_LANES(a, b, l0, l1, l2, l3)           \
  do {                                           \
    const uint32_t lo_ = dw_pack_lo((a), (b));   \
    const uint32_t hi_ = dw_pack_hi((a), (b));   \
    (l0) = tf_sxtb16_even(lo_);                  \
    (l1) = tf_sxtb16_odd(lo_);                   \
    (l2) = tf_sxtb16_even(hi_);                  \
    (l3) = tf_sxtb16_odd(hi_);                   \
  } while (0)

/* Packed weights of channels c..c+3: four words per tap pair, two ([w0 w2], [w1 w3]) for a last lone tap. */
static void dw_dsp_pack(const int8_t *w, int32_t out_c, int32_t fh, int32_t fw, int32_t *pk) {
  const int32_t w_row = fw * out_c;
  for (int32_t ky = 0; ky < fh; ++ky) {
    const int8_t *p = w + ky * w_row;
    for (int32_t kx = 0; kx + 1 < fw; kx += 2, p += 2 * out_c, pk += 4) {
      DW_LANES(tf_load_s8x4(p), tf_load_s8x4(p + out_c), pk[0], pk[1], pk[2], pk[3]);
    }
  }
  if (fw & 1) {
    const int8_t *p = w + (fw - 1) * out_c;
    int32_t ky = 0;
    for (; ky + 1 < fh; ky += 2, p += 2 * w_row, pk += 4) {
      DW_LANES(tf_load_s8x4(p), tf_load_s8x4(p + w_row), pk[0], pk[1], pk[2], pk[3]);
    }
    if (ky < fh) {
      const uint32_t v = tf_load_s8x4(p);
      pk[0] = tf_sxtb16_even(v);
      pk[1] = tf_sxtb16_odd(v);
    }
  }
}

/* acc0..acc3 += lanes e = [x0 x2], o = [x1 x3] times pe[0] = [w0 w2], pe[1] = [w1 w3]: SMLABB and SMLATT. */
#define DW_TAP_EXPANDED(e, o, pe)          \
  do {                                     \
    acc0 = __smlabb((e), (pe)[0], acc0);   \
    acc2 = __smlatt((e), (pe)[0], acc2);   \
    acc1 = __smlabb((o), (pe)[1], acc1);   \
    acc3 = __smlatt((o), (pe)[1], acc3);   \
  } while (0)

/* acc0..acc3 += the taps a, b of channels 0..3 (words of four input bytes) times packed weights pk[0..3]. */
#define DW_PAIR(a, b, pk)                         \
  do {                                            \
    int32_t l0_, l1_, l2_, l3_;                   \
    DW_LANES((a), (b), l0_, l1_, l2_, l3_);       \
    acc0 = __smlad(l0_, (pk)[0], acc0);           \
    acc1 = __smlad(l1_, (pk)[1], acc1);           \
    acc2 = __smlad(l2_, (pk)[2], acc2);           \
    acc3 = __smlad(l3_, (pk)[3], acc3);           \
  } while (0)

/*
 * The interior dot products of one pixel, channels c..c+3: `x` is the input of channel c under tap (0, 0), `acc`
 * holds the folded bias in and the sums out. Inlined with constant fh, fw for the common filters.
 */
static inline __attribute__((always_inline)) void dw_dsp_dot4(const int8_t *x, int32_t tx, int32_t ty, int32_t fh,
                                                             int32_t fw, const int32_t *pk, int32_t *acc) {
  int32_t acc0 = acc[0], acc1 = acc[1], acc2 = acc[2], acc3 = acc[3];
  const int8_t *row = x;
#pragma GCC unroll 7
  for (int32_t ky = 0; ky < fh; ++ky, row += ty) {
    const int8_t *p = row;
#pragma GCC unroll 3
    for (int32_t kx = 0; kx + 1 < fw; kx += 2, p += 2 * tx, pk += 4) DW_PAIR(tf_load_s8x4(p), tf_load_s8x4(p + tx), pk);
  }
  if (fw & 1) {
    const int8_t *p = x + (fw - 1) * tx;
    int32_t ky = 0;
#pragma GCC unroll 3
    for (; ky + 1 < fh; ky += 2, p += 2 * ty, pk += 4) DW_PAIR(tf_load_s8x4(p), tf_load_s8x4(p + ty), pk);
    if (ky < fh) {
      const uint32_t v = tf_load_s8x4(p);
      DW_TAP_EXPANDED(tf_sxtb16_even(v), tf_sxtb16_odd(v), pk);
    }
  }
  acc[0] = acc0;
  acc[1] = acc1;
  acc[2] = acc2;
  acc[3] = acc3;
}

#if TF_FLOAT32_REQUANT
/* DW_RQ_APPLY(q, acc, off): the requantized accumulator plus the output offset `off`, for an SSAT to int8. */
typedef int32_t dw_rq;
#define DW_RQ_CHANNEL(g, c) ((g)->multipliers[c])
#define DW_RQ_APPLY(q, acc, off) tf_requantize_float32_add_sat((acc), (q), (off))
#define DW_RQ_LAYER_OK(g) 1
#else
/* tf_rq_apply with the output offset folded in (tf_rq_channel_offset: shifts down to -23). */
typedef tf_rq dw_rq;
static inline int dw_rq_layer_ok(const dw_geom *g) {
  for (int32_t c = 0; c < g->out_c; ++c) {
    if (g->shifts[c] < -23) return 0;
  }
  return 1;
}
#define DW_RQ_CHANNEL(g, c) tf_rq_channel_offset((g)->multipliers[c], (g)->shifts[c], (g)->output_offset)
#define DW_RQ_APPLY(q, acc, off) ((void)(off), tf_rq_apply((q), (acc)))
#define DW_RQ_LAYER_OK(g) dw_rq_layer_ok(g)
#endif

/* A channel group's constants, all at fixed offsets from one pointer. */
typedef struct {
  int32_t bias[4];   /* folded */
  int32_t raw_bias[4];
  dw_rq q[4];
  uint32_t lo4, hi4; /* act_min, act_max in every byte */
  int32_t output_offset;
  int32_t pk[4 * ((DW_DSP_MAX_TAPS + 1) / 2)];
  int32_t pe[2 * DW_DSP_MAX_TAPS]; /* tap by tap (row-major): [w0 w2], [w1 w3] */
} dw_dsp_group;

/* The layer's geometry, for the row functions. */
typedef struct {
  int32_t in_h, in_w, in_c, out_w, out_c, stride_w, dilation_h, dilation_w, pad_left;
  int32_t row_bytes, tx, ty;
  int32_t ix0, ix1; /* the output columns whose window is inside the image horizontally */
  uint32_t off2;    /* input_offset in both halfwords */
} dw_dsp_geom;

/* Saturates r to int8 into byte `lane` of v (the others kept). */
#define DW_BFI(v, r, lane) __asm__("bfi %0, %1, #" #lane "*8, #8" : "+r"(v) : "r"(__ssat((r), 8)))

/*
 * Requantizes four accumulators and stores them as one (unaligned) word: each saturated to int8 and packed, then
 * clamped lane by lane to [lo4, hi4] (SSUB8 sets the GE flags where the difference is >= 0, SEL keeps those lanes).
 */
static inline __attribute__((always_inline)) void dw_dsp_store(const dw_dsp_group *k, const int32_t *acc, int8_t *out) {
  const int32_t off = k->output_offset;
  uint32_t v = (uint32_t)__ssat(DW_RQ_APPLY(k->q[0], acc[0], off), 8);
  DW_BFI(v, DW_RQ_APPLY(k->q[1], acc[1], off), 1);
  DW_BFI(v, DW_RQ_APPLY(k->q[2], acc[2], off), 2);
  DW_BFI(v, DW_RQ_APPLY(k->q[3], acc[3], off), 3);
  uint32_t t;
  __asm__("ssub8 %[t], %[v], %[lo]\n\t"
          "sel %[v], %[v], %[lo]\n\t"
          "ssub8 %[t], %[hi], %[v]\n\t"
          "sel %[v], %[v], %[hi]"
          : [v] "+r"(v), [t] "=&r"(t)
          : [lo] "r"(k->lo4), [hi] "r"(k->hi4));
  memcpy(out, &v, 4);
}

/* [x1 + off, x3 + off] of a word [x0 x1 x2 x3] and off2 = [off off]: SXTAB16 with ROR #8 (no builtin takes it). */
static inline int32_t dw_sxtab16_odd(uint32_t off2, uint32_t x) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(off2), "r"(x));
  return r;
}

/*
 * One output row of the group's four channels: `image` is the batch's input at channel c, `out` the row's output at
 * channel c. Interior pixels read the input in place, from the folded bias. Border pixels sum (x + input_offset) * w
 * over the taps inside the image only, from the raw bias, one tap at a time (x + input_offset, in [-255, 255], is
 * exact in a halfword lane).
 */
static inline __attribute__((always_inline)) void dw_dsp_row(const dw_dsp_group *k, const dw_dsp_geom *q,
                                                            const int8_t *image, int32_t origin_y, int8_t *out,
                                                            int32_t fh, int32_t fw) {
  int32_t ky0, ky1;
  dw_tap_range(origin_y, q->in_h, fh, q->dilation_h, &ky0, &ky1);
  const int32_t tx = q->tx, ty = q->ty, out_c = q->out_c, in_c = q->in_c, stride_w = q->stride_w;
  const int32_t ix0 = ky0 == 0 && ky1 == fh ? q->ix0 : q->out_w; /* no interior run outside the interior rows */
  for (int32_t ox = 0; ox < q->out_w; ++ox) {
    if (ox == ix0 && ix0 < q->ix1) {
      const int8_t *x = image + origin_y * q->row_bytes + (ox * stride_w - q->pad_left) * in_c;
      int8_t *o = out + ox * out_c;
      for (const int8_t *x_end = x + (q->ix1 - ix0) * stride_w * in_c; x != x_end; x += stride_w * in_c, o += out_c) {
        int32_t acc[4] = {k->bias[0], k->bias[1], k->bias[2], k->bias[3]};
        dw_dsp_dot4(x, tx, ty, fh, fw, k->pk, acc);
        dw_dsp_store(k, acc, o);
      }
      ox = q->ix1 - 1;
      continue;
    }
    const int32_t origin_x = ox * stride_w - q->pad_left;
    int32_t kx0, kx1;
    dw_tap_range(origin_x, q->in_w, fw, q->dilation_w, &kx0, &kx1);
    int32_t acc0 = k->raw_bias[0], acc1 = k->raw_bias[1], acc2 = k->raw_bias[2], acc3 = k->raw_bias[3];
    if (kx0 < kx1) {
      const uint32_t off2 = q->off2;
      for (int32_t ky = ky0; ky < ky1; ++ky) {
        const int8_t *x = image + (origin_y + ky * q->dilation_h) * q->row_bytes + (origin_x + kx0 * q->dilation_w) * in_c;
        const int32_t *pe = k->pe + 2 * (ky * fw + kx0);
        for (const int32_t *pe_end = pe + 2 * (kx1 - kx0); pe != pe_end; pe += 2, x += tx) {
          const uint32_t v = tf_load_s8x4(x);
          DW_TAP_EXPANDED(__sxtab16((int32_t)off2, (int32_t)v), dw_sxtab16_odd(off2, v), pe);
        }
      }
    }
    int32_t acc[4] = {acc0, acc1, acc2, acc3};
    dw_dsp_store(k, acc, out + ox * out_c);
  }
}

typedef void (*dw_dsp_row_fn)(const dw_dsp_group *, const dw_dsp_geom *, const int8_t *, int32_t, int8_t *, int32_t,
                              int32_t);

#define DW_DSP_ROW_VARIANT(name, FH, FW)                                                                          \
  static void name(const dw_dsp_group *k, const dw_dsp_geom *q, const int8_t *image, int32_t origin_y, int8_t *out, \
                   int32_t fh, int32_t fw) {                                                                      \
    (void)fh;                                                                                                     \
    (void)fw;                                                                                                     \
    dw_dsp_row(k, q, image, origin_y, out, FH, FW);                                                               \
  }
DW_DSP_ROW_VARIANT(dw_dsp_row_3x3, 3, 3)
DW_DSP_ROW_VARIANT(dw_dsp_row_5x5, 5, 5)
DW_DSP_ROW_VARIANT(dw_dsp_row_7x7, 7, 7)
DW_DSP_ROW_VARIANT(dw_dsp_row_any, fh, fw)

/*
 * The whole layer, depth multiplier 1, in_c >= 4: channel groups of four (the last one may overlap the one before,
 * recomputing a few channels with the same results), each over every output pixel.
 */
static void dw_dsp_layer(const dw_geom *g, const int8_t *input, const int32_t *bias, const int32_t *folded_bias,
                         int8_t *output,
                         int32_t batches, int32_t in_h, int32_t in_w, int32_t out_h, int32_t out_w, int32_t filter_h,
                         int32_t filter_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w,
                         int32_t pad_top, int32_t pad_left, int32_t input_offset) {
  dw_dsp_geom q;
  q.in_h = in_h;
  q.in_w = in_w;
  q.in_c = g->in_c;
  q.out_w = out_w;
  q.out_c = g->out_c;
  q.stride_w = stride_w;
  q.dilation_h = dilation_h;
  q.dilation_w = dilation_w;
  q.pad_left = pad_left;
  q.row_bytes = in_w * g->in_c;
  q.tx = g->x_tap_step;
  q.ty = g->x_row_step;
  q.off2 = 0x00010001u * (uint16_t)input_offset;
  /* Interior columns: origin_x = ox * stride_w - pad_left in [0, last_interior_x]. */
  const int32_t last_interior_x = in_w - 1 - (filter_w - 1) * dilation_w;
  q.ix0 = (pad_left + stride_w - 1) / stride_w;
  q.ix1 = last_interior_x + pad_left < 0 ? 0 : (last_interior_x + pad_left) / stride_w + 1;
  if (q.ix1 > out_w) q.ix1 = out_w;
  if (q.ix0 > q.ix1) q.ix0 = q.ix1;
  dw_dsp_row_fn row = dw_dsp_row_any;
  if (filter_h == 3 && filter_w == 3) row = dw_dsp_row_3x3;
  if (filter_h == 5 && filter_w == 5) row = dw_dsp_row_5x5;
  if (filter_h == 7 && filter_w == 7) row = dw_dsp_row_7x7;
  dw_dsp_group k;
  k.lo4 = 0x01010101u * (uint8_t)g->act_min;
  k.hi4 = 0x01010101u * (uint8_t)g->act_max;
  k.output_offset = g->output_offset;
  for (int32_t cg = 0; cg < q.in_c; cg += 4) {
    const int32_t c = cg + 4 <= q.in_c ? cg : q.in_c - 4;
    dw_dsp_pack(g->weights + c, q.out_c, filter_h, filter_w, k.pk);
    for (int32_t t = 0; t < filter_h * filter_w; ++t) {
      const uint32_t v = tf_load_s8x4(g->weights + t * q.out_c + c);
      k.pe[2 * t] = tf_sxtb16_even(v);
      k.pe[2 * t + 1] = tf_sxtb16_odd(v);
    }
    for (int32_t i = 0; i < 4; ++i) {
      k.bias[i] = folded_bias[c + i];
      k.raw_bias[i] = bias[c + i];
      k.q[i] = DW_RQ_CHANNEL(g, c + i);
    }
    for (int32_t b = 0; b < batches; ++b) {
      const int8_t *image = input + b * in_h * q.row_bytes + c;
      int8_t *out = output + b * out_h * out_w * q.out_c + c;
      for (int32_t oy = 0; oy < out_h; ++oy, out += out_w * q.out_c) {
        row(&k, &q, image, oy * stride_h - pad_top, out, filter_h, filter_w);
      }
    }
  }
}
#endif

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
#if defined(TF_DSP) && (TF_RQ_DEPTHWISE || TF_FLOAT32_REQUANT)
  if (depth_multiplier == 1 && in_c >= 4 && filter_h * filter_w <= DW_DSP_MAX_TAPS && input_offset >= -127 &&
      input_offset <= 128 && (TF_FLOAT32_REQUANT || g.rq) && DW_RQ_LAYER_OK(&g)) { /* input_offset: an int8 zero point's */
    dw_dsp_layer(&g, input, bias, folded_bias, output, batches, in_h, in_w, out_h, out_w, filter_h, filter_w, stride_h,
                 stride_w, dilation_h, dilation_w, pad_top, pad_left, input_offset);
    return;
  }
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
