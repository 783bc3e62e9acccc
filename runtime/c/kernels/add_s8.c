/*
 * ADD and SUB, int8 (TFLM reference_integer_ops::AddFunc, reference_ops::SubElementwise), broadcast.
 * Each input is rescaled to a common scale, s_i = MBQM((x_i + offset_i) << 20, M_i, shift_i), then
 * y = clamp(MBQM(s1 + sign * s2, M_out, shift_out) + out_offset, act_min, act_max); sign is -1 for SUB
 * (applied after rounding, as TFLM subtracts the rescaled values).
 *
 * The compiler merges the output dimensions into a 4-level loop nest dims[4] whose per-level input
 * strides are strides1 / strides2 (0 where an input is broadcast). In the innermost level each input is
 * read contiguously or not at all, so a broadcast input is rescaled once per row. Without broadcasting, an add of many
 * elements first rescales each of the 256 codes of both inputs into a table (2 KB of stack), then looks them up; on
 * Cortex-M its output rescaling is then tf_rq_apply's one exact 64-bit step, offset included, where the output
 * multiplier suits it.
 */
#include "tf_kernels.h"

#define TF_ADD_LEFT_SHIFT 20

/* The fewest elements for which the rescaling tables cost less than rescaling every element. */
#define TF_ADD_TABLE_MIN_ELEMENTS 1024

static inline int32_t tf_add_rescale(int32_t x, int32_t offset, int32_t multiplier, int32_t shift) {
  return tf_multiply_by_quantized_multiplier((x + offset) * (1 << TF_ADD_LEFT_SHIFT), multiplier, shift);
}

#ifdef TF_DSP
/*
 * One row of a tabled add (code x's rescaled value at t[x]), its output rescaled by tf_rq_apply with the output offset
 * folded into q; not inlined, so that add_s8's many live values do not crowd its registers.
 */
static __attribute__((noinline)) void add_row_rq(const int8_t *x1, const int8_t *x2, int8_t *output, int32_t n,
                                                 const int32_t *t1, const int32_t *t2, tf_rq q, int32_t act_min,
                                                 int32_t act_max) {
  for (int32_t c = 0; c < n; ++c) output[c] = (int8_t)tf_clamp(tf_rq_apply(q, t1[x1[c]] + t2[x2[c]]), act_min, act_max);
}
#endif

void add_s8(const int8_t *input1, const int8_t *input2, int8_t *output, const int32_t *dims,
            const int32_t *strides1, const int32_t *strides2, int32_t input1_offset, int32_t input1_multiplier,
            int32_t input1_shift, int32_t input2_offset, int32_t input2_multiplier, int32_t input2_shift,
            int32_t input2_sign, int32_t output_multiplier, int32_t output_shift, int32_t output_offset,
            int32_t act_min, int32_t act_max) {
  const int32_t n = dims[3];
  const int32_t broadcast1 = strides1[3] == 0;
  const int32_t broadcast2 = strides2[3] == 0;
  const int tabled = !broadcast1 && !broadcast2 && dims[0] * dims[1] * dims[2] * n >= TF_ADD_TABLE_MIN_ELEMENTS;
  int32_t rescaled1[256], rescaled2[256];
  if (tabled) {
    for (int32_t x = -128; x < 128; ++x) {
      rescaled1[x + 128] = tf_add_rescale(x, input1_offset, input1_multiplier, input1_shift);
      rescaled2[x + 128] = input2_sign * tf_add_rescale(x, input2_offset, input2_multiplier, input2_shift);
    }
  }
  for (int32_t i0 = 0; i0 < dims[0]; ++i0) {
    for (int32_t i1 = 0; i1 < dims[1]; ++i1) {
      for (int32_t i2 = 0; i2 < dims[2]; ++i2) {
        const int8_t *x1 = input1 + i0 * strides1[0] + i1 * strides1[1] + i2 * strides1[2];
        const int8_t *x2 = input2 + i0 * strides2[0] + i1 * strides2[1] + i2 * strides2[2];
        if (broadcast1) {
          const int32_t s1 = tf_add_rescale(x1[0], input1_offset, input1_multiplier, input1_shift);
          for (int32_t c = 0; c < n; ++c) {
            const int32_t s2 = tf_add_rescale(x2[c], input2_offset, input2_multiplier, input2_shift);
            const int32_t y = tf_multiply_by_quantized_multiplier(s1 + input2_sign * s2, output_multiplier, output_shift);
            output[c] = (int8_t)tf_clamp(y + output_offset, act_min, act_max);
          }
        } else if (broadcast2) {
          const int32_t s2 = input2_sign * tf_add_rescale(x2[0], input2_offset, input2_multiplier, input2_shift);
          for (int32_t c = 0; c < n; ++c) {
            const int32_t s1 = tf_add_rescale(x1[c], input1_offset, input1_multiplier, input1_shift);
            const int32_t y = tf_multiply_by_quantized_multiplier(s1 + s2, output_multiplier, output_shift);
            output[c] = (int8_t)tf_clamp(y + output_offset, act_min, act_max);
          }
        } else if (tabled) {
#ifdef TF_DSP
          if (output_multiplier >= 0 && output_shift <= -1 && output_shift >= -23) {
            add_row_rq(x1, x2, output, n, rescaled1 + 128, rescaled2 + 128,
                       tf_rq_channel_offset(output_multiplier, output_shift, output_offset), act_min, act_max);
            output += n;
            continue;
          }
#endif
          for (int32_t c = 0; c < n; ++c) {
            const int32_t y = tf_multiply_by_quantized_multiplier(rescaled1[x1[c] + 128] + rescaled2[x2[c] + 128],
                                                                  output_multiplier, output_shift);
            output[c] = (int8_t)tf_clamp(y + output_offset, act_min, act_max);
          }
        } else {
          for (int32_t c = 0; c < n; ++c) {
            const int32_t s1 = tf_add_rescale(x1[c], input1_offset, input1_multiplier, input1_shift);
            const int32_t s2 = tf_add_rescale(x2[c], input2_offset, input2_multiplier, input2_shift);
            const int32_t y = tf_multiply_by_quantized_multiplier(s1 + input2_sign * s2, output_multiplier, output_shift);
            output[c] = (int8_t)tf_clamp(y + output_offset, act_min, act_max);
          }
        }
        output += n;
      }
    }
  }
}
