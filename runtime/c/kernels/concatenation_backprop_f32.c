/*
 * Gradient of CONCATENATION for one input (compiler/ops/train/concatenation_backprop.ts): from each of the `outer`
 * slices of the output gradient (dy_row elements), the dx_row elements from `start`, where that input was copied.
 */
#include <string.h>
#include "tf_kernels.h"

void concatenation_backprop_f32(const float *dy, float *dx, int32_t outer, int32_t dy_row, int32_t dx_row,
                                int32_t start) {
  for (int32_t o = 0; o < outer; ++o) memcpy(dx + o * dx_row, dy + o * dy_row + start, (size_t)dx_row * sizeof *dx);
}
