/*
 * Strided N-D copy, int8: the data movement of TRANSPOSE and STRIDED_SLICE.
 * output[i] = input[offset + sum_k idx_k * strides[k]], with i running row-major over dims.
 * The compiler drops size-1 dimensions and merges contiguous ones, so the innermost loop
 * covers the longest possible row (a memcpy when its stride is 1). Strides are in elements
 * and may be negative (reversed slices); rank is 1..6.
 */
#include <string.h>
#include "tf_kernels.h"

#define TF_COPY_MAX_RANK 6

void copy_nd_s8(const int8_t *input, int8_t *output, int32_t rank, const int32_t *dims, const int32_t *strides,
                int32_t offset) {
  int32_t idx[TF_COPY_MAX_RANK];
  const int32_t inner = rank - 1;
  const int32_t n = dims[inner];
  const int32_t step = strides[inner];
  int32_t rows = 1;
  for (int32_t k = 0; k < inner; ++k) {
    idx[k] = 0;
    rows *= dims[k];
  }
  int32_t at = offset;
  for (int32_t r = 0; r < rows; ++r) {
    if (step == 1) {
      memcpy(output, input + at, (size_t)n);
    } else {
      int32_t a = at;
      for (int32_t j = 0; j < n; ++j) {
        output[j] = input[a];
        a += step;
      }
    }
    output += n;
    /* Odometer over the outer dimensions; offsets stay integers, never out-of-range pointers. */
    for (int32_t k = inner - 1; k >= 0; --k) {
      at += strides[k];
      if (++idx[k] < dims[k]) break;
      at -= strides[k] * dims[k];
      idx[k] = 0;
    }
  }
}
