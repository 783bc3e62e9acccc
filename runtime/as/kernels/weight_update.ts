/*
 * The weight updates of conv2d_weight_update_f32 and depthwise_conv2d_weight_update_f32
 * (compiler/ops/train/parameter_update.ts): one weight's gradient summed over the output pixels in the reference's
 * order (depthwise), and the stochastically rounded SGD step (both).
 */
import { tf_fmaf, tf_stochastic_round_weight, tf_uniform, tf_xorshift32 } from "../float32_math";

/*
 * Sum over (n, oy, ox) of dy[n, oy, ox, oc] * x_real[n, iy, ix, x_channel] for the tap (ky, kx), taps outside the
 * input skipped. x holds x_c channels per pixel.
 */
// @ts-ignore: decorator
@inline
export function tapGradient(
  dy: usize, x: usize, batches: i32, in_h: i32, in_w: i32, x_c: i32, out_h: i32, out_w: i32, out_c: i32, ky: i32,
  kx: i32, oc: i32, x_channel: i32, stride_h: i32, stride_w: i32, dilation_h: i32, dilation_w: i32, pad_top: i32,
  pad_left: i32, x_zero_point: i32, x_scale: f32,
): f32 {
  let g: f32 = 0;
  for (let n = 0; n < batches; ++n) {
    for (let oy = 0; oy < out_h; ++oy) {
      const iy = oy * stride_h - pad_top + ky * dilation_h;
      if (iy < 0 || iy >= in_h) continue;
      const dyRow = dy + (<usize>(((n * out_h + oy) * out_w) * out_c + oc) << 2);
      const xRow = x + <usize>((n * in_h + iy) * in_w * x_c + x_channel);
      for (let ox = 0; ox < out_w; ++ox) {
        const ix = ox * stride_w - pad_left + kx * dilation_w;
        if (ix < 0 || ix >= in_w) continue;
        const xr = <f32>(<i32>load<i8>(xRow + <usize>(ix * x_c)) - x_zero_point) * x_scale;
        g = tf_fmaf(load<f32>(dyRow + (<usize>(ox * out_c) << 2)), xr, g);
      }
    }
  }
  return g;
}

/* w[at] moved by -step, rounded stochastically with the draw of the generator's next state, which is returned. */
// @ts-ignore: decorator
@inline
export function applyWeightStep(at: usize, step: f32, state: u32): u32 {
  const next = tf_xorshift32(state);
  store<i8>(at, <i8>tf_stochastic_round_weight(<f32>load<i8>(at) - step, tf_uniform(next)));
  return next;
}
