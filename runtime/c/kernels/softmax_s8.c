/*
 * SOFTMAX over the last axis, int8 -> int8 (output scale 1/256, zero point -128), bit-exact with TFLM's
 * reference_ops::Softmax<int8_t, int8_t>. exp_table[d] is TFLM's fixed-point exp(x - max) for
 * d = max - x (Q0.31, computed by the compiler with gemmlowp's exp_on_negative_values; 0 where TFLM
 * skips the element). Per row: the Q12.19 sum of exps, its reciprocal (TFLite GetReciprocal, gemmlowp
 * one_over_one_plus_x_for_x_in_0_1), then exp * reciprocal rounded to 1/256 steps.
 */
#include "tf_kernels.h"

static int32_t softmax_wrap_add(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a + (uint32_t)b);
}

static int32_t softmax_wrap_sub(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT<exponent> for 1 <= exponent <= 30. */
static int32_t softmax_saturating_shift_left(int32_t x, int32_t exponent) {
  const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return x * (int32_t)(1u << exponent);
}

/* gemmlowp RoundingHalfSum. */
static int32_t softmax_rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a), Q0.31 in and out (Newton-Raphson, 3 steps). */
static int32_t softmax_one_over_one_plus_x(int32_t a) {
  const int32_t half_denominator = softmax_rounding_half_sum(a, INT32_MAX);
  int32_t x = softmax_wrap_add(1515870810, tf_saturating_rounding_doubling_high_mul(half_denominator, -1010580540));
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = tf_saturating_rounding_doubling_high_mul(half_denominator, x);
    const int32_t one_minus = softmax_wrap_sub((int32_t)1 << 29, half_denominator_times_x);
    x = softmax_wrap_add(x, softmax_saturating_shift_left(tf_saturating_rounding_doubling_high_mul(x, one_minus), 2));
  }
  return softmax_saturating_shift_left(x, 1);
}

static int32_t softmax_count_leading_zeros(uint32_t x) {
#if defined(__GNUC__)
  return x ? (int32_t)__builtin_clz(x) : 32;
#else
  int32_t n = 0;
  if (x == 0) return 32;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    ++n;
  }
  return n;
#endif
}

void softmax_s8(const int8_t *input, int8_t *output, int32_t outer, int32_t depth, const int32_t *exp_table) {
  for (int32_t r = 0; r < outer; ++r) {
    const int8_t *in = input + r * depth;
    int8_t *out = output + r * depth;
    int32_t max = -128;
    for (int32_t c = 0; c < depth; ++c) {
      if (in[c] > max) max = in[c];
    }
    /* The Q12.19 sum: depth <= 4095 keeps it below 2^31. */
    int32_t sum = 0;
    for (int32_t c = 0; c < depth; ++c) sum += tf_rounding_divide_by_pot(exp_table[max - in[c]], 12);
    /* GetReciprocal(sum, 12): sum >= 2^19 (the maximum contributes exp(0)), so 1 <= headroom_plus_one <= 12. */
    const int32_t headroom_plus_one = softmax_count_leading_zeros((uint32_t)sum);
    const int32_t shifted_sum_minus_one = (int32_t)(((uint32_t)sum << headroom_plus_one) - 0x80000000u);
    const int32_t shifted_scale = softmax_one_over_one_plus_x(shifted_sum_minus_one);
    int32_t exponent = 12 - headroom_plus_one + 31 - 8;
    if (exponent > 31) exponent = 31; /* TFLM aborts there: a sum of exps >= 512 */
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t e = exp_table[max - in[c]];
      const int32_t unsat = tf_rounding_divide_by_pot(tf_saturating_rounding_doubling_high_mul(shifted_scale, e), exponent);
      out[c] = (int8_t)tf_clamp(unsat - 128, -128, 127);
    }
  }
}
