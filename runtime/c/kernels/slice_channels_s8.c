/* Saves the first `keep` of `channels` channels of each pixel, all a partial weight update reads later. */
#include <string.h>
#include "tf_kernels.h"

void slice_channels_s8(const int8_t *x, int8_t *out, int32_t pixels, int32_t channels, int32_t keep) {
  for (int32_t p = 0; p < pixels; ++p) memcpy(out + p * keep, x + p * channels, (size_t)keep);
}
