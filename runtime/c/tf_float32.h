/*
 * tinyforge runtime: the float32 arithmetic of the training kernels (C99), bit-exact with the compiler's reference
 * (compiler/ops/common/float32_math.ts) and the WebAssembly runtime (runtime/as/float32_math.ts). Every operation is
 * one IEEE binary32 operation rounded to nearest even: build with -ffp-contract=off (no multiply and add fused where
 * the source does not say so) and without -ffast-math. A multiply-add the source fuses is tf_fmaf. exp and log are
 * tinyforge's own, because libm results differ between C libraries and WebAssembly has none. Constants are
 * hexadecimal float literals, exact in every language.
 */
#ifndef TF_FLOAT32_H
#define TF_FLOAT32_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/*
 * float32(a * b + c) rounded once (IEEE 754 fusedMultiplyAdd): one VFMA.F32 on Cortex-M4, M7 and M55, the C
 * library's fmaf on the host. The gradient sums are made of it: one instruction per term instead of a multiply and an
 * add, and exact, so every backend still computes the same float.
 */
#if defined(__arm__) && !defined(__ARM_FEATURE_FMA)
#error "tinyforge training kernels need an FPU with fused multiply-add (VFPv4 or later: Cortex-M4F, M7, M33, M55); newlib's software fmaf is not checked to round once"
#endif
static inline float tf_fmaf(float a, float b, float c) {
  return fmaf(a, b, c);
}

static inline float tf_f32_from_ubits(uint32_t bits) {
  float x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

/* Kernels receive float scalars as the int32 holding their IEEE bits. */
static inline float tf_f32_from_bits(int32_t bits) {
  return tf_f32_from_ubits((uint32_t)bits);
}

static inline int32_t tf_f32_bits(float x) {
  int32_t bits;
  memcpy(&bits, &x, sizeof bits);
  return bits;
}

/*
 * e^x (within 1 ulp). x = k ln2 + r with k = round(x / ln2) (adding and subtracting 1.5 * 2^23 rounds half to even),
 * r by Cody and Waite's two-part ln2 (ln2_hi has 9 significant bits, so k * ln2_hi and x - k * ln2_hi are exact);
 * e^r = 1 + r + r^2 P(r) with Cephes' minimax P on |r| <= ln(2) / 2. 2^k is applied in two halves, so that k = 128
 * and k = -126 need no special case and the result rounds once. Below ln(FLT_MIN) the result is flushed to 0 (no
 * subnormal results); above ln(FLT_MAX) it is +inf.
 */
static inline float tf_expf(float x) {
  float kf, r, p, e;
  int32_t k, k1;
  if (x != x) return x;
  if (x < -0x1.5d589ep+6f) return 0.0f;
  if (x > 0x1.62e44p+6f) return tf_f32_from_ubits(0x7f800000u);
  kf = (x * 0x1.715476p+0f + 0x1.8p+23f) - 0x1.8p+23f;
  r = (x - kf * 0x1.63p-1f) - kf * -0x1.bd0106p-13f;
  p = 0x1.a0d2cep-13f;
  p = p * r + 0x1.6e879cp-10f;
  p = p * r + 0x1.111210p-7f;
  p = p * r + 0x1.555382p-5f;
  p = p * r + 0x1.555554p-3f;
  p = p * r + 0x1.0p-1f;
  e = (p * (r * r) + r) + 1.0f;
  k = (int32_t)kf;
  k1 = k >> 1;
  return e * tf_f32_from_ubits((uint32_t)(k1 + 127) << 23) * tf_f32_from_ubits((uint32_t)(k - k1 + 127) << 23);
}

/*
 * The natural logarithm (within 1 ulp). x = 2^k m with m in [sqrt(1/2), sqrt(2)) (moving the mantissa by the bits of
 * sqrt(1/2)), f = m - 1 (exact), log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f), with FreeBSD's
 * e_logf.c minimax R. Subnormals are scaled by 2^25 first.
 */
static inline float tf_logf(float x) {
  uint32_t ix;
  int32_t k = 0;
  float f, s, z, w, r, hfsq, dk;
  memcpy(&ix, &x, sizeof ix);
  if (ix < 0x00800000u || (ix >> 31) != 0) {
    if ((ix << 1) == 0) return tf_f32_from_ubits(0xff800000u);
    if ((ix >> 31) != 0) return tf_f32_from_ubits(0x7fc00000u);
    k = -25;
    x *= 0x1.0p+25f;
    memcpy(&ix, &x, sizeof ix);
  } else if (ix >= 0x7f800000u) {
    return x;
  }
  ix += 0x3f800000u - 0x3f3504f3u;
  k += (int32_t)(ix >> 23) - 0x7f;
  f = tf_f32_from_ubits((ix & 0x007fffffu) + 0x3f3504f3u) - 1.0f;
  s = f / (2.0f + f);
  z = s * s;
  w = z * z;
  r = z * (0x1.555554p-1f + w * 0x1.23d3dcp-2f) + w * (0x1.999c26p-2f + w * 0x1.f13c4cp-3f);
  hfsq = 0.5f * f * f;
  dk = (float)k;
  return s * (hfsq + r) + dk * 0x1.2fefa2p-17f - hfsq + f + dk * 0x1.62e3p-1f;
}

/* One step of Marsaglia's xorshift32 (13, 17, 5); a non-zero state stays non-zero. */
static inline uint32_t tf_xorshift32(uint32_t s) {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

/* The top 24 bits of a state as a float in [0, 1), exactly. */
static inline float tf_uniform(uint32_t s) {
  return (float)(s >> 8) * 0x1.0p-24f;
}

/* Advances the generator whose uint32 state is stored in an int32 tensor and returns the new state. */
static inline uint32_t tf_next_draw(int32_t *state) {
  const uint32_t s = tf_xorshift32((uint32_t)*state);
  *state = (int32_t)s;
  return s;
}

/* Round to nearest, ties to even, saturated to the int32 range; NaN gives 0. */
static inline int32_t tf_round_half_even_to_int32(float x) {
  int32_t lo;
  float frac;
  if (x != x) return 0;
  if (x >= 0x1.0p+31f) return INT32_MAX;
  if (x <= -0x1.0p+31f) return INT32_MIN;
  /* (float)lo is exact: |x| < 2^24 gives |lo| <= 2^24, and larger floats are integers, lo = x. */
  lo = (int32_t)x;
  if ((float)lo > x) lo -= 1;
  frac = x - (float)lo;
  if (frac > 0.5f) return lo + 1;
  if (frac < 0.5f) return lo;
  return lo + (lo & 1);
}

static inline int32_t tf_saturating_sub_int32(int32_t a, int32_t b) {
  const int64_t d = (int64_t)a - (int64_t)b;
  return d > INT32_MAX ? INT32_MAX : d < INT32_MIN ? INT32_MIN : (int32_t)d;
}

/*
 * Stochastic rounding of an updated weight v with the uniform draw u = tf_uniform(draw): floor(v) + (u < v - floor(v)),
 * clamped to [-127, 127]; NaN gives 0. Past the limits the draw cannot change the clamped result, so v may be clamped
 * first (floor(127) = 127 leaves v - floor(v) = 0, which no draw is below); then floor is only needed on [-127, 127],
 * where the truncation is defined. FPUs with FPv5's VMAXNM, VMINNM, VRINTM and VRINTP (Cortex-M7 with double
 * precision, Armv8-M) clamp and floor in one instruction each, and compare the draw as an integer: u < f, with
 * u = (draw >> 8) * 2^-24, is (draw >> 8) < f * 2^24 (exact), which for an integer is (draw >> 8) < ceil(f * 2^24).
 * Both compute the same values as the truncation and the float comparison.
 */
#if defined(__arm__) && defined(__ARM_FP) && ((__ARM_FP & 8) != 0 || __ARM_ARCH >= 8)
static inline int32_t tf_stochastic_round_weight(float v, uint32_t draw) {
  float lo;
  uint32_t bound;
  if (v != v) return 0;
  v = __builtin_fminf(__builtin_fmaxf(v, -127.0f), 127.0f);
  lo = __builtin_floorf(v);
  bound = (uint32_t)__builtin_ceilf((v - lo) * 0x1.0p+24f);
  /* Both are at most 2^24: the difference wraps past 2^31 exactly when the draw is below the bound. */
  return (int32_t)lo + (int32_t)(((draw >> 8) - bound) >> 31);
}
#else
static inline int32_t tf_stochastic_round_weight(float v, uint32_t draw) {
  const float u = tf_uniform(draw);
  int32_t lo;
  if (v != v) return 0;
  if (v >= 127.0f) return 127;
  if (v <= -127.0f) return -127;
  lo = (int32_t)v;
  if ((float)lo > v) lo -= 1;
  return lo + (u < v - (float)lo ? 1 : 0);
}
#endif

/* table[q + 128] = (float)(q - zero_point) * scale for every int8 q: the real value of an int8 tensor's element. */
static inline void tf_dequantization_table(float *table, int32_t zero_point, float scale) {
  for (int32_t q = -128; q < 128; ++q) table[q + 128] = (float)(q - zero_point) * scale;
}

#endif
