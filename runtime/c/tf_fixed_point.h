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

#endif
