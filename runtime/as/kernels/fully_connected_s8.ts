/*
 * FULLY_CONNECTED, int8 (TFLite reference_integer_ops::FullyConnected). Port of runtime/c/kernels/fully_connected_s8.c.
 * The input zero point's contribution, input_offset * sum(weights row), is folded into `bias` at compile time, so
 * each output is a plain int8 dot product, requantized with the build's rounding (requantizeConv).
 *
 * SIMD: four weight rows at a time against one sign-extended input vector, with i32x4.dot_i16x8_s over 16 (then 8)
 * depths, and the rest in scalar. Integer sums wrap the same in any order, so the result is the C kernel's exactly.
 */
import { clamp, requantizeConv } from '../fixed_point';

// @ts-ignore: decorator
@inline
function requantize(acc: i32, o: i32, multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32): i8 {
  const at = (<usize>o) << 2;
  return <i8>clamp(requantizeConv(acc, load<i32>(multipliers + at), load<i32>(shifts + at)) + outputOffset, actMin, actMax);
}

/* sum in[d] * w[d] for d in [from, depth). */
// @ts-ignore: decorator
@inline
function dotScalar(input: usize, w: usize, from: i32, depth: i32): i32 {
  let acc = 0;
  for (let d = from; d < depth; ++d) acc += <i32>load<i8>(input + d) * <i32>load<i8>(w + d);
  return acc;
}

// @ts-ignore: decorator
@inline
function dot16(xl: v128, xh: v128, w: v128): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(xl, i16x8.extend_low_i8x16_s(w)), i32x4.dot_i16x8_s(xh, i16x8.extend_high_i8x16_s(w)));
}

// @ts-ignore: decorator
@inline
function sumLanes(v: v128): i32 {
  const s = i32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1);
}

export function fully_connected_s8(input: usize, weights: usize, bias: usize, output: usize, batches: i32, in_depth: i32,
                                   out_depth: i32, multipliers: usize, shifts: usize, output_offset: i32, act_min: i32,
                                   act_max: i32): void {
  for (let b = 0; b < batches; ++b) {
    const inp = input + b * in_depth;
    const out = output + b * out_depth;
    let o = 0;
    if (ASC_FEATURE_SIMD) {
      const d16 = in_depth & ~15;
      const d8 = in_depth & ~7;
      for (; o + 3 < out_depth; o += 4) {
        const w0 = weights + o * in_depth;
        const w1 = w0 + in_depth;
        const w2 = w1 + in_depth;
        const w3 = w2 + in_depth;
        let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let d = 0;
        for (; d < d16; d += 16) {
          const x = v128.load(inp + d);
          const xl = i16x8.extend_low_i8x16_s(x);
          const xh = i16x8.extend_high_i8x16_s(x);
          a0 = i32x4.add(a0, dot16(xl, xh, v128.load(w0 + d)));
          a1 = i32x4.add(a1, dot16(xl, xh, v128.load(w1 + d)));
          a2 = i32x4.add(a2, dot16(xl, xh, v128.load(w2 + d)));
          a3 = i32x4.add(a3, dot16(xl, xh, v128.load(w3 + d)));
        }
        if (d < d8) {
          const x = v128.load8x8_s(inp + d);
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x, v128.load8x8_s(w0 + d)));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x, v128.load8x8_s(w1 + d)));
          a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x, v128.load8x8_s(w2 + d)));
          a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x, v128.load8x8_s(w3 + d)));
          d = d8;
        }
        // Lane i of sums is row o + i's total.
        const t01 = i32x4.add(i32x4.shuffle(a0, a1, 0, 4, 2, 6), i32x4.shuffle(a0, a1, 1, 5, 3, 7));
        const t23 = i32x4.add(i32x4.shuffle(a2, a3, 0, 4, 2, 6), i32x4.shuffle(a2, a3, 1, 5, 3, 7));
        const sums = i32x4.add(v128.load(bias + ((<usize>o) << 2)),
          i32x4.add(i32x4.shuffle(t01, t23, 0, 1, 4, 5), i32x4.shuffle(t01, t23, 2, 3, 6, 7)));
        const s0 = i32x4.extract_lane(sums, 0) + dotScalar(inp, w0, d, in_depth);
        const s1 = i32x4.extract_lane(sums, 1) + dotScalar(inp, w1, d, in_depth);
        const s2 = i32x4.extract_lane(sums, 2) + dotScalar(inp, w2, d, in_depth);
        const s3 = i32x4.extract_lane(sums, 3) + dotScalar(inp, w3, d, in_depth);
        store<i8>(out + o, requantize(s0, o, multipliers, shifts, output_offset, act_min, act_max));
        store<i8>(out + o, requantize(s1, o + 1, multipliers, shifts, output_offset, act_min, act_max), 1);
        store<i8>(out + o, requantize(s2, o + 2, multipliers, shifts, output_offset, act_min, act_max), 2);
        store<i8>(out + o, requantize(s3, o + 3, multipliers, shifts, output_offset, act_min, act_max), 3);
      }
      for (; o < out_depth; ++o) {
        const w = weights + o * in_depth;
        let a = i32x4.splat(0);
        let d = 0;
        for (; d < d16; d += 16) {
          const x = v128.load(inp + d);
          a = i32x4.add(a, dot16(i16x8.extend_low_i8x16_s(x), i16x8.extend_high_i8x16_s(x), v128.load(w + d)));
        }
        if (d < d8) {
          a = i32x4.add(a, i32x4.dot_i16x8_s(v128.load8x8_s(inp + d), v128.load8x8_s(w + d)));
          d = d8;
        }
        const acc = load<i32>(bias + ((<usize>o) << 2)) + sumLanes(a) + dotScalar(inp, w, d, in_depth);
        store<i8>(out + o, requantize(acc, o, multipliers, shifts, output_offset, act_min, act_max));
      }
    }
    for (; o < out_depth; ++o) {
      const acc = load<i32>(bias + ((<usize>o) << 2)) + dotScalar(inp, weights + o * in_depth, 0, in_depth);
      store<i8>(out + o, requantize(acc, o, multipliers, shifts, output_offset, act_min, act_max));
    }
  }
}
