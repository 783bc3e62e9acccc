/*
 * An inverted bottleneck, [TRANSPOSE NCHW -> NHWC] -> [CONV_2D (expand)] -> DEPTHWISE_CONV_2D -> [CONV_2D 1x1
 * (project)], that never holds the transposed input, the expanded tensor nor the depthwise output whole
 * (compiler/ops/inverted_bottleneck.ts). Each depthwise output row reads at most span = (filter_h - 1) * dilation_h + 1
 * expanded rows, which a window in `scratch` holds (expanded rows [w0, w1)); the expand convolution computes them
 * one at a time from the input rows their taps reach, which an NCHW input (`transpose_input`) provides from a second
 * window (transposed rows [t0, t1)). A NULL expand_weights means no expand layer (the depthwise layer reads the input), a NULL
 * project_weights no project layer (depthwise rows go straight to the output). Scratch layout, as
 * bottleneckScratchBytes computes it: conv2d_s8's two columns (non-1x1 expand), the input window (NCHW input), the
 * expanded window (expand layer), one depthwise output row (project layer).
 *
 * output == input: the planner gave both one buffer, which the compiler allows only where every output row ends
 * before the first input byte a later row reads (streamsOverInput in compiler/ops/inverted_bottleneck.ts). An NCHW
 * input is then first transposed in place, following each cycle of the permutation from the first position the
 * compiler found for it (transposeCycles), and read as NHWC.
 *
 * Exactness: every layer is its unfused kernel, called on a row range. conv2d_1x1_s8 computes each pixel from one
 * input pixel, so a row range of it is those rows of the whole. conv2d_s8 and depthwise_conv2d_s8 given a range of
 * rows as their image (in_h = its rows, pad_top = the rows it starts below the first output row's first tap) read
 * the same taps: the range starts at the first tap row inside the image and ends after the last one, so exactly the
 * taps outside the image fall outside the range. Rows are transposed byte for byte.
 */
#include <string.h>
#include "tf_kernels.h"

/* The unfused kernels (their own files; also declared by tf_kernels.h when the model calls them directly). */
void conv2d_1x1_s8(const int8_t *input, const int8_t *weights, const int32_t *folded_bias, int8_t *output,
                   int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                   int32_t stride_h, int32_t stride_w, const int32_t *multipliers, const int32_t *shifts,
                   int32_t output_offset, int32_t act_min, int32_t act_max);
void conv2d_s8(const int8_t *input, const int8_t *weights, const int32_t *folded_bias, int8_t *output, void *scratch,
               int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
               int32_t filter_h, int32_t filter_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
               int32_t dilation_w, int32_t pad_top, int32_t pad_left, int32_t input_zero_point,
               const int32_t *multipliers, const int32_t *shifts, int32_t output_offset, int32_t act_min,
               int32_t act_max);
void depthwise_conv2d_s8(const int8_t *input, const int8_t *weights, const int32_t *bias, const int32_t *folded_bias,
                         int8_t *output, int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h,
                         int32_t out_w, int32_t depth_multiplier, int32_t filter_h, int32_t filter_w, int32_t stride_h,
                         int32_t stride_w, int32_t dilation_h, int32_t dilation_w, int32_t pad_top, int32_t pad_left,
                         int32_t input_offset, const int32_t *multipliers, const int32_t *shifts, int32_t output_offset,
                         int32_t act_min, int32_t act_max);

/*
 * n bytes from src down to dst < src, the two possibly overlapping: each 16 bytes are loaded before they are stored.
 * (newlib-nano's memmove copies a byte at a time.)
 */
static void copy_down(int8_t *dst, const int8_t *src, int32_t n) {
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    uint32_t a, b, c, d;
    memcpy(&a, src + i, 4);
    memcpy(&b, src + i + 4, 4);
    memcpy(&c, src + i + 8, 4);
    memcpy(&d, src + i + 12, 4);
    memcpy(dst + i, &a, 4);
    memcpy(dst + i + 4, &b, 4);
    memcpy(dst + i + 8, &c, 4);
    memcpy(dst + i + 12, &d, 4);
  }
  for (; i < n; ++i) dst[i] = src[i];
}

/* A window holding rows [*w0, *w1) moves to start at row n0 (rows only grow): the rows it keeps go to its top. */
static void slide(int8_t *window, int32_t *w0, int32_t *w1, int32_t n0, int32_t row_bytes) {
  if (n0 >= *w1) {
    *w0 = *w1 = n0;
  } else if (n0 > *w0) {
    copy_down(window, window + (n0 - *w0) * row_bytes, (*w1 - n0) * row_bytes);
    *w0 = n0;
  }
}

/* NHWC rows [i0, i1) of image x: in place, or transposed from NCHW into `window` (rows [*t0, *t1), sliding). */
static const int8_t *input_rows(const int8_t *x, int32_t transpose, int8_t *window, int32_t *t0, int32_t *t1,
                                int32_t i0, int32_t i1, int32_t in_h, int32_t in_w, int32_t in_c) {
  const int32_t row_bytes = in_w * in_c;
  if (!transpose) return x + i0 * row_bytes;
  slide(window, t0, t1, i0, row_bytes);
  for (; *t1 < i1; ++*t1) {
    int8_t *dst = window + (*t1 - *t0) * row_bytes;
    for (int32_t c = 0; c < in_c; ++c) {
      const int8_t *src = x + (c * in_h + *t1) * in_w;
      for (int32_t i = 0; i < in_w; ++i) dst[i * in_c + c] = src[i];
    }
  }
  return window;
}

/* The planes x[c][pixels] become pixels of channels, in place: the byte at i moves to i * channels mod (n - 1). */
static void transpose_in_place(int8_t *x, uint32_t channels, uint32_t pixels, const int32_t *cycles, int32_t count) {
  const uint32_t last = channels * pixels - 1;
  for (int32_t k = 0; k < count; ++k) {
    const uint32_t start = (uint32_t)cycles[k];
    int8_t carried = x[start];
    uint32_t i = start;
    do {
      i = i * channels % last;
      const int8_t displaced = x[i];
      x[i] = carried;
      carried = displaced;
    } while (i != start);
  }
}

void inverted_bottleneck_s8(
    const int8_t *input, const int8_t *expand_weights, const int8_t *dw_weights, const int8_t *project_weights,
    int8_t *output, void *scratch,
    const int32_t *expand_folded_bias, const int32_t *expand_multipliers, const int32_t *expand_shifts,
    const int32_t *dw_bias, const int32_t *dw_folded_bias, const int32_t *dw_multipliers, const int32_t *dw_shifts,
    const int32_t *project_folded_bias, const int32_t *project_multipliers, const int32_t *project_shifts,
    const int32_t *transpose_cycles,
    int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t transpose_input, int32_t transpose_cycle_count,
    int32_t expand_filter_h, int32_t expand_filter_w, int32_t expand_stride_h, int32_t expand_stride_w,
    int32_t expand_dilation_h, int32_t expand_dilation_w, int32_t expand_pad_top, int32_t expand_pad_left,
    int32_t expand_input_zero_point, int32_t expand_output_offset, int32_t expand_act_min, int32_t expand_act_max,
    int32_t exp_h, int32_t exp_w, int32_t exp_c, int32_t dw_out_h, int32_t dw_out_w, int32_t depth_multiplier,
    int32_t filter_h, int32_t filter_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w,
    int32_t pad_top, int32_t pad_left, int32_t dw_input_offset, int32_t dw_output_offset, int32_t dw_act_min,
    int32_t dw_act_max,
    int32_t project_stride_h, int32_t project_stride_w, int32_t project_output_offset, int32_t project_act_min,
    int32_t project_act_max,
    int32_t out_h, int32_t out_w, int32_t out_c) {
  if (output == input && transpose_input) {
    transpose_in_place(output, (uint32_t)in_c, (uint32_t)(in_h * in_w), transpose_cycles, transpose_cycle_count);
    transpose_input = 0;
  }
  const int32_t span = (filter_h - 1) * dilation_h + 1;
  const int32_t exp_row = exp_w * exp_c;
  const int32_t dw_c = exp_c * depth_multiplier;
  const int32_t pointwise = expand_filter_h == 1 && expand_filter_w == 1;
  /* conv2d_1x1_s8 reads output row r from input row r * stride_h: it has no padding. */
  const int32_t e_pad_top = pointwise ? 0 : expand_pad_top;
  const int32_t e_span = (expand_filter_h - 1) * expand_dilation_h + 1;
  const int32_t exp_rows = expand_weights ? (span < exp_h ? span : exp_h) : 0;
  const int32_t first_rows = expand_weights ? e_span : span;
  int8_t *columns = (int8_t *)scratch;
  int8_t *in_window = columns + (expand_weights && !pointwise ? 2 * expand_filter_h * expand_filter_w * in_c : 0);
  int8_t *window = in_window + (transpose_input ? (first_rows < in_h ? first_rows : in_h) * in_w * in_c : 0);
  int8_t *dw_row = window + exp_rows * exp_row;
  /* With a project layer only the depthwise rows it reads are computed: row r * project_stride_h for its row r. */
  const int32_t rows = project_weights ? out_h : dw_out_h;
  const int32_t dw_row_step = project_weights ? project_stride_h : 1;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *x = input + b * in_h * in_w * in_c;
    int8_t *y = output + b * out_h * out_w * out_c;
    int32_t w0 = 0, w1 = 0, t0 = 0, t1 = 0;
    for (int32_t r = 0; r < rows; ++r) {
      const int32_t origin = r * dw_row_step * stride_h - pad_top;
      const int32_t n0 = origin > 0 ? origin : 0;
      const int32_t n1 = origin + span < exp_h ? origin + span : exp_h;
      const int8_t *image;
      if (expand_weights) {
        slide(window, &w0, &w1, n0, exp_row);
        /* One expanded row at a time: the input window then needs to hold only one row's taps, e_span rows. */
        for (; w1 < n1; ++w1) {
          const int32_t e_origin = w1 * expand_stride_h - e_pad_top;
          const int32_t i0 = e_origin > 0 ? e_origin : 0;
          const int32_t i1 = e_origin + e_span < in_h ? e_origin + e_span : in_h;
          const int8_t *rows_in = input_rows(x, transpose_input, in_window, &t0, &t1, i0, i1, in_h, in_w, in_c);
          int8_t *dst = window + (w1 - w0) * exp_row;
          if (pointwise) {
            conv2d_1x1_s8(rows_in, expand_weights, expand_folded_bias, dst, 1, 1, in_w, in_c, 1, exp_w, exp_c,
                          expand_stride_h, expand_stride_w, expand_multipliers, expand_shifts, expand_output_offset,
                          expand_act_min, expand_act_max);
          } else {
            conv2d_s8(rows_in, expand_weights, expand_folded_bias, dst, columns, 1, i1 - i0, in_w, in_c, 1, exp_w,
                      exp_c, expand_filter_h, expand_filter_w, expand_stride_h, expand_stride_w, expand_dilation_h,
                      expand_dilation_w, i0 - e_origin, expand_pad_left, expand_input_zero_point, expand_multipliers,
                      expand_shifts, expand_output_offset, expand_act_min, expand_act_max);
          }
        }
        image = window;
      } else {
        image = input_rows(x, transpose_input, in_window, &t0, &t1, n0, n1, in_h, in_w, in_c);
      }
      int8_t *dw_out = project_weights ? dw_row : y + r * dw_out_w * dw_c;
      depthwise_conv2d_s8(image, dw_weights, dw_bias, dw_folded_bias, dw_out, 1, n1 - n0, exp_w, exp_c, 1, dw_out_w,
                          depth_multiplier, filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w, n0 - origin,
                          pad_left, dw_input_offset, dw_multipliers, dw_shifts, dw_output_offset, dw_act_min,
                          dw_act_max);
      if (project_weights) {
        conv2d_1x1_s8(dw_row, project_weights, project_folded_bias, y + r * out_w * out_c, 1, 1, dw_out_w, dw_c, 1,
                      out_w, out_c, project_stride_h, project_stride_w, project_multipliers, project_shifts,
                      project_output_offset, project_act_min, project_act_max);
      }
    }
  }
}
