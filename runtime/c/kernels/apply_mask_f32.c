/* The straight-through gradient (compiler/ops/train/mask.ts): dy where the mask bit is set, else 0. */
#include "tf_kernels.h"

void apply_mask_f32(const float *dy, const uint8_t *mask, float *out, int32_t n) {
  for (int32_t i = 0; i < n; ++i) out[i] = (mask[i >> 3] >> (i & 7)) & 1 ? dy[i] : 0.0f;
}
