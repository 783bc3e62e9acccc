/*
 * Conv2DBackpropInput (compiler/ops/train/backprop_input.ts): each output gradient, times its channel's weight
 * scale, is scattered through the OHWI weights into the input taps that produced it. The float32 sums follow the
 * reference's order exactly (n, oy, ox, oc, ky, kx, ic), each term a fused multiply-add, so no loop is reordered. A fully connected layer is the
 * 1x1 case. A layer whose partial update split its weights (split_conv1x1_s8) has input channels ic < keep in `w`
 * (rows of keep) and the others in `w_tail` (rows of in_c - keep); else w_tail is 0 and keep == in_c. accumulate != 0:
 * the sums continue from what dx holds instead of from 0.
 */
import { tf_fmaf } from "../float32_math";

export function conv2d_backprop_input_f32(
  dy: usize, w: usize, w_tail: usize, w_scale: usize, dx: usize, batches: i32, in_h: i32, in_w: i32, in_c: i32,
  out_h: i32, out_w: i32, out_c: i32, filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32, dilation_h: i32,
  dilation_w: i32, pad_top: i32, pad_left: i32, keep: i32, accumulate: i32,
): void {
  if (accumulate == 0) memory.fill(dx, 0, <usize>(batches * in_h * in_w * in_c) << 2);
  const taps = filter_h * filter_w;
  const rest = in_c - keep;
  let src = dy;
  for (let n = 0; n < batches; ++n) {
    for (let oy = 0; oy < out_h; ++oy) {
      for (let ox = 0; ox < out_w; ++ox) {
        for (let oc = 0; oc < out_c; ++oc, src += 4) {
          const g = load<f32>(src) * load<f32>(w_scale + (<usize>oc << 2));
          if (g == 0) continue;
          for (let ky = 0; ky < filter_h; ++ky) {
            const iy = oy * stride_h - pad_top + ky * dilation_h;
            if (iy < 0 || iy >= in_h) continue;
            for (let kx = 0; kx < filter_w; ++kx) {
              const ix = ox * stride_w - pad_left + kx * dilation_w;
              if (ix < 0 || ix >= in_w) continue;
              const row = oc * taps + ky * filter_w + kx;
              const xRow = dx + (<usize>(((n * in_h + iy) * in_w + ix) * in_c) << 2);
              const wRow = w + <usize>(row * keep);
              for (let ic = 0; ic < keep; ++ic) {
                const at = xRow + (<usize>ic << 2);
                store<f32>(at, tf_fmaf(g, <f32>load<i8>(wRow + ic), load<f32>(at)));
              }
              const tailRow = w_tail + <usize>(row * rest);
              for (let ic = 0; ic < rest; ++ic) {
                const at = xRow + (<usize>(keep + ic) << 2);
                store<f32>(at, tf_fmaf(g, <f32>load<i8>(tailRow + ic), load<f32>(at)));
              }
            }
          }
        }
      }
    }
  }
}

/*
 * The 1x1 stride-1 case over `pixels` pixels with the rows of w and w_tail w_stride and tail_stride bytes apart, dy
 * masked by dy_mask as it is read if that is not 0: expansion_backward_f32 runs it on a chunk of a layer's input
 * channels, columns of its weights, from the gradient before the layer's output mask. The terms of a dx element come
 * in the same order as above.
 */
export function conv2d_backprop_input_pointwise_f32(
  dy: usize, dy_mask: usize, w: usize, w_stride: i32, w_tail: usize, tail_stride: i32, w_scale: usize, dx: usize,
  pixels: i32, in_c: i32, out_c: i32, keep: i32, accumulate: i32,
): void {
  if (accumulate == 0) memory.fill(dx, 0, <usize>(pixels * in_c) << 2);
  for (let p = 0; p < pixels; ++p) {
    const xRow = dx + (<usize>(p * in_c) << 2);
    for (let oc = 0; oc < out_c; ++oc) {
      const i = p * out_c + oc;
      if (dy_mask != 0 && ((<i32>load<u8>(dy_mask + <usize>(i >> 3)) >> (i & 7)) & 1) == 0) continue;
      const g = load<f32>(dy + (<usize>i << 2)) * load<f32>(w_scale + (<usize>oc << 2));
      if (g == 0) continue;
      const wRow = w + <usize>(oc * w_stride);
      for (let ic = 0; ic < keep; ++ic) {
        const at = xRow + (<usize>ic << 2);
        store<f32>(at, tf_fmaf(g, <f32>load<i8>(wRow + ic), load<f32>(at)));
      }
      const tailRow = w_tail + <usize>(oc * tail_stride);
      for (let ic = keep; ic < in_c; ++ic) {
        const at = xRow + (<usize>ic << 2);
        store<f32>(at, tf_fmaf(g, <f32>load<i8>(tailRow + ic - keep), load<f32>(at)));
      }
    }
  }
}
