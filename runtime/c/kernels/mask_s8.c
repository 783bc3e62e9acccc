/*
 * The straight-through gradient's mask (compiler/ops/train/mask.ts): bit i & 7 of byte i >> 3 is set where
 * lo < y[i] < hi, i.e. where the int8 output did not saturate. Unused bits of the last byte are 0.
 */
#include "tf_kernels.h"

void mask_s8(const int8_t *y, uint8_t *mask, int32_t n, int32_t lo, int32_t hi) {
  const uint32_t width = hi - lo - 1 > 0 ? (uint32_t)(hi - lo - 1) : 0u;
  for (int32_t i = 0; i < n; i += 8) {
    const int32_t end = n - i < 8 ? n : i + 8;
    uint32_t bits = 0;
    /* lo < v < hi as one unsigned comparison: v - lo - 1 in [0, width). */
    for (int32_t j = i; j < end; ++j) bits |= (uint32_t)((uint32_t)(y[j] - lo - 1) < width) << (j - i);
    mask[i >> 3] = (uint8_t)bits;
  }
}
