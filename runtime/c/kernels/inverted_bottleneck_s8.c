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
 * output == input: the planner gave both one buffer, which the compiler allows only where every output byte comes
 * before the first input byte read after it (streamsOverInput in compiler/ops/inverted_bottleneck.ts). An NCHW
 * input is then first transposed in place, following each cycle of the permutation from the first position the
 * compiler found for it (transposeCycles), and read as NHWC. With chunk_in_place > 0 each depthwise output row then
 * goes by chunks of that many pixels, and the window keeps the expanded pixels from the chunk's first tap on: rows
 * one pixel wider (that pixel the depthwise input's zero point, the padding on either side of two rows), so the
 * depthwise kernel reads the chunk's taps as an image with no horizontal padding, and (span - 1) such rows plus the
 * chunk's tap columns, where whole rows would take span rows. The scratch then holds that window; each chunk of
 * depthwise output goes in the buffer right after the output bytes the project layer writes from it, bytes the
 * compiler checked no later step reads.
 *
 * Exactness: every layer is its unfused kernel, called on a row range. conv2d_1x1_s8 computes each pixel from one
 * input pixel, so a row range of it is those rows of the whole. conv2d_s8 and depthwise_conv2d_s8 given a range of
 * rows as their image (in_h = its rows, pad_top = the rows it starts below the first output row's first tap) read
 * the same taps: the range starts at the first tap row inside the image and ends after the last one, so exactly the
 * taps outside the image fall outside the range. A run of columns is the same: conv2d_s8 with pad_left moved by the
 * run's first column (negative inside the row). A padding pixel holds the input zero point, whose taps add
 * (zero point + input_offset) * weight = 0, as padding does. Rows are transposed byte for byte.
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
    int32_t out_h, int32_t out_w, int32_t out_c, int32_t chunk_in_place) {
  const int32_t in_place = output == input;
  if (in_place && transpose_input) {
    transpose_in_place(output, (uint32_t)in_c, (uint32_t)(in_h * in_w), transpose_cycles, transpose_cycle_count);
    transpose_input = 0;
  }
  const int32_t span = (filter_h - 1) * dilation_h + 1;
  const int32_t dw_c = exp_c * depth_multiplier;
  const int32_t pointwise = expand_filter_h == 1 && expand_filter_w == 1;
  /* conv2d_1x1_s8 reads output row r from input row r * stride_h: it has no padding. */
  const int32_t e_pad_top = pointwise ? 0 : expand_pad_top;
  const int32_t e_span = (expand_filter_h - 1) * expand_dilation_h + 1;
  const int32_t exp_rows = expand_weights ? (span < exp_h ? span : exp_h) : 0;
  const int32_t first_rows = expand_weights ? e_span : span;
  /*
   * The window holds the expanded tensor's positions [base, done): row e's pixel x at e * pitch + x + padded. By
   * chunks (padded): a pixel of the depthwise layer's zero point before each row, its left padding and the right
   * padding of the row before, and the window keeps only what the chunk's taps and later ones reach.
   */
  const int32_t column_bytes = expand_weights && !pointwise ? 2 * expand_filter_h * expand_filter_w * in_c : 0;
  const int32_t padded = in_place && chunk_in_place > 0;
  const int32_t pitch = exp_w + padded;
  const int32_t chunk = padded ? chunk_in_place : dw_out_w;
  const int32_t capacity =
      padded ? (exp_rows - 1) * pitch + (chunk - 1) * stride_w + (filter_w - 1) * dilation_w + 1 : exp_rows * exp_w;
  int8_t *columns = (int8_t *)scratch;
  int8_t *in_window = columns + column_bytes;
  int8_t *window = in_window + (transpose_input ? (first_rows < in_h ? first_rows : in_h) * in_w * in_c : 0);
  int8_t *dw_row = window + capacity * exp_c;
  /* With a project layer only the depthwise rows it reads are computed: row r * project_stride_h for its row r. */
  const int32_t rows = project_weights ? out_h : dw_out_h;
  const int32_t dw_row_step = project_weights ? project_stride_h : 1;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *x = input + b * in_h * in_w * in_c;
    int8_t *y = output + b * out_h * out_w * out_c;
    int32_t base = 0, done = 0, t0 = 0, t1 = 0;
    for (int32_t r = 0; r < rows; ++r) {
      const int32_t origin = r * dw_row_step * stride_h - pad_top;
      const int32_t n0 = origin > 0 ? origin : 0;
      const int32_t n1 = origin + span < exp_h ? origin + span : exp_h;
      for (int32_t x0 = 0; x0 < dw_out_w; x0 += chunk) {
        const int32_t n = chunk < dw_out_w - x0 ? chunk : dw_out_w - x0;
        const int8_t *image;
        if (expand_weights) {
          /* The chunk's taps are positions [first, last). */
          const int32_t tap0 = x0 * stride_w - pad_left;
          const int32_t tap1 = (x0 + n - 1) * stride_w - pad_left + (filter_w - 1) * dilation_w + 1;
          const int32_t first = n0 * pitch + (padded ? tap0 + 1 : 0);
          const int32_t last = padded ? (n1 - 1) * pitch + tap1 + 1 : n1 * pitch;
          if (done <= first) {
            base = done = first;
          } else if (last - base > capacity) {
            copy_down(window, window + (first - base) * exp_c, (done - first) * exp_c);
            base = first;
          }
          /* One expanded row's run at a time: the input window then holds one row's taps, e_span rows. */
          while (done < last) {
            int8_t *dst = window + (done - base) * exp_c;
            const int32_t row = done / pitch;
            const int32_t col = done % pitch - padded;
            if (col < 0) {
              memset(dst, (int8_t)-dw_input_offset, (size_t)exp_c);
              ++done;
              continue;
            }
            const int32_t end = last - done < exp_w - col ? col + last - done : exp_w;
            const int32_t e_origin = row * expand_stride_h - e_pad_top;
            const int32_t i0 = e_origin > 0 ? e_origin : 0;
            const int32_t i1 = e_origin + e_span < in_h ? e_origin + e_span : in_h;
            const int8_t *rows_in = input_rows(x, transpose_input, in_window, &t0, &t1, i0, i1, in_h, in_w, in_c);
            if (pointwise) {
              conv2d_1x1_s8(rows_in + col * expand_stride_w * in_c, expand_weights, expand_folded_bias, dst, 1, 1,
                            in_w - col * expand_stride_w, in_c, 1, end - col, exp_c, expand_stride_h, expand_stride_w,
                            expand_multipliers, expand_shifts, expand_output_offset, expand_act_min, expand_act_max);
            } else {
              conv2d_s8(rows_in, expand_weights, expand_folded_bias, dst, columns, 1, i1 - i0, in_w, in_c, 1,
                        end - col, exp_c, expand_filter_h, expand_filter_w, expand_stride_h, expand_stride_w,
                        expand_dilation_h, expand_dilation_w, i0 - e_origin, expand_pad_left - col * expand_stride_w,
                        expand_input_zero_point, expand_multipliers, expand_shifts, expand_output_offset,
                        expand_act_min, expand_act_max);
            }
            done += end - col;
          }
          image = window + (first - base) * exp_c;
        } else {
          image = input_rows(x, transpose_input, in_window, &t0, &t1, n0, n1, in_h, in_w, in_c);
        }
        /* By chunks, the depthwise chunk goes in the output buffer, past where the project layer writes the chunk. */
        int8_t *out_chunk = y + (r * out_w + x0) * out_c;
        int8_t *dw_out = !project_weights ? y + (r * dw_out_w + x0) * dw_c : padded ? out_chunk + n * out_c : dw_row;
        depthwise_conv2d_s8(image, dw_weights, dw_bias, dw_folded_bias, dw_out, 1, n1 - n0, pitch, exp_c, 1, n,
                            depth_multiplier, filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w,
                            n0 - origin, padded ? 0 : pad_left, dw_input_offset, dw_multipliers, dw_shifts,
                            dw_output_offset, dw_act_min, dw_act_max);
        if (project_weights) {
          /* By chunks the project layer has stride 1 across (the compiler checks): pixel for pixel. */
          conv2d_1x1_s8(dw_out, project_weights, project_folded_bias, out_chunk, 1, 1, n, dw_c, 1, padded ? n : out_w,
                        out_c, project_stride_h, project_stride_w, project_multipliers, project_shifts,
                        project_output_offset, project_act_min, project_act_max);
        }
      }
    }
  }
}
