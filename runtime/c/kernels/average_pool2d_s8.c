/*
 * AVERAGE_POOL_2D, int8, NHWC (TFLM reference_integer_ops::AveragePool): the sum of each window's
 * in-image inputs divided by their count, rounded to nearest with ties away from zero (TFLite) or, with
 * ties_to_even, to even (ONNX), clamped to [act_min, act_max].
 * Input and output share their quantization, so there is no rescaling. The window bounds and count are
 * computed once per output pixel; the division happens once per output element.
 */
#include "tf_kernels.h"

static int32_t divide_ties_to_even(int32_t sum, int32_t count) {
  int32_t quotient = sum / count;
  int32_t remainder = sum % count;
  if (remainder < 0) {
    quotient -= 1;
    remainder += count;
  }
  const int32_t twice = 2 * remainder;
  return quotient + ((twice > count || (twice == count && (quotient & 1))) ? 1 : 0);
}

void average_pool2d_s8(const int8_t *input, int8_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                       int32_t channels, int32_t out_h, int32_t out_w, int32_t filter_h, int32_t filter_w,
                       int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left, int32_t act_min,
                       int32_t act_max, int32_t ties_to_even) {
  const int32_t row_stride = in_w * channels;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *image = input + b * in_h * row_stride;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t iy = oy * stride_h - pad_top;
      const int32_t fy0 = iy < 0 ? -iy : 0;
      const int32_t fy1 = filter_h < in_h - iy ? filter_h : in_h - iy;
      const int32_t rows = fy1 - fy0;
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t ix = ox * stride_w - pad_left;
        const int32_t fx0 = ix < 0 ? -ix : 0;
        const int32_t fx1 = filter_w < in_w - ix ? filter_w : in_w - ix;
        const int32_t cols = fx1 - fx0;
        const int32_t count = rows * cols;
        const int32_t half = count / 2;
        const int8_t *window = image + (iy + fy0) * row_stride + (ix + fx0) * channels;
        for (int32_t c = 0; c < channels; ++c) {
          int32_t acc = 0;
          const int8_t *row = window + c;
          for (int32_t y = 0; y < rows; ++y) {
            const int8_t *p = row;
            for (int32_t x = 0; x < cols; ++x) {
              acc += *p;
              p += channels;
            }
            row += row_stride;
          }
          if (ties_to_even) {
            acc = divide_ties_to_even(acc, count);
          } else {
            acc = acc > 0 ? (acc + half) / count : (acc - half) / count;
          }
          *output++ = (int8_t)tf_clamp(acc, act_min, act_max);
        }
      }
    }
  }
}
