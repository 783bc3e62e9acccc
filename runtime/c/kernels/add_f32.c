/* The sum of the two gradients of a tensor with two consumers (compiler/ops/train/add_gradients.ts). */
#include "tf_kernels.h"

void add_f32(const float *a, const float *b, float *out, int32_t n) {
  for (int32_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}
