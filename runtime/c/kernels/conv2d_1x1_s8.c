/*
 * CONV_2D, int8, 1x1 filter (TFLite reference_integer_ops::ConvPerChannel restricted to 1x1 windows).
 * A 1x1 window never reaches the padding, so every output pixel is a dot product of one input pixel with one
 * weight row, and the input zero point's contribution is entirely in `folded_bias` (folded at compile time).
 * With stride 1 the whole batch is one [pixels x in_c] by [out_c x in_c]^T matrix multiply.
 *
 * Pixels are computed two at a time and output channels two at a time: each byte loaded feeds two
 * multiply-accumulates (the same core as conv2d_s8's, which gathers windows into columns first). On Cortex-M, a pixel
 * pair is sign-extended into halfword lanes once for all output channels (in_c a multiple of 4, up to 256); with 8 or
 * 16 input channels, a pixel's lanes stay in registers instead while the output channels go by, their weights
 * extended once per call.
 */
#include "tf_kernels.h"

static inline int8_t conv1x1_requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset,
                                        int32_t act_min, int32_t act_max) {
  return (int8_t)tf_clamp(tf_requantize_conv(acc, multiplier, shift) + output_offset, act_min, act_max);
}

/* A run of `count` output pixels whose inputs are `pixel_step` bytes apart. */
static void conv1x1_run(const int8_t *x, int32_t pixel_step, int32_t count, const int8_t *weights, const int32_t *folded_bias,
                        int8_t *out, int32_t in_c, int32_t out_c, const int32_t *multipliers, const int32_t *shifts,
                        int32_t output_offset, int32_t act_min, int32_t act_max) {
  int32_t p = 0;
  for (; p + 1 < count; p += 2) {
    const int8_t *x0 = x + p * pixel_step;
    const int8_t *x1 = x0 + pixel_step;
    int8_t *out0 = out + p * out_c;
    int8_t *out1 = out0 + out_c;
    int32_t oc = 0;
    for (; oc + 1 < out_c; oc += 2) {
      const int8_t *w0 = weights + oc * in_c;
      const int8_t *w1 = w0 + in_c;
      int32_t acc00 = folded_bias[oc], acc01 = folded_bias[oc + 1];
      int32_t acc10 = acc00, acc11 = acc01;
#ifdef TF_DSP
      tf_dsp_dot_2x2(x0, x1, w0, w1, in_c, &acc00, &acc01, &acc10, &acc11);
#else
      for (int32_t i = 0; i < in_c; ++i) {
        const int32_t a = x0[i], b = x1[i], u = w0[i], v = w1[i];
        acc00 += a * u;
        acc01 += a * v;
        acc10 += b * u;
        acc11 += b * v;
      }
#endif
      out0[oc] = conv1x1_requantize(acc00, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
      out0[oc + 1] = conv1x1_requantize(acc01, multipliers[oc + 1], shifts[oc + 1], output_offset, act_min, act_max);
      out1[oc] = conv1x1_requantize(acc10, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
      out1[oc + 1] = conv1x1_requantize(acc11, multipliers[oc + 1], shifts[oc + 1], output_offset, act_min, act_max);
    }
    if (oc < out_c) {
      const int8_t *w0 = weights + oc * in_c;
      int32_t acc0 = folded_bias[oc], acc1 = acc0;
#ifdef TF_DSP
      tf_dsp_dot_1x2(w0, x0, x1, in_c, &acc0, &acc1);
#else
      for (int32_t i = 0; i < in_c; ++i) {
        const int32_t u = w0[i];
        acc0 += x0[i] * u;
        acc1 += x1[i] * u;
      }
#endif
      out0[oc] = conv1x1_requantize(acc0, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
      out1[oc] = conv1x1_requantize(acc1, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
    }
  }
  if (p < count) {
    const int8_t *x0 = x + p * pixel_step;
    int8_t *out0 = out + p * out_c;
    int32_t oc = 0;
    for (; oc + 1 < out_c; oc += 2) {
      const int8_t *w0 = weights + oc * in_c;
      const int8_t *w1 = w0 + in_c;
      int32_t acc0 = folded_bias[oc], acc1 = folded_bias[oc + 1];
#ifdef TF_DSP
      tf_dsp_dot_1x2(x0, w0, w1, in_c, &acc0, &acc1);
#else
      for (int32_t i = 0; i < in_c; ++i) {
        const int32_t a = x0[i];
        acc0 += a * w0[i];
        acc1 += a * w1[i];
      }
#endif
      out0[oc] = conv1x1_requantize(acc0, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
      out0[oc + 1] = conv1x1_requantize(acc1, multipliers[oc + 1], shifts[oc + 1], output_offset, act_min, act_max);
    }
    if (oc < out_c) {
      const int8_t *w0 = weights + oc * in_c;
      int32_t acc0 = folded_bias[oc];
#ifdef TF_DSP
      acc0 = tf_dsp_dot_1x1(x0, w0, in_c, acc0);
#else
      for (int32_t i = 0; i < in_c; ++i) acc0 += x0[i] * w0[i];
#endif
      out0[oc] = conv1x1_requantize(acc0, multipliers[oc], shifts[oc], output_offset, act_min, act_max);
    }
  }
}

#if defined(TF_DSP) && (TF_RQ_CONV || TF_FLOAT32_REQUANT)
/*
 * conv1x1_run with the one-rounding form of the requantization (tf_rq_apply, exact when tf_rq_layer_ok holds):
 * each channel's constants are made once per pixel pair; or with the 'float32' rounding. CONV1X1_RQ_APPLY gives the
 * output before its clamp, output offset included. `full` (a constant in each caller) clamps with SSAT.
 */
#if TF_FLOAT32_REQUANT
#define CONV1X1_RQ_CHANNEL(oc) multipliers[oc]
#define CONV1X1_RQ_APPLY(q, acc) tf_requantize_float32_add_sat((acc), (q), output_offset)
typedef int32_t conv1x1_rq;
#else
#define CONV1X1_RQ_CHANNEL(oc) tf_rq_channel(multipliers[oc], shifts[oc])
#define CONV1X1_RQ_APPLY(q, acc) (tf_rq_apply((q), (acc)) + output_offset)
typedef tf_rq conv1x1_rq;
#endif
static inline __attribute__((always_inline)) void conv1x1_run_rq(const int8_t *x, int32_t pixel_step, int32_t count,
                                                                  const int8_t *weights, const int32_t *folded_bias,
                                                                  int8_t *out, int32_t in_c, int32_t out_c,
                                                                  const int32_t *multipliers, const int32_t *shifts,
                                                                  int32_t output_offset, int32_t act_min,
                                                                  int32_t act_max, int full) {
  (void)shifts; /* unused by the 'float32' rounding */
  int32_t p = 0;
  for (; p < count; p += 2) {
    const int8_t *x0 = x + p * pixel_step;
    /* A lone last pixel is paired with itself, its second output written to the same place with the same value. */
    const int32_t pair = p + 1 < count;
    const int8_t *x1 = pair ? x0 + pixel_step : x0;
    int8_t *out0 = out + p * out_c;
    int8_t *out1 = pair ? out0 + out_c : out0;
    int32_t oc = 0;
    for (; oc + 1 < out_c; oc += 2) {
      const int8_t *w0 = weights + oc * in_c;
      const int8_t *w1 = w0 + in_c;
      int32_t acc00 = folded_bias[oc], acc01 = folded_bias[oc + 1];
      int32_t acc10 = acc00, acc11 = acc01;
      tf_dsp_dot_2x2(x0, x1, w0, w1, in_c, &acc00, &acc01, &acc10, &acc11);
      const conv1x1_rq q0 = CONV1X1_RQ_CHANNEL(oc), q1 = CONV1X1_RQ_CHANNEL(oc + 1);
      const int32_t r00 = CONV1X1_RQ_APPLY(q0, acc00);
      const int32_t r01 = CONV1X1_RQ_APPLY(q1, acc01);
      const int32_t r10 = CONV1X1_RQ_APPLY(q0, acc10);
      const int32_t r11 = CONV1X1_RQ_APPLY(q1, acc11);
      out1[oc] = tf_store_clamped(r10, act_min, act_max, full);
      out1[oc + 1] = tf_store_clamped(r11, act_min, act_max, full);
      out0[oc] = tf_store_clamped(r00, act_min, act_max, full);
      out0[oc + 1] = tf_store_clamped(r01, act_min, act_max, full);
    }
    if (oc < out_c) {
      const int8_t *w0 = weights + oc * in_c;
      int32_t acc0 = folded_bias[oc], acc1 = acc0;
      tf_dsp_dot_1x2(w0, x0, x1, in_c, &acc0, &acc1);
      const conv1x1_rq q0 = CONV1X1_RQ_CHANNEL(oc);
      const int32_t r0 = CONV1X1_RQ_APPLY(q0, acc0), r1 = CONV1X1_RQ_APPLY(q0, acc1);
      out1[oc] = tf_store_clamped(r1, act_min, act_max, full);
      out0[oc] = tf_store_clamped(r0, act_min, act_max, full);
    }
  }
}

/* Output channels conv1x1_run_lanes prepares at a time: 32 records of 40 bytes (or more: tf_rq) on the stack. */
#define CONV1X1_LANES_BLOCK 32

/* An output channel's constants for conv1x1_run_lanes: its weights in halfword lanes (8 or 16 input channels). */
typedef struct {
  int32_t lanes[8];
  int32_t bias;
  conv1x1_rq q;
} conv1x1_channel;

/*
 * `pixels` (1 or 2) pixels of conv1x1_run_lanes, starting at x0 and o, through the block's channels: the pixels'
 * lanes stay in registers while the channels go by.
 */
static inline __attribute__((always_inline)) void conv1x1_lanes_pixels(
    const int8_t *x0, int8_t *o, int32_t pixels, const conv1x1_channel *block, const conv1x1_channel *block_end,
    int32_t in_c, int32_t out_c, int32_t output_offset, int32_t act_min, int32_t act_max, int full) {
  int32_t lanes[2][8];
#pragma GCC unroll 2
  for (int32_t p = 0; p < pixels; ++p) {
#pragma GCC unroll 4
    for (int32_t k = 0; k < in_c / 4; ++k) {
      const uint32_t a = tf_load_s8x4(x0 + p * in_c + 4 * k);
      lanes[p][2 * k] = tf_sxtb16_even(a);
      lanes[p][2 * k + 1] = tf_sxtb16_odd(a);
    }
  }
  for (const conv1x1_channel *ch = block; ch != block_end; ++ch, ++o) {
    int32_t acc[2] = {ch->bias, ch->bias};
#pragma GCC unroll 8
    for (int32_t k = 0; k < in_c / 2; ++k) {
      const int32_t w = ch->lanes[k];
#pragma GCC unroll 2
      for (int32_t p = 0; p < pixels; ++p) acc[p] = __smlad(lanes[p][k], w, acc[p]);
    }
#pragma GCC unroll 2
    for (int32_t p = 0; p < pixels; ++p) {
      o[p * out_c] = tf_store_clamped(CONV1X1_RQ_APPLY(ch->q, acc[p]), act_min, act_max, full);
    }
  }
}

/*
 * conv1x1_run_rq for in_c 8 or 16 (known at compile time): the weights of a block of output channels are extended
 * into halfword lanes once per call, next to each channel's bias and multiplier, and the pixels once per block,
 * two at a time with 8 input channels (their 8 lanes fill as many registers as one pixel's 16 channels). With so few
 * input channels, the channel-pair loop of conv1x1_run_rq spends more on loop control and spills than on
 * multiply-accumulates, and extending per channel and pixel costs as much as the multiply-accumulates.
 */
static inline __attribute__((always_inline)) void conv1x1_run_lanes(
    const int8_t *x, int32_t count, const int8_t *weights, const int32_t *folded_bias, int8_t *out, int32_t in_c,
    int32_t out_c, const int32_t *multipliers, const int32_t *shifts, int32_t output_offset, int32_t act_min,
    int32_t act_max, int full) {
  (void)shifts; /* unused by the 'float32' rounding */
  const int32_t step = in_c == 8 ? 2 : 1;
  conv1x1_channel block[CONV1X1_LANES_BLOCK];
  for (int32_t c0 = 0; c0 < out_c; c0 += CONV1X1_LANES_BLOCK) {
    const int32_t n = out_c - c0 < CONV1X1_LANES_BLOCK ? out_c - c0 : CONV1X1_LANES_BLOCK;
    for (int32_t j = 0; j < n; ++j) {
#pragma GCC unroll 4
      for (int32_t k = 0; k < in_c / 4; ++k) {
        const uint32_t w = tf_load_s8x4(weights + (c0 + j) * in_c + 4 * k);
        block[j].lanes[2 * k] = tf_sxtb16_even(w);
        block[j].lanes[2 * k + 1] = tf_sxtb16_odd(w);
      }
      block[j].bias = folded_bias[c0 + j];
      block[j].q = CONV1X1_RQ_CHANNEL(c0 + j);
    }
    int32_t p = 0;
    for (; p + step <= count; p += step) {
      conv1x1_lanes_pixels(x + p * in_c, out + p * out_c + c0, step, block, block + n, in_c, out_c, output_offset,
                           act_min, act_max, full);
    }
    if (p < count) {
      conv1x1_lanes_pixels(x + p * in_c, out + p * out_c + c0, 1, block, block + n, in_c, out_c, output_offset,
                           act_min, act_max, full);
    }
  }
}

/* The most input channels conv1x1_run_expanded takes: its expanded pixel pair is 4 * in_c bytes of stack. */
#define CONV1X1_EXPANDED_MAX_IN_C 256

/*
 * conv1x1_run_rq for in_c a multiple of 4, at most CONV1X1_EXPANDED_MAX_IN_C: each pixel pair is sign-extended into
 * halfword lanes once (word k of both pixels as [even, odd] of pixel 0, then of pixel 1), so the channel pairs' loop
 * extends only the weights: 2 loads fewer and 4 extends fewer per 4 bytes than tf_dsp_dot_2x2.
 */
static inline __attribute__((always_inline)) void conv1x1_run_expanded(
    const int8_t *x, int32_t pixel_step, int32_t count, const int8_t *weights, const int32_t *folded_bias, int8_t *out,
    int32_t in_c, int32_t out_c, const int32_t *multipliers, const int32_t *shifts, int32_t output_offset,
    int32_t act_min, int32_t act_max, int full) {
  (void)shifts; /* unused by the 'float32' rounding */
  int32_t lanes[CONV1X1_EXPANDED_MAX_IN_C];
  const int32_t words = in_c / 4;
  for (int32_t p = 0; p < count; p += 2) {
    const int8_t *x0 = x + p * pixel_step;
    /* A lone last pixel is paired with itself, its second output written to the same place with the same value. */
    const int32_t pair = p + 1 < count;
    const int8_t *x1 = pair ? x0 + pixel_step : x0;
    int8_t *out0 = out + p * out_c;
    int8_t *out1 = pair ? out0 + out_c : out0;
    for (int32_t k = 0; k < words; ++k) {
      const uint32_t a = tf_load_s8x4(x0 + 4 * k), b = tf_load_s8x4(x1 + 4 * k);
      lanes[4 * k] = tf_sxtb16_even(a);
      lanes[4 * k + 1] = tf_sxtb16_odd(a);
      lanes[4 * k + 2] = tf_sxtb16_even(b);
      lanes[4 * k + 3] = tf_sxtb16_odd(b);
    }
    const int32_t *const lanes_end = lanes + 4 * words;
    for (int32_t oc = 0; oc < out_c; oc += 2) {
      /* An odd last channel is paired with itself, as the lone pixel is. */
      const int32_t oc1 = oc + 1 < out_c ? oc + 1 : oc;
      const int8_t *w0 = weights + oc * in_c, *w1 = weights + oc1 * in_c;
      int32_t s00 = folded_bias[oc], s01 = folded_bias[oc1], s10 = s00, s11 = s01;
      for (const int32_t *l = lanes; l != lanes_end; l += 4, w0 += 4, w1 += 4) {
        const uint32_t wa = tf_load_s8x4(w0), wb = tf_load_s8x4(w1);
        const int32_t wa_e = tf_sxtb16_even(wa), wa_o = tf_sxtb16_odd(wa);
        s00 = __smlad(l[0], wa_e, s00);
        s00 = __smlad(l[1], wa_o, s00);
        s10 = __smlad(l[2], wa_e, s10);
        s10 = __smlad(l[3], wa_o, s10);
        const int32_t wb_e = tf_sxtb16_even(wb), wb_o = tf_sxtb16_odd(wb);
        s01 = __smlad(l[0], wb_e, s01);
        s01 = __smlad(l[1], wb_o, s01);
        s11 = __smlad(l[2], wb_e, s11);
        s11 = __smlad(l[3], wb_o, s11);
      }
      const conv1x1_rq q0 = CONV1X1_RQ_CHANNEL(oc), q1 = CONV1X1_RQ_CHANNEL(oc1);
      const int32_t r00 = CONV1X1_RQ_APPLY(q0, s00), r01 = CONV1X1_RQ_APPLY(q1, s01);
      const int32_t r10 = CONV1X1_RQ_APPLY(q0, s10), r11 = CONV1X1_RQ_APPLY(q1, s11);
      out1[oc1] = tf_store_clamped(r11, act_min, act_max, full);
      out1[oc] = tf_store_clamped(r10, act_min, act_max, full);
      out0[oc1] = tf_store_clamped(r01, act_min, act_max, full);
      out0[oc] = tf_store_clamped(r00, act_min, act_max, full);
    }
  }
}

/* The pixel pairs extended once where in_c allows (conv1x1_run_expanded), else the 2x2 blocks (conv1x1_run_rq). */
static inline __attribute__((always_inline)) void conv1x1_run_dsp(const int8_t *x, int32_t pixel_step, int32_t count,
                                                                   const int8_t *weights, const int32_t *folded_bias,
                                                                   int8_t *out, int32_t in_c, int32_t out_c,
                                                                   const int32_t *multipliers, const int32_t *shifts,
                                                                   int32_t output_offset, int32_t act_min,
                                                                   int32_t act_max, int full) {
  if (in_c % 4 == 0 && in_c <= CONV1X1_EXPANDED_MAX_IN_C) {
    conv1x1_run_expanded(x, pixel_step, count, weights, folded_bias, out, in_c, out_c, multipliers, shifts,
                         output_offset, act_min, act_max, full);
    return;
  }
  conv1x1_run_rq(x, pixel_step, count, weights, folded_bias, out, in_c, out_c, multipliers, shifts, output_offset,
                 act_min, act_max, full);
}

static void conv1x1_run_rq_full(const int8_t *x, int32_t pixel_step, int32_t count, const int8_t *weights,
                                const int32_t *folded_bias, int8_t *out, int32_t in_c, int32_t out_c,
                                const int32_t *multipliers, const int32_t *shifts, int32_t output_offset,
                                int32_t act_min, int32_t act_max) {
  conv1x1_run_dsp(x, pixel_step, count, weights, folded_bias, out, in_c, out_c, multipliers, shifts, output_offset,
                  act_min, act_max, 1);
}

static void conv1x1_run_rq_clamp(const int8_t *x, int32_t pixel_step, int32_t count, const int8_t *weights,
                                 const int32_t *folded_bias, int8_t *out, int32_t in_c, int32_t out_c,
                                 const int32_t *multipliers, const int32_t *shifts, int32_t output_offset,
                                 int32_t act_min, int32_t act_max) {
  conv1x1_run_dsp(x, pixel_step, count, weights, folded_bias, out, in_c, out_c, multipliers, shifts, output_offset,
                  act_min, act_max, 0);
}

#define CONV1X1_LANES(name, channels, is_full)                                                                       \
  static void name(const int8_t *x, int32_t pixel_step, int32_t count, const int8_t *weights,                        \
                   const int32_t *folded_bias, int8_t *out, int32_t in_c, int32_t out_c, const int32_t *multipliers, \
                   const int32_t *shifts, int32_t output_offset, int32_t act_min, int32_t act_max) {                 \
    if (pixel_step != in_c) {                                                                                         \
      (is_full ? conv1x1_run_rq_full : conv1x1_run_rq_clamp)(x, pixel_step, count, weights, folded_bias, out, in_c,   \
                                                             out_c, multipliers, shifts, output_offset, act_min,      \
                                                             act_max);                                                \
      return;                                                                                                         \
    }                                                                                                                 \
    conv1x1_run_lanes(x, count, weights, folded_bias, out, channels, out_c, multipliers, shifts, output_offset,       \
                      act_min, act_max, is_full);                                                                     \
  }
CONV1X1_LANES(conv1x1_run_c8_full, 8, 1)
CONV1X1_LANES(conv1x1_run_c8_clamp, 8, 0)
CONV1X1_LANES(conv1x1_run_c16_full, 16, 1)
CONV1X1_LANES(conv1x1_run_c16_clamp, 16, 0)
#endif

void conv2d_1x1_s8(const int8_t *input, const int8_t *weights, const int32_t *folded_bias, int8_t *output,
                   int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                   int32_t stride_h, int32_t stride_w, const int32_t *multipliers, const int32_t *shifts,
                   int32_t output_offset, int32_t act_min, int32_t act_max) {
  typedef void (*run_fn)(const int8_t *, int32_t, int32_t, const int8_t *, const int32_t *, int8_t *, int32_t, int32_t,
                         const int32_t *, const int32_t *, int32_t, int32_t, int32_t);
  run_fn conv1x1_run_fn = conv1x1_run;
#if defined(TF_DSP) && (TF_RQ_CONV || TF_FLOAT32_REQUANT)
  if (TF_FLOAT32_REQUANT || tf_rq_layer_ok(multipliers, shifts, out_c)) {
    const int full = act_min == -128 && act_max == 127;
    conv1x1_run_fn = in_c == 8    ? (full ? conv1x1_run_c8_full : conv1x1_run_c8_clamp)
                     : in_c == 16 ? (full ? conv1x1_run_c16_full : conv1x1_run_c16_clamp)
                                  : (full ? conv1x1_run_rq_full : conv1x1_run_rq_clamp);
  }
#endif
  if (stride_h == 1 && stride_w == 1) {
    /* out_h == in_h and out_w == in_w: every input pixel, in order. */
    conv1x1_run_fn(input, in_c, batches * out_h * out_w, weights, folded_bias, output, in_c, out_c, multipliers, shifts,
                output_offset, act_min, act_max);
    return;
  }
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int8_t *row = input + ((b * in_h + oy * stride_h) * in_w) * in_c;
      int8_t *out = output + ((b * out_h + oy) * out_w) * out_c;
      conv1x1_run_fn(row, stride_w * in_c, out_w, weights, folded_bias, out, in_c, out_c, multipliers, shifts,
                  output_offset, act_min, act_max);
    }
  }
}
