/*
 * DepthwiseConv2DWeightUpdate (compiler/ops/train/parameter_update.ts): the weights (1HWC) of channels c < keep,
 * each updated in place as soon as its gradient is summed, one random draw per weight in (c, ky, kx) order.
 */
import { applyWeightStep, tapGradient } from "./weight_update";

export function depthwise_conv2d_weight_update_f32(
  dy: usize, x: usize, w: usize, inv_w_scale: usize, lr: usize, rng: usize, batches: i32, in_h: i32, in_w: i32, x_c: i32,
  channels: i32, out_h: i32, out_w: i32, filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32, dilation_h: i32,
  dilation_w: i32, pad_top: i32, pad_left: i32, x_zero_point: i32, x_scale_bits: i32, keep: i32,
): void {
  const rate = load<f32>(lr);
  const xScale = reinterpret<f32>(x_scale_bits);
  let state = load<u32>(rng);
  for (let c = 0; c < keep; ++c) {
    const inv = load<f32>(inv_w_scale + (<usize>c << 2));
    for (let ky = 0; ky < filter_h; ++ky) {
      for (let kx = 0; kx < filter_w; ++kx) {
        const g = tapGradient(dy, x, batches, in_h, in_w, x_c, out_h, out_w, channels, ky, kx, c, c, stride_h, stride_w,
          dilation_h, dilation_w, pad_top, pad_left, x_zero_point, xScale);
        state = applyWeightStep(w + <usize>((ky * filter_w + kx) * channels + c), rate * g * inv, state);
      }
    }
  }
  store<u32>(rng, state);
}
