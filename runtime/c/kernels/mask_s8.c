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
/* Four lanes at once, as mask_bits does them: USUB8 gives each lane's v - lo - 1 (mod 256), a second USUB8 sets its GE
 * flag where that is >= width, and SEL turns the clear flags into 0x01 bytes. */
static inline uint32_t mask_lanes4(uint32_t v, uint32_t above4, uint32_t width4) {
  uint32_t d, t, m;
  __asm__("usub8 %[d], %[v], %[above]\n\t"
          "usub8 %[t], %[d], %[width]\n\t"
          "sel %[m], %[zero], %[ones]"
          : [d] "=&r"(d), [t] "=&r"(t), [m] "=&r"(m)
          : [v] "r"(v), [above] "r"(above4), [width] "r"(width4), [ones] "r"(0x01010101u), [zero] "r"(0u));
  return m;
}
#endif

void mask_s8(const int8_t *y, uint8_t *mask, int32_t n, int32_t lo, int32_t hi) {
  const uint32_t width = hi - lo - 1 > 0 ? (uint32_t)(hi - lo - 1) : 0u;
  int32_t i = 0;
#if TF_DSP
  /* Lanes hold lo + 1 and width, each a byte. A lane's v - lo - 1 wraps to v - lo + 255 where v <= lo, which is at
   * least width exactly when v + 256 >= hi: so hi must be at most 128 (it always is for an int8 output's range). */
  if (lo >= -128 && lo <= 126 && hi <= 128) {
    const uint32_t above4 = 0x01010101u * (uint8_t)(lo + 1);
    const uint32_t width4 = 0x01010101u * width;
    for (; i + 8 <= n; i += 8) {
      uint32_t v0, v1;
      memcpy(&v0, y + i, 4);
      memcpy(&v1, y + i + 4, 4);
      /* Lane bits at 0, 8, 16, 24 and (second word) 4, 12, 20, 28: the product gathers them into bits 24..31. */
      const uint32_t lanes = mask_lanes4(v0, above4, width4) | mask_lanes4(v1, above4, width4) << 4;
      mask[i >> 3] = (uint8_t)((lanes * 0x01020408u) >> 24);
    }
  }
#endif
  for (; i < n; i += 8) mask[i >> 3] = (uint8_t)mask_bits(y + i, n - i < 8 ? n - i : 8, lo, width);
}
