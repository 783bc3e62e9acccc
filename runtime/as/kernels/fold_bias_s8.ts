/*
 * FoldBias (compiler/ops/train/fold_bias.ts): before a trained layer runs, the bias saturated so that the int32 accumulator
 * cannot overflow, and bias + input_offset * sum w, the folded bias the forward kernel starts from. The bound is
 * computed in i64 as the reference computes it exactly; the folded sum wraps to int32 as the reference's Int32Array
 * store does. `saturated` is 0 except for depthwise layers. A layer whose partial update split its weights
 * (split_conv1x1_s8) has the first `keep` taps of row c at w[c * keep + t] and the others at
 * w_tail[c * (taps - keep) + t - keep]; else w_tail is 0 and keep == taps.
 */

export function fold_bias_s8(
  w: usize, w_tail: usize, bias: usize, saturated: usize, folded: usize, channels: i32, taps: i32, depthwise: i32,
  input_offset: i32, max_input: i32, keep: i32,
): void {
  const rest = taps - keep;
  for (let c = 0; c < channels; ++c) {
    let sum = 0;
    let sumAbs = 0;
    if (depthwise) {
      let at = w + <usize>c;
      for (let t = 0; t < taps; ++t, at += <usize>channels) {
        const v = <i32>load<i8>(at);
        sum += v;
        sumAbs += abs(v);
      }
    } else {
      const row = w + <usize>(c * keep);
      for (let t = 0; t < keep; ++t) {
        const v = <i32>load<i8>(row + t);
        sum += v;
        sumAbs += abs(v);
      }
      const tailRow = w_tail + <usize>(c * rest);
      for (let t = 0; t < rest; ++t) {
        const v = <i32>load<i8>(tailRow + t);
        sum += v;
        sumAbs += abs(v);
      }
    }
    const limit = <i64>i32.MAX_VALUE - <i64>sumAbs * <i64>max_input;
    const b = min(limit, max(-limit, <i64>load<i32>(bias + (<usize>c << 2))));
    if (saturated) store<i32>(saturated + (<usize>c << 2), <i32>b);
    store<i32>(folded + (<usize>c << 2), <i32>(b + <i64>input_offset * <i64>sum));
  }
}
