/*
 * Elementwise uint8 -> int8 through a 256-entry table fixed at compile time (QUANTIZE of a uint8 input,
 * TFLM's Requantize<uint8_t, int8_t>); entry x holds the output for x.
 */
#include "tf_kernels.h"

void lut_u8_s8(const uint8_t *input, int8_t *output, int32_t size, const int8_t *table) {
  for (int32_t i = 0; i < size; ++i) output[i] = table[input[i]];
}
