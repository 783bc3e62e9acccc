/* The straight-through gradient (compiler/ops/train/mask.ts): dy where the mask bit is set, else 0. May run in place. */
#include "tf_kernels.h"

void apply_mask_f32(const float *dy, const uint8_t *mask, float *out, int32_t n) {
  int32_t i = 0;
  /* Whole mask bytes first: an all-ones byte copies eight values, an all-zeros byte clears them; in place, only the
   * cleared values are written. */
  for (; i + 8 <= n; i += 8) {
    const uint32_t bits = mask[i >> 3];
    if (bits == 0xffu) {
      if (out != dy) {
        for (int32_t j = i; j < i + 8; ++j) out[j] = dy[j];
      }
    } else if (bits == 0) {
      for (int32_t j = i; j < i + 8; ++j) out[j] = 0.0f;
    } else if (out == dy) {
      for (int32_t j = 0; j < 8; ++j) {
        if (!((bits >> j) & 1)) out[i + j] = 0.0f;
      }
    } else {
      for (int32_t j = 0; j < 8; ++j) out[i + j] = (bits >> j) & 1 ? dy[i + j] : 0.0f;
    }
  }
  for (; i < n; ++i) out[i] = (mask[i >> 3] >> (i & 7)) & 1 ? dy[i] : 0.0f;
}
