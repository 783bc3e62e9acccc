/*
 * Gradient of PAD / PADV2 (compiler/ops/train/pad_backprop.ts): the output gradient cropped to where the input sits,
 * the padded elements being constants. Dimensions as pad_s8's (unpadded ones merged, rank 1..6): each output row
 * lies all in the padding, or holds one contiguous input row after `before` elements; dx is written sequentially.
 */
#include <string.h>
#include "tf_kernels.h"

#define TF_PAD_MAX_RANK 6

void pad_backprop_f32(const float *dy, float *dx, int32_t rank, const int32_t *out_dims, const int32_t *in_dims,
                      const int32_t *before) {
  int32_t idx[TF_PAD_MAX_RANK];
  const int32_t inner = rank - 1;
  const int32_t out_row = out_dims[inner];
  const int32_t in_row = in_dims[inner];
  const int32_t left = before[inner];
  int32_t rows = 1;
  /* Number of outer dimensions whose current index lies in the padding. */
  int32_t outside = 0;
  for (int32_t k = 0; k < inner; ++k) {
    idx[k] = 0;
    rows *= out_dims[k];
    if (before[k] > 0) ++outside;
  }
  for (int32_t r = 0; r < rows; ++r) {
    if (!outside) {
      memcpy(dx, dy + left, (size_t)in_row * sizeof *dx);
      dx += in_row;
    }
    dy += out_row;
    for (int32_t k = inner - 1; k >= 0; --k) {
      const int32_t lo = before[k];
      const int32_t hi = lo + in_dims[k];
      const int32_t was_out = idx[k] < lo || idx[k] >= hi;
      const int32_t next = ++idx[k] < out_dims[k] ? idx[k] : 0;
      idx[k] = next;
      outside += (next < lo || next >= hi) - was_out;
      if (next != 0) break;
    }
  }
}
