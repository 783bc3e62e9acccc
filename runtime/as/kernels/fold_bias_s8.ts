/*
 * FoldBias (compiler/ops/train/fold_bias.ts): before a trained layer runs, the bias saturated so that the int32
 * accumulator cannot overflow, and bias + input_offset * sum w, the folded bias the forward kernel starts from. The
 * bound is computed in i64 as the reference computes it exactly; the folded sum wraps to int32 as the reference's
 * Int32Array store does. `saturated` is 0 except for depthwise layers. Conv rows are w[c * keep + t], depthwise
 * channels w[t * channels + c]. The weights that do not train are summed at compile time: tail_sum[c] and tail_abs[c]
 * (else 0) hold the sums of a split layer's frozen rest (split_conv1x1_s8: w has only the first `keep` taps of each
 * row), or of all of a frozen layer's weights (keep 0, w 0).
 */

export function fold_bias_s8(
  w: usize, tail_sum: usize, tail_abs: usize, bias: usize, saturated: usize, folded: usize, channels: i32, keep: i32,
  depthwise: i32, input_offset: i32, max_input: i32,
): void {
  const step = depthwise ? <usize>channels : 1;
  for (let c = 0; c < channels; ++c) {
    const at = <usize>c << 2;
    let sum = tail_sum ? load<i32>(tail_sum + at) : 0;
    let sumAbs = tail_abs ? load<i32>(tail_abs + at) : 0;
    let v = depthwise ? w + <usize>c : w + <usize>(c * keep);
    for (let t = 0; t < keep; ++t, v += step) {
      const x = <i32>load<i8>(v);
      sum += x;
      sumAbs += abs(x);
    }
    const limit = <i64>i32.MAX_VALUE - <i64>sumAbs * <i64>max_input;
    const b = min(limit, max(-limit, <i64>load<i32>(bias + at)));
    if (saturated) store<i32>(saturated + at, <i32>b);
    store<i32>(folded + at, <i32>(b + <i64>input_offset * <i64>sum));
  }
}
