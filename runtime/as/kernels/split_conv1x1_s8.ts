/*
 * A 1x1 convolution with stride 1, or a fully connected layer, whose weights a partial update split along the input
 * channels (compiler/ops/train/split_conv.ts); the port of runtime/c/kernels/split_conv1x1_s8.c. Channels ic < keep
 * are in `head` (rows of keep, trainable state), the others in `tail` (rows of in_c - keep, frozen). Each output is
 * folded_bias[oc] plus the int8 dot product of one input pixel with the whole weight row, requantized with the
 * build's rounding (requantizeConv) as conv2d_1x1_s8 and fully_connected_s8 do. Plain loops: these layers are the
 * small late ones a scheme trains.
 */
import { clamp, requantizeConv } from '../fixed_point';

export function split_conv1x1_s8(
  input: usize, head: usize, tail: usize, folded_bias: usize, output: usize, pixels: i32, in_c: i32, out_c: i32,
  keep: i32, multipliers: usize, shifts: usize, output_offset: i32, act_min: i32, act_max: i32,
): void {
  const rest = in_c - keep;
  let out = output;
  for (let p = 0; p < pixels; ++p) {
    const x = input + <usize>(p * in_c);
    for (let oc = 0; oc < out_c; ++oc, ++out) {
      const w = head + <usize>(oc * keep);
      const v = tail + <usize>(oc * rest);
      let acc = load<i32>(folded_bias + (<usize>oc << 2));
      for (let i = 0; i < keep; ++i) acc += <i32>load<i8>(x + i) * <i32>load<i8>(w + i);
      for (let i = 0; i < rest; ++i) acc += <i32>load<i8>(x + keep + i) * <i32>load<i8>(v + i);
      const at = <usize>oc << 2;
      store<i8>(out, <i8>clamp(requantizeConv(acc, load<i32>(multipliers + at), load<i32>(shifts + at)) + output_offset, act_min, act_max));
    }
  }
}
