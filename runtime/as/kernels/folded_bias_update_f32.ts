/*
 * FoldedBiasUpdate (compiler/ops/train/parameter_update.ts): the bias of a layer with frozen weights lives in its
 * folded bias: bias = folded - offset_sum; bias_update_f32's step, clamped to ±limit, folded back.
 */
import { tf_round_half_even_to_int32 } from "../float32_math";

export function folded_bias_update_f32(
  dy: usize, folded: usize, inv_scale: usize, offset_sum: usize, limit: usize, lr: usize, pixels: i32, channels: i32,
): void {
  const rate = load<f32>(lr);
  const rowBytes = <usize>channels << 2;
  for (let c = 0; c < channels; ++c) {
    const at = <usize>c << 2;
    let sum: f32 = 0;
    let g = dy + at;
    for (let p = 0; p < pixels; ++p, g += rowBytes) sum += load<f32>(g);
    const step = <i64>tf_round_half_even_to_int32(rate * sum * load<f32>(inv_scale + at));
    const offset = <i64>load<i32>(offset_sum + at);
    const bound = <i64>load<i32>(limit + at);
    let bias = <i64>load<i32>(folded + at) - offset - step;
    if (bias > bound) bias = bound;
    if (bias < -bound) bias = -bound;
    store<i32>(folded + at, <i32>(bias + offset));
  }
}
