/*
 * SoftmaxCrossEntropy (compiler/ops/train/softmax_cross_entropy.ts): the loss of the dequantized int8 logits against
 * the label, and its gradient softmax - one_hot, in float32 with tinyforge's own exp and log (../float32_math.ts)
 * so that every backend computes the same bits. The real logits are recomputed rather than stored: the same
 * operations give the same values.
 */
import { tf_expf, tf_logf } from "../float32_math";

// @ts-ignore: decorator
@inline
function realLogit(logits: usize, i: i32, scale: f32, zeroPoint: i32): f32 {
  return <f32>(<i32>load<i8>(logits + <usize>i) - zeroPoint) * scale;
}

export function softmax_cross_entropy_f32(
  logits: usize, label: usize, loss: usize, grad: usize, classes: i32, scale_bits: i32, zero_point: i32,
): void {
  const scale = reinterpret<f32>(scale_bits);
  let top = -Infinity as f32;
  for (let i = 0; i < classes; ++i) {
    const r = realLogit(logits, i, scale, zero_point);
    if (r > top) top = r;
  }
  let sum: f32 = 0;
  for (let i = 0; i < classes; ++i) {
    const e = tf_expf(realLogit(logits, i, scale, zero_point) - top);
    store<f32>(grad + (<usize>i << 2), e);
    sum += e;
  }
  const target = load<i32>(label);
  for (let i = 0; i < classes; ++i) {
    const at = grad + (<usize>i << 2);
    store<f32>(at, load<f32>(at) / sum - (i == target ? <f32>1 : <f32>0));
  }
  store<f32>(loss, tf_logf(sum) - (realLogit(logits, target, scale, zero_point) - top));
}
