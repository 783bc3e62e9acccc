/*
 * CONCATENATION, int8, up to 10 inputs (TFLM's limit; unused input slots are NULL).
 * For each of the `outer` slices before the axis, input i contributes copy_sizes[i] contiguous
 * bytes (its axis extent times the size of the dimensions after the axis).
 * An input quantized like the output is copied (TFLite reference_ops::Concatenation); one quantized
 * differently is requantized through a 256-entry table computed at compile time with the float
 * arithmetic of TFLite's ConcatenationWithScaling: luts[lut_offsets[i] + 128 + x] for input byte x.
 * lut_offsets[i] < 0 means plain copy.
 */
#include <string.h>
#include "tf_kernels.h"

#define TF_CONCAT_MAX_INPUTS 10

void concatenation_s8(const int8_t *in0, const int8_t *in1, const int8_t *in2, const int8_t *in3, const int8_t *in4,
                      const int8_t *in5, const int8_t *in6, const int8_t *in7, const int8_t *in8, const int8_t *in9,
                      int8_t *output, int32_t count, int32_t outer, const int32_t *copy_sizes,
                      const int32_t *lut_offsets, const int8_t *luts) {
  const int8_t *const inputs[TF_CONCAT_MAX_INPUTS] = {in0, in1, in2, in3, in4, in5, in6, in7, in8, in9};
  for (int32_t k = 0; k < outer; ++k) {
    for (int32_t i = 0; i < count; ++i) {
      const int32_t n = copy_sizes[i];
      const int8_t *src = inputs[i] + k * n;
      if (lut_offsets[i] < 0) {
        memcpy(output, src, (size_t)n);
      } else {
        const int8_t *lut = luts + lut_offsets[i] + 128;
        for (int32_t j = 0; j < n; ++j) output[j] = lut[src[j]];
      }
      output += n;
    }
  }
}
