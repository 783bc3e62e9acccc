/*
 * tinyforge runtime: TFLite's integer requantization arithmetic (C99).
 * Bit-exact with tensorflow/lite/kernels/internal/common.h; the compiler's reference
 * interpreter implements the same functions in compiler/ops/common/fixed_point.ts.
 */
#ifndef TF_FIXED_POINT_H
#define TF_FIXED_POINT_H

#include <stdint.h>
#include <string.h>
#include "tf_config.h"

/* gemmlowp's (ab + nudge) / 2^31, truncating, equals (ab + 2^30) >> 31 (an arithmetic shift, as gcc defines it)
 * for every product: for ab >= 0 both are floor((ab + 2^30) / 2^31); for ab < 0, truncating (ab + 1 - 2^30) / 2^31
 * is floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31). The shift spares Cortex-M a 64-bit division call. */
static inline int32_t tf_saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

static inline int32_t tf_rounding_divide_by_pot(int32_t x, int32_t exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* Two roundings, as TFLM and CMSIS-NN do. `shift` > 0 shifts left. The left shift goes through
 * uint32_t so that an overflow wraps instead of being undefined behaviour. */
static inline int32_t tf_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left_shift = shift > 0 ? shift : 0;
  const int32_t right_shift = shift > 0 ? 0 : -shift;
  const int32_t shifted = (int32_t)((uint32_t)x << left_shift);
  return tf_rounding_divide_by_pot(tf_saturating_rounding_doubling_high_mul(shifted, multiplier), right_shift);
}

/* One rounding, as TFLite's TFLITE_SINGLE_ROUNDING build does. */
static inline int32_t tf_multiply_by_quantized_multiplier_single(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t total_shift = 31 - shift;
  const int64_t round = (int64_t)1 << (total_shift - 1);
  return (int32_t)(((int64_t)x * multiplier + round) >> total_shift);
}

/* The 'float32' rounding: round half to even of fl(fl(acc) * m), m the float32 whose bits `multiplier` holds, in
 * IEEE single precision (the FPU of every target; C99 without FP contraction). Capping |p| at 2^22 keeps the rint
 * trick exact, (p + 1.5 * 2^23) - 1.5 * 2^23 rounding to an integer half to even, and the conversion defined;
 * such results saturate the int8 range anyway. */
static inline int32_t tf_requantize_float32(int32_t acc, int32_t multiplier) {
  float m;
  memcpy(&m, &multiplier, sizeof m);
#if defined(__ARM_FP) && (__ARM_FP & 4) && defined(__ARM_PCS_VFP) && defined(__thumb2__)
  /* Arm FPU: VCVTR converts with the FPSCR rounding mode, round to nearest even as for the multiply above it (the
   * same assumption), saturating; any |p| > 2^22 still lands outside the int8 range after the output offset (added
   * by the callers, whose values here are far from overflow: |result| <= 2^31 - 1 only where |p| is huge, and the
   * callers clamp), so the results are those of the portable form. */
  {
    float p = (float)acc * m;
    float r;
    int32_t out;
    __asm__("vcvtr.s32.f32 %0, %1" : "=t"(r) : "t"(p));
    memcpy(&out, &r, sizeof out);
    return out > 4194304 ? 4194304 : (out < -4194304 ? -4194304 : out);
  }
#endif
  float p = (float)acc * m;
  p = p > 4194304.0f ? 4194304.0f : (p < -4194304.0f ? -4194304.0f : p);
  return (int32_t)((p + 12582912.0f) - 12582912.0f);
}

/* Requantization of CONV_2D and FULLY_CONNECTED accumulators: the rounding is a compile option. */
static inline int32_t tf_requantize_conv(int32_t acc, int32_t multiplier, int32_t shift) {
#if TF_FLOAT32_REQUANT
  (void)shift;
  return tf_requantize_float32(acc, multiplier);
#elif TF_SINGLE_ROUNDING
  return tf_multiply_by_quantized_multiplier_single(acc, multiplier, shift);
#else
  return tf_multiply_by_quantized_multiplier(acc, multiplier, shift);
#endif
}

/* Requantization of DEPTHWISE_CONV_2D accumulators: two roundings as TFLM and TFLite's depthwise kernel, or the
 * 'float32' rounding. */
static inline int32_t tf_requantize_depthwise(int32_t acc, int32_t multiplier, int32_t shift) {
#if TF_FLOAT32_REQUANT
  (void)shift;
  return tf_requantize_float32(acc, multiplier);
#else
  return tf_multiply_by_quantized_multiplier(acc, multiplier, shift);
#endif
}

static inline int32_t tf_clamp(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/*
 * Cortex-M DSP extension (M4, M7, M33, M55...): two 16x16 multiply-accumulates per SMLAD. An int8 word [b0 b1 b2 b3]
 * expands to the halfword pairs [b0 b2] (SXTB16) and [b1 b3] (SXTB16 with ROR #8); two words expanded the same way
 * pair their lanes one to one, so two SMLADs give the 4-byte dot product. Integer sums in any order are exact.
 */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__ARM_FEATURE_SIMD32) && __ARM_FEATURE_SIMD32
#include <arm_acle.h>
#define TF_DSP 1

static inline uint32_t tf_load_s8x4(const int8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4); /* an (unaligned) LDR */
  return v;
}

/* [b0 b2] sign-extended to halfwords. */
static inline int32_t tf_sxtb16_even(uint32_t x) {
  return __sxtb16((int32_t)x);
}

/* [b1 b3] sign-extended to halfwords: SXTB16 with the rotation folded in (the builtin takes none). */
static inline int32_t tf_sxtb16_odd(uint32_t x) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}

/* acc + the dot product of 4 int8 pairs. */
static inline int32_t tf_dot4(uint32_t x, uint32_t w, int32_t acc) {
  acc = __smlad(tf_sxtb16_even(x), tf_sxtb16_even(w), acc);
  return __smlad(tf_sxtb16_odd(x), tf_sxtb16_odd(w), acc);
}

/*
 * Two columns (a0, a1) times two weight rows (w0, w1), n bytes each: acc[i][j] += a_i . w_j. Each expanded operand
 * feeds two SMLADs: 4 loads, 8 extends and 8 SMLADs per 16 multiply-accumulates.
 */
static inline void tf_dsp_dot_2x2(const int8_t *a0, const int8_t *a1, const int8_t *w0, const int8_t *w1, int32_t n,
                                  int32_t *acc00, int32_t *acc01, int32_t *acc10, int32_t *acc11) {
  int32_t s00 = *acc00, s01 = *acc01, s10 = *acc10, s11 = *acc11;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t wa = tf_load_s8x4(w0 + i);
    const uint32_t xa = tf_load_s8x4(a0 + i);
    const int32_t wa_e = tf_sxtb16_even(wa), wa_o = tf_sxtb16_odd(wa);
    int32_t x_e = tf_sxtb16_even(xa), x_o = tf_sxtb16_odd(xa);
    s00 = __smlad(x_e, wa_e, s00);
    s00 = __smlad(x_o, wa_o, s00);
    const uint32_t xb = tf_load_s8x4(a1 + i);
    const int32_t y_e = tf_sxtb16_even(xb), y_o = tf_sxtb16_odd(xb);
    s10 = __smlad(y_e, wa_e, s10);
    s10 = __smlad(y_o, wa_o, s10);
    const uint32_t wb = tf_load_s8x4(w1 + i);
    const int32_t wb_e = tf_sxtb16_even(wb), wb_o = tf_sxtb16_odd(wb);
    s01 = __smlad(x_e, wb_e, s01);
    s01 = __smlad(x_o, wb_o, s01);
    s11 = __smlad(y_e, wb_e, s11);
    s11 = __smlad(y_o, wb_o, s11);
  }
  for (; i < n; ++i) {
    const int32_t a = a0[i], b = a1[i], u = w0[i], v = w1[i];
    s00 += a * u;
    s01 += a * v;
    s10 += b * u;
    s11 += b * v;
  }
  *acc00 = s00;
  *acc01 = s01;
  *acc10 = s10;
  *acc11 = s11;
}

/* One column times two weight rows. */
static inline void tf_dsp_dot_1x2(const int8_t *a0, const int8_t *w0, const int8_t *w1, int32_t n, int32_t *acc0,
                                  int32_t *acc1) {
  int32_t s0 = *acc0, s1 = *acc1;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t xa = tf_load_s8x4(a0 + i);
    const int32_t x_e = tf_sxtb16_even(xa), x_o = tf_sxtb16_odd(xa);
    const uint32_t wa = tf_load_s8x4(w0 + i);
    s0 = __smlad(x_e, tf_sxtb16_even(wa), s0);
    s0 = __smlad(x_o, tf_sxtb16_odd(wa), s0);
    const uint32_t wb = tf_load_s8x4(w1 + i);
    s1 = __smlad(x_e, tf_sxtb16_even(wb), s1);
    s1 = __smlad(x_o, tf_sxtb16_odd(wb), s1);
  }
  for (; i < n; ++i) {
    const int32_t a = a0[i];
    s0 += a * w0[i];
    s1 += a * w1[i];
  }
  *acc0 = s0;
  *acc1 = s1;
}

/* acc + a . w over n bytes. */
static inline int32_t tf_dsp_dot_1x1(const int8_t *a, const int8_t *w, int32_t n, int32_t acc) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) acc = tf_dot4(tf_load_s8x4(a + i), tf_load_s8x4(w + i), acc);
  for (; i < n; ++i) acc += (int32_t)a[i] * w[i];
  return acc;
}

/*
 * Double-rounding requantization in one 64-bit rounding (exact): for a multiplier m >= 0 and a right shift e in
 * [1, 31], RoundingDivideByPOT(SRDHM(acc, m), e) == (acc * m + 2^30 + 2^(30+e) - [acc < 0] * 2^31) >> (31 + e).
 * (Nested floors merge; the sign test on acc stands in for the sign of SRDHM's result, the two differing only
 * where that result is 0, which rounds to 0 either way; m >= 0 rules out SRDHM's one saturating case.) The
 * constant 2^30 * (1 + 2^e) comes per channel, and per output: ASR, ADDS, ADC, SMLAL, ASR.
 */
typedef struct {
  int32_t m;
  uint32_t klo, khi; /* 2^30 * (1 + 2^e) */
  int32_t e1;        /* e - 1 */
} tf_rq;

/* Whether every channel suits tf_rq_apply. */
static inline int tf_rq_layer_ok(const int32_t *multipliers, const int32_t *shifts, int32_t n) {
  for (int32_t i = 0; i < n; ++i) {
    if (multipliers[i] < 0 || shifts[i] > -1 || shifts[i] < -31) return 0;
  }
  return 1;
}

static inline tf_rq tf_rq_channel(int32_t multiplier, int32_t shift) {
  tf_rq q;
  const uint32_t t = 1u + (1u << (uint32_t)-shift);
  q.m = multiplier;
  q.klo = t << 30;
  q.khi = t >> 2;
  q.e1 = -shift - 1;
  return q;
}

static inline int32_t tf_rq_apply(tf_rq q, int32_t acc) {
  uint32_t lo;
  int32_t hi, s;
  __asm__("asr %[s], %[acc], #31\n\t"
          "adds %[lo], %[klo], %[s], lsl #31\n\t"
          "adc %[hi], %[khi], %[s]\n\t"
          "smlal %[lo], %[hi], %[acc], %[m]"
          : [s] "=&r"(s), [lo] "=&r"(lo), [hi] "=&r"(hi)
          : [acc] "r"(acc), [m] "r"(q.m), [klo] "r"(q.klo), [khi] "r"(q.khi)
          : "cc");
  return hi >> q.e1;
}

/*
 * tf_rq_channel with the output offset folded in: tf_rq_apply then gives (hi + off * 2^e1) >> e1 == (hi >> e1) + off,
 * hi being the high word of acc * m + 2^30 * (1 + 2^e) - [acc < 0] * 2^31. With |acc| <= 2^31, 0 <= m < 2^31, e1 <= 22
 * (shift >= -23) and |off| <= 128 (an int8 zero point), |hi| < 2^30 + 2^21 + 1 and |off * 2^e1| <= 2^29, so
 * hi + off * 2^e1 is exact in 32 bits (the wrapping additions of tf_rq_apply then give it exactly).
 */
static inline tf_rq tf_rq_channel_offset(int32_t multiplier, int32_t shift, int32_t offset) {
  tf_rq q = tf_rq_channel(multiplier, shift);
  q.khi += (uint32_t)offset << q.e1;
  return q;
}

/* Whether the conv/FC (resp. depthwise) requantization of this build is the double rounding tf_rq_apply does. */
#define TF_RQ_CONV (!TF_FLOAT32_REQUANT && !TF_SINGLE_ROUNDING)
#define TF_RQ_DEPTHWISE (!TF_FLOAT32_REQUANT)

/*
 * tf_requantize_float32(acc, multiplier) + offset for callers that saturate the result to int8 with SSAT next: the
 * same value wherever that lies in [-2^22 + offset, 2^22 + offset], of the same sign (beyond int8's range) elsewhere,
 * so the saturated results agree. With VCVTR the conversion saturates at int32 and QADD cannot wrap, so the 2^22 cap
 * (4 instructions) is not needed.
 */
static inline int32_t tf_requantize_float32_add_sat(int32_t acc, int32_t multiplier, int32_t offset) {
#if defined(__ARM_FP) && (__ARM_FP & 4) && defined(__ARM_PCS_VFP) && defined(__thumb2__)
  float m;
  memcpy(&m, &multiplier, sizeof m);
  const float p = (float)acc * m;
  float r;
  int32_t out;
  __asm__("vcvtr.s32.f32 %0, %1" : "=t"(r) : "t"(p));
  memcpy(&out, &r, sizeof out);
  return __qadd(out, offset);
#else
  return tf_requantize_float32(acc, multiplier) + offset;
#endif
}

/* x + offset clamped to [lo, hi]; with the full int8 range one SSAT. */
static inline int8_t tf_store_clamped(int32_t x, int32_t lo, int32_t hi, int full) {
  if (full) return (int8_t)__ssat(x, 8);
  return (int8_t)(x < lo ? lo : (x > hi ? hi : x));
}
#endif

#endif
