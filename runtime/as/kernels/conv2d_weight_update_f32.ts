/*
 * Conv2DWeightUpdate (compiler/ops/train/parameter_update.ts): the weights of input channels ic < keep, OHWI, each
 * updated in place as soon as its gradient is summed (no gradient buffer), one random draw per weight in
 * (oc, ky, kx, ic) order. `rng` is the uint32 xorshift state. A fully connected layer is the 1x1 case.
 */
import { applyWeightStep, tapGradient } from "./weight_update";

export function conv2d_weight_update_f32(
  dy: usize, x: usize, w: usize, inv_w_scale: usize, lr: usize, rng: usize, batches: i32, in_h: i32, in_w: i32, x_c: i32,
  in_c: i32, out_h: i32, out_w: i32, out_c: i32, filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32,
  dilation_h: i32, dilation_w: i32, pad_top: i32, pad_left: i32, x_zero_point: i32, x_scale_bits: i32, keep: i32,
): void {
  const rate = load<f32>(lr);
  const xScale = reinterpret<f32>(x_scale_bits);
  let state = load<u32>(rng);
  for (let oc = 0; oc < out_c; ++oc) {
    const inv = load<f32>(inv_w_scale + (<usize>oc << 2));
    for (let ky = 0; ky < filter_h; ++ky) {
      for (let kx = 0; kx < filter_w; ++kx) {
        const row = w + <usize>(((oc * filter_h + ky) * filter_w + kx) * in_c);
        for (let ic = 0; ic < keep; ++ic) {
          const g = tapGradient(dy, x, batches, in_h, in_w, x_c, out_h, out_w, out_c, ky, kx, oc, ic, stride_h, stride_w,
            dilation_h, dilation_w, pad_top, pad_left, x_zero_point, xScale);
          state = applyWeightStep(row + <usize>ic, rate * g * inv, state);
        }
      }
    }
  }
  store<u32>(rng, state);
}
