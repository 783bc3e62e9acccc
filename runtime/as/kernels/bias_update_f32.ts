/*
 * BiasUpdate (compiler/ops/train/parameter_update.ts): per channel, the output gradient summed over the pixels in
 * pixel order, scaled into the bias's integer units (lr * sum * inv_scale, two float32 products in that order),
 * rounded half to even and subtracted with int32 saturation.
 */
import { tf_round_half_even_to_int32, tf_saturating_sub_int32 } from "../float32_math";

export function bias_update_f32(dy: usize, bias: usize, inv_scale: usize, lr: usize, pixels: i32, channels: i32): void {
  const rate = load<f32>(lr);
  const rowBytes = <usize>channels << 2;
  for (let c = 0; c < channels; ++c) {
    let sum: f32 = 0;
    let at = dy + (<usize>c << 2);
    for (let p = 0; p < pixels; ++p, at += rowBytes) sum += load<f32>(at);
    const delta = tf_round_half_even_to_int32(rate * sum * load<f32>(inv_scale + (<usize>c << 2)));
    const b = bias + (<usize>c << 2);
    store<i32>(b, tf_saturating_sub_int32(load<i32>(b), delta));
  }
}
