/*
 * ExpansionBackward (compiler/ops/train/expansion_backward.ts): the backward pass from a depthwise layer's output
 * gradient into the 1x1 layer before it, `chunk` channels at a time; the port of
 * runtime/c/kernels/expansion_backward_f32.c (see it for the parts, the absent ones and the scratch layout).
 */
import { bias_update_f32 } from "./bias_update_f32";
import { conv2d_backprop_input_f32, conv2d_backprop_input_pointwise_f32 } from "./conv2d_backprop_input_f32";
import { conv2d_weight_update_f32 } from "./conv2d_weight_update_f32";
import { depthwise_conv2d_backprop_input_f32 } from "./depthwise_conv2d_backprop_input_f32";
import { folded_bias_update_f32 } from "./folded_bias_update_f32";

/*
 * ApplyMask on a chunk: g holds channels [c0, c0 + k) of `channels`; where the mask bit of one is clear, it becomes 0.
 * A pixel's bits are taken a mask byte at a time, and only the clear ones are visited.
 */
function clearMasked(g: usize, mask: usize, pixels: i32, channels: i32, c0: i32, k: i32): void {
  for (let p = 0; p < pixels; ++p) {
    const row = g + (<usize>(p * k) << 2);
    let i = p * channels + c0;
    for (let j = 0; j < k;) {
      const n = min(k - j, 8 - (i & 7));
      let clear = ~(<u32>load<u8>(mask + <usize>(i >> 3)) >> <u32>(i & 7)) & ((<u32>1 << <u32>n) - 1);
      for (; clear != 0; clear &= clear - 1) store<f32>(row + (<usize>(j + <i32>ctz(clear)) << 2), 0);
      i += n;
      j += n;
    }
  }
}

export function expansion_backward_f32(
  dy: usize, dw_w: usize, dw_scale: usize, mask: usize, w: usize, w_tail: usize, p_scale: usize, dx: usize, bias: usize,
  b_inv: usize, b_offset_sum: usize, b_limit: usize, lr: usize, x: usize, w_update: usize, w_inv: usize, rng: usize,
  pr_w: usize, pr_tail: usize, pr_scale: usize, pr_mask: usize, dw_mask: usize, dw_bias: usize, db_inv: usize,
  db_offset_sum: usize, db_limit: usize, scratch: usize, batches: i32, in_h: i32, in_w: i32, channels: i32, out_h: i32,
  out_w: i32, filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32, dilation_h: i32, dilation_w: i32, pad_top: i32,
  pad_left: i32, p_in_c: i32, p_keep: i32, bias_kind: i32, x_c: i32, w_in_c: i32, w_keep: i32, x_zero_point: i32,
  x_scale_bits: i32, pr_out_c: i32, pr_keep: i32, dw_bias_kind: i32, by_table: i32, chunk: i32,
): void {
  const outPixels = batches * out_h * out_w;
  const pixels = batches * in_h * in_w;
  const taps = filter_h * filter_w;
  const dyChunk = scratch;
  const wChunk = dyChunk + (<usize>(outPixels * chunk) << 2);
  const g = wChunk + <usize>((taps * chunk + 3) / 4 * 4);
  const updateScratch = g + (<usize>(pixels * chunk) << 2);
  for (let c0 = 0; c0 < channels; c0 += chunk) {
    const k = min(chunk, channels - c0);
    if (pr_w != 0) {
      /* The chunk's columns of the projection's weights: those below pr_keep in pr_w's rows, the others in pr_tail's. */
      const kept = max(0, min(pr_keep - c0, k));
      conv2d_backprop_input_pointwise_f32(dy, pr_mask, pr_w + <usize>(kept > 0 ? c0 : 0), pr_keep,
        pr_tail + <usize>(kept < k ? c0 + kept - pr_keep : 0), channels - pr_keep, pr_scale, dyChunk, outPixels, k, pr_out_c,
        kept, 0);
      clearMasked(dyChunk, dw_mask, outPixels, channels, c0, k);
      if (dw_bias_kind == 1) bias_update_f32(dyChunk, dw_bias + (<usize>c0 << 2), db_inv + (<usize>c0 << 2), lr, outPixels, k);
      if (dw_bias_kind == 2) {
        folded_bias_update_f32(dyChunk, dw_bias + (<usize>c0 << 2), db_inv + (<usize>c0 << 2), db_offset_sum + (<usize>c0 << 2),
          db_limit + (<usize>c0 << 2), lr, outPixels, k);
      }
    } else {
      for (let p = 0; p < outPixels; ++p) {
        memory.copy(dyChunk + (<usize>(p * k) << 2), dy + (<usize>(p * channels + c0) << 2), <usize>k << 2);
      }
    }
    for (let t = 0; t < taps; ++t) memory.copy(wChunk + <usize>(t * k), dw_w + <usize>(t * channels + c0), <usize>k);
    depthwise_conv2d_backprop_input_f32(dyChunk, wChunk, dw_scale + (<usize>c0 << 2), g, 0, batches, in_h, in_w, k, out_h,
      out_w, filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left);
    clearMasked(g, mask, pixels, channels, c0, k);
    if (dx != 0) {
      conv2d_backprop_input_f32(g, w + <usize>(c0 * p_keep), w_tail != 0 ? w_tail + <usize>(c0 * (p_in_c - p_keep)) : 0,
        p_scale + (<usize>c0 << 2), dx, batches, in_h, in_w, p_in_c, in_h, in_w, k, 1, 1, 1, 1, 1, 1, 0, 0, p_keep,
        c0 > 0 ? 1 : 0);
    }
    if (bias_kind == 1) bias_update_f32(g, bias + (<usize>c0 << 2), b_inv + (<usize>c0 << 2), lr, pixels, k);
    if (bias_kind == 2) {
      folded_bias_update_f32(g, bias + (<usize>c0 << 2), b_inv + (<usize>c0 << 2), b_offset_sum + (<usize>c0 << 2),
        b_limit + (<usize>c0 << 2), lr, pixels, k);
    }
    if (w_update != 0) {
      conv2d_weight_update_f32(g, x, w_update + <usize>(c0 * w_in_c), w_inv + (<usize>c0 << 2), lr, rng, updateScratch,
        batches, in_h, in_w, x_c, w_in_c, in_h, in_w, k, 1, 1, 1, 1, 1, 1, 0, 0, x_zero_point, x_scale_bits, w_keep,
        by_table != 0 ? 1 : c0 == 0 ? 0 : 2);
    }
  }
}
