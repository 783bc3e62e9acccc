/*
 * PAD / PADV2, int8 (TFLite reference_ops::Pad): the input placed at offset `before` inside an
 * output filled with `pad_value` (the output zero point, or PADV2's constant). The compiler merges
 * every dimension that is not padded into the one outside it, so each output row is written once:
 * all padding, or left padding + one contiguous input row + right padding. The input is read
 * sequentially. rank is 1..6.
 */
#include <string.h>
#include "tf_kernels.h"

#define TF_PAD_MAX_RANK 6

void pad_s8(const int8_t *input, int8_t *output, int32_t pad_value, int32_t rank, const int32_t *out_dims,
            const int32_t *in_dims, const int32_t *before) {
  int32_t idx[TF_PAD_MAX_RANK];
  const int32_t inner = rank - 1;
  const int32_t out_row = out_dims[inner];
  const int32_t in_row = in_dims[inner];
  const int32_t left = before[inner];
  const int32_t right = out_row - in_row - left;
  int32_t rows = 1;
  /* Number of outer dimensions whose current index lies in the padding. */
  int32_t outside = 0;
  for (int32_t k = 0; k < inner; ++k) {
    idx[k] = 0;
    rows *= out_dims[k];
    if (before[k] > 0) ++outside;
  }
  for (int32_t r = 0; r < rows; ++r) {
    if (outside) {
      memset(output, pad_value, (size_t)out_row);
    } else {
      memset(output, pad_value, (size_t)left);
      memcpy(output + left, input, (size_t)in_row);
      memset(output + left + in_row, pad_value, (size_t)right);
      input += in_row;
    }
    output += out_row;
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
