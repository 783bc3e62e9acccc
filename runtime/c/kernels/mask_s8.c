/*
 * The one-bit mask a straight-through gradient needs (compiler/ops/train/mask.ts): bit (i & 7) of mask[i >> 3] is set
 * where lo < y[i] < hi, i.e. where the int8 output did not saturate. Unused bits of the last byte are 0.
 */
#include <string.h>
#include "tf_kernels.h"

/* lo < v < hi as one unsigned comparison: v - lo - 1 in [0, width). */
static inline uint32_t mask_bits(const int8_t *y, int32_t count, int32_t lo, uint32_t width) {
  uint32_t bits = 0;
  for (int32_t j = 0; j < count; ++j) bits |= (uint32_t)((uint32_t)(y[j] - lo - 1) < width) << j;
  return bits;
}

#if TF_DSP
/* Four lanes at once: SSUB8 sets a lane's GE flag where its difference is >= 0 and SEL turns the flags into 0xFF
 * bytes; the product gathers the four low bits into bits 24..27. */
static inline uint32_t mask_bits4(uint32_t v, uint32_t above4, uint32_t below4) {
  uint32_t t, a, b;
  __asm__("ssub8 %[t], %[v], %[above]\n\t"
          "sel %[a], %[ones], %[zero]\n\t"
          "ssub8 %[t], %[below], %[v]\n\t"
          "sel %[b], %[ones], %[zero]"
          : [t] "=&r"(t), [a] "=&r"(a), [b] "=&r"(b)
          : [v] "r"(v), [above] "r"(above4), [below] "r"(below4), [ones] "r"(0xffffffffu), [zero] "r"(0u));
  return ((a & b & 0x01010101u) * 0x01020408u) >> 24;
}
#endif

void mask_s8(const int8_t *y, uint8_t *mask, int32_t n, int32_t lo, int32_t hi) {
  const uint32_t width = hi - lo - 1 > 0 ? (uint32_t)(hi - lo - 1) : 0u;
  int32_t i = 0;
#if TF_DSP
  /* Lanes hold lo + 1 and hi - 1 (each must be an int8): v > lo is v - (lo + 1) >= 0, v < hi is (hi - 1) - v >= 0. */
  if (lo + 1 <= 127 && hi - 1 >= -128) {
    const uint32_t above4 = 0x01010101u * (uint8_t)(lo + 1);
    const uint32_t below4 = 0x01010101u * (uint8_t)(hi - 1);
    for (; i + 8 <= n; i += 8) {
      uint32_t v0, v1;
      memcpy(&v0, y + i, 4);
      memcpy(&v1, y + i + 4, 4);
      mask[i >> 3] = (uint8_t)(mask_bits4(v0, above4, below4) | mask_bits4(v1, above4, below4) << 4);
    }
  }
#endif
  for (; i < n; i += 8) mask[i >> 3] = (uint8_t)mask_bits(y + i, n - i < 8 ? n - i : 8, lo, width);
}
