/*
 * The backward pass from a depthwise layer's output gradient into the 1x1 layer before it, `chunk` channels at a time
 * (compiler/ops/train/expansion_backward.ts): per chunk, the depthwise layer's output gradient of those channels
 * (with a projection after the depthwise layer, pr_w: its input gradient of those channels, from their columns of its
 * weights, read in place, and from dy masked by pr_mask as it is read if there is one, leaving out the columns that
 * dw_mask clears at four pixels; masked by dw_mask and stepping the depthwise bias; else gathered from dy), the
 * depthwise input gradient
 * (their weights gathered), the 1x1 layer's output mask, then that layer's input gradient (sums continued over the
 * chunks), bias step and weight rows' steps. The gradients between the layers exist one chunk at a time. Absent parts:
 * dx NULL (no input gradient), bias_kind / dw_bias_kind 0 (no bias step; 1 bias, 2 folded bias), w_update NULL (no
 * weight step), pr_w NULL (no projection). Every part is its own kernel, so each element comes out as the unchunked
 * nodes compute it.
 *
 * Scratch: the chunk's depthwise output gradient (out pixels x chunk floats), its depthwise weights (taps x chunk bytes,
 * rounded up to 4), its expansion output gradient (pixels x chunk floats), the weight update's scratch (the saved
 * input dequantized by the first chunk's call and read by the others', or with by_table its table of codes).
 */
#include <string.h>
#include "tf_kernels.h"

/* The kernels of the parts (their own files; also declared by tf_kernels.h when the model calls them directly). */
void depthwise_conv2d_backprop_input_f32(const float *dy, const int8_t *w, const float *w_scale, float *dx,
                                         void *scratch, int32_t batches, int32_t in_h, int32_t in_w, int32_t channels,
                                         int32_t out_h, int32_t out_w, int32_t filter_h, int32_t filter_w,
                                         int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w,
                                         int32_t pad_top, int32_t pad_left);
void conv2d_backprop_input_f32(const float *dy, const int8_t *w, const int8_t *w_tail, const float *w_scale, float *dx,
                               int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h, int32_t out_w,
                               int32_t out_c, int32_t filter_h, int32_t filter_w, int32_t stride_h, int32_t stride_w,
                               int32_t dilation_h, int32_t dilation_w, int32_t pad_top, int32_t pad_left, int32_t keep,
                               int32_t accumulate);
void conv2d_backprop_input_pointwise_f32(const float *dy, const uint8_t *dy_mask, const int8_t *w, int32_t w_stride,
                                         const int8_t *w_tail, int32_t tail_stride, const float *w_scale, float *dx,
                                         int32_t pixels, int32_t in_c, int32_t out_c, int32_t keep,
                                         int32_t accumulate, const uint8_t *live, int32_t live_stride,
                                         int32_t live_c0);
void bias_update_f32(const float *dy, int32_t *bias, const float *inv_scale, const float *lr, int32_t pixels,
                     int32_t channels);
void folded_bias_update_f32(const float *dy, int32_t *folded, const float *inv_scale, const int32_t *offset_sum,
                            const int32_t *limit, const float *lr, int32_t pixels, int32_t channels);
void conv2d_weight_update_f32(const float *dy, const int8_t *x, int8_t *w, const float *inv_w_scale, const float *lr,
                              int32_t *rng, void *scratch, int32_t batches, int32_t in_h, int32_t in_w, int32_t x_c,
                              int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c, int32_t filter_h,
                              int32_t filter_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
                              int32_t dilation_w, int32_t pad_top, int32_t pad_left, int32_t x_zero_point,
                              int32_t x_scale_bits, int32_t keep, int32_t by_table);

/*
 * ApplyMask on a chunk: g holds channels [c0, c0 + k) of `channels`; where the mask bit of one is clear, it becomes 0.
 * A pixel's bits are taken a mask byte at a time: a whole byte's eight tested unrolled, else only the clear ones
 * visited.
 */
static void clear_masked(float *g, const uint8_t *mask, int32_t pixels, int32_t channels, int32_t c0, int32_t k) {
  for (int32_t p = 0; p < pixels; ++p) {
    float *const row = g + p * k;
    int32_t i = p * channels + c0;
    for (int32_t j = 0; j < k;) {
      const int32_t n = k - j < 8 - (i & 7) ? k - j : 8 - (i & 7);
      uint32_t clear = ~((uint32_t)mask[i >> 3] >> (i & 7)) & ((1u << n) - 1u);
      if (n == 8) {
#pragma GCC unroll 8
        for (int32_t l = 0; l < 8; ++l) {
          if ((clear >> l) & 1u) row[j + l] = 0.0f;
        }
      } else {
        for (; clear != 0; clear &= clear - 1u) row[j + __builtin_ctz(clear)] = 0.0f;
      }
      i += n;
      j += n;
    }
  }
}

void expansion_backward_f32(const float *dy, const int8_t *dw_w, const float *dw_scale, const uint8_t *mask,
                            const int8_t *w, const int8_t *w_tail, const float *p_scale, float *dx, int32_t *bias,
                            const float *b_inv, const int32_t *b_offset_sum, const int32_t *b_limit, const float *lr,
                            const int8_t *x, int8_t *w_update, const float *w_inv, int32_t *rng, const int8_t *pr_w,
                            const int8_t *pr_tail, const float *pr_scale, const uint8_t *pr_mask,
                            const uint8_t *dw_mask, int32_t *dw_bias, const float *db_inv,
                            const int32_t *db_offset_sum, const int32_t *db_limit, void *scratch,
                            int32_t batches, int32_t in_h, int32_t in_w, int32_t channels, int32_t out_h,
                            int32_t out_w, int32_t filter_h, int32_t filter_w, int32_t stride_h, int32_t stride_w,
                            int32_t dilation_h, int32_t dilation_w, int32_t pad_top, int32_t pad_left, int32_t p_in_c,
                            int32_t p_keep, int32_t bias_kind, int32_t x_c, int32_t w_in_c, int32_t w_keep,
                            int32_t x_zero_point, int32_t x_scale_bits, int32_t pr_out_c, int32_t pr_keep,
                            int32_t dw_bias_kind, int32_t by_table, int32_t chunk) {
  const int32_t out_pixels = batches * out_h * out_w;
  const int32_t pixels = batches * in_h * in_w;
  const int32_t taps = filter_h * filter_w;
  float *const dy_chunk = (float *)scratch;
  int8_t *const w_chunk = (int8_t *)(dy_chunk + out_pixels * chunk);
  float *const g = (float *)(w_chunk + (taps * chunk + 3) / 4 * 4);
  void *const update_scratch = g + pixels * chunk;
  for (int32_t c0 = 0; c0 < channels; c0 += chunk) {
    const int32_t k = channels - c0 < chunk ? channels - c0 : chunk;
    if (pr_w != NULL) {
      /* The chunk's columns of the projection's weights: those below pr_keep in pr_w's rows, the others in pr_tail's. */
      const int32_t kept = pr_keep - c0 <= 0 ? 0 : pr_keep - c0 < k ? pr_keep - c0 : k;
      conv2d_backprop_input_pointwise_f32(dy, pr_mask, kept > 0 ? pr_w + c0 : pr_w, pr_keep,
                                          kept < k ? pr_tail + (c0 + kept - pr_keep) : pr_tail, channels - pr_keep,
                                          pr_scale, dy_chunk, out_pixels, k, pr_out_c, kept, 0, dw_mask, channels, c0);
      clear_masked(dy_chunk, dw_mask, out_pixels, channels, c0, k);
      if (dw_bias_kind == 1) bias_update_f32(dy_chunk, dw_bias + c0, db_inv + c0, lr, out_pixels, k);
      if (dw_bias_kind == 2) {
        folded_bias_update_f32(dy_chunk, dw_bias + c0, db_inv + c0, db_offset_sum + c0, db_limit + c0, lr, out_pixels, k);
      }
    } else {
      for (int32_t p = 0; p < out_pixels; ++p) memcpy(dy_chunk + p * k, dy + p * channels + c0, (size_t)k * sizeof(float));
    }
    for (int32_t t = 0; t < taps; ++t) memcpy(w_chunk + t * k, dw_w + t * channels + c0, (size_t)k);
    depthwise_conv2d_backprop_input_f32(dy_chunk, w_chunk, dw_scale + c0, g, NULL, batches, in_h, in_w, k, out_h, out_w,
                                        filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w, pad_top,
                                        pad_left);
    clear_masked(g, mask, pixels, channels, c0, k);
    if (dx != NULL) {
      conv2d_backprop_input_f32(g, w + c0 * p_keep, w_tail != NULL ? w_tail + c0 * (p_in_c - p_keep) : NULL,
                                p_scale + c0, dx, batches, in_h, in_w, p_in_c, in_h, in_w, k, 1, 1, 1, 1, 1, 1, 0, 0,
                                p_keep, c0 > 0);
    }
    if (bias_kind == 1) bias_update_f32(g, bias + c0, b_inv + c0, lr, pixels, k);
    if (bias_kind == 2) folded_bias_update_f32(g, bias + c0, b_inv + c0, b_offset_sum + c0, b_limit + c0, lr, pixels, k);
    if (w_update != NULL) {
      conv2d_weight_update_f32(g, x, w_update + c0 * w_in_c, w_inv + c0, lr, rng, update_scratch, batches, in_h, in_w,
                               x_c, w_in_c, in_h, in_w, k, 1, 1, 1, 1, 1, 1, 0, 0, x_zero_point, x_scale_bits, w_keep,
                               by_table ? 1 : c0 == 0 ? 0 : 2);
    }
  }
}
