/*
 * CONV_2D, int8, 1x1 filter (TFLite reference_integer_ops::ConvPerChannel restricted to 1x1 windows); the port of
 * runtime/c/kernels/conv2d_1x1_s8.c. A 1x1 window never reaches the padding, so every output is the int8 dot product
 * of one input pixel with one weight row, plus `folded_bias` (bias + input_offset * sum of the row, folded at
 * compile time). Integer sums wrap modulo 2^32 like the C ones, so any summation order gives the same accumulator,
 * and the requantization is TFLite's (see requantizePair for the vector form and why it is exact).
 *
 * Scalar build (and in_c < 8): the C kernel's loops, two pixels by two channels.
 *
 * SIMD: a GEMM of pixels by output channels over K = in_c, the same as conv2d_s8's with the input pixels as the
 * windows. Tiles of 2 pixels x 4 channels keep 8 accumulators of i32x4.dot_i16x8_s partial sums (8 taps per step,
 * both operands sign-extended by i16x8 loads), reduced across lanes once per tile; the requantization is vectorised
 * too (requantizePair). K % 8 is a last step over the final 8 taps with the lanes already counted masked to zero;
 * out_c % 4 channels go 2 pixels x 1 channel.
 */
import { clamp, requantizeConv } from "../fixed_point";

// @ts-ignore: decorator
@inline
function requantize(acc: i32, oc: i32, multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32): i32 {
  const at = <usize>oc << 2;
  return clamp(requantizeConv(acc, load<i32>(multipliers + at), load<i32>(shifts + at)) + outputOffset, actMin, actMax);
}

/* Two output pixels (inputs x0, x1 of k bytes), every output channel; the C kernel's loops. */
function scalarPair(
  x0: usize, x1: usize, out0: usize, out1: usize, weights: usize, foldedBias: usize, k: i32, outC: i32,
  multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32,
): void {
  const n = <usize>k;
  let oc = 0;
  for (; oc + 1 < outC; oc += 2) {
    const w0 = weights + ((<usize>oc * n) << 1);
    const w1 = w0 + (n << 1);
    let acc00 = load<i32>(foldedBias + (<usize>oc << 2));
    let acc01 = load<i32>(foldedBias + (<usize>oc << 2), 4);
    let acc10 = acc00;
    let acc11 = acc01;
    for (let i: usize = 0; i < n; ++i) {
      const a = <i32>load<i8>(x0 + i);
      const b = <i32>load<i8>(x1 + i);
      const u = <i32>load<i16>(w0 + (i << 1));
      const v = <i32>load<i16>(w1 + (i << 1));
      acc00 += a * u;
      acc01 += a * v;
      acc10 += b * u;
      acc11 += b * v;
    }
    store<i8>(out0 + oc, requantize(acc00, oc, multipliers, shifts, outputOffset, actMin, actMax));
    store<i8>(out0 + oc + 1, requantize(acc01, oc + 1, multipliers, shifts, outputOffset, actMin, actMax));
    store<i8>(out1 + oc, requantize(acc10, oc, multipliers, shifts, outputOffset, actMin, actMax));
    store<i8>(out1 + oc + 1, requantize(acc11, oc + 1, multipliers, shifts, outputOffset, actMin, actMax));
  }
  if (oc < outC) {
    const w0 = weights + ((<usize>oc * n) << 1);
    let acc0 = load<i32>(foldedBias + (<usize>oc << 2));
    let acc1 = acc0;
    for (let i: usize = 0; i < n; ++i) {
      const u = <i32>load<i16>(w0 + (i << 1));
      acc0 += <i32>load<i8>(x0 + i) * u;
      acc1 += <i32>load<i8>(x1 + i) * u;
    }
    store<i8>(out0 + oc, requantize(acc0, oc, multipliers, shifts, outputOffset, actMin, actMax));
    store<i8>(out1 + oc, requantize(acc1, oc, multipliers, shifts, outputOffset, actMin, actMax));
  }
}

/* [sum of a's lanes, of b's, of c's, of d's]. */
// @ts-ignore: decorator
@inline
function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/* Even lanes from a, odd lanes from b: a shift by a different amount for each of two channels. */
// @ts-ignore: decorator
@inline
function alternate(a: v128, b: v128): v128 {
  return i32x4.shuffle(a, b, 0, 5, 2, 7);
}

/*
 * Requantizes v = [p0 of channel c, p0 of c', p1 of c, p1 of c'] with m = [m, m', m, m'] and e = -shift, e' (the
 * output offset and clamp come after). Exact, lane for lane, with fixed_point.ts when 0 <= m < 2^31 and
 * 1 <= e <= 31 (vectorRequantizable), where |x*m| <= 2^62 - 2^31 and so A = (x*m) >> 31 (floor) fits in i32 with
 * room for a + 1. With H:L the high and low halves of 2*x*m, A = H.
 * - single rounding: (x*m + 2^(30+e)) >> (31+e) = ((A >> (e-1)) + 1) >> 1.
 * - double rounding: SaturatingRoundingDoublingHighMul(x, m) = (x*m + 2^30) >> 31 (floor; for x*m < 0, truncating
 *   (x*m + 1 - 2^30) / 2^31 toward zero is the same floor) = H + (L >>> 31), and it never saturates as
 *   m != INT32_MIN. Then RoundingDivideByPOT(r, e) = floor((r + 2^(e-1) - [r < 0]) / 2^e)
 *   = (((r - [r < 0]) >> (e-1)) + 1) >> 1.
 * (t + 1) >> 1 is computed as t - (t >> 1). A zero multiplier gives 0 for any shift (every step maps 0 to 0).
 */
// @ts-ignore: decorator
@inline
function requantizePair(v: v128, m: v128, e0: i32, e1: i32): v128 {
  const lo = i64x2.shl(i64x2.extmul_low_i32x4_s(v, m), 1);
  const hi = i64x2.shl(i64x2.extmul_high_i32x4_s(v, m), 1);
  let r = i32x4.shuffle(lo, hi, 1, 3, 5, 7);
  if (!TF_SINGLE_ROUNDING) {
    r = i32x4.add(r, i32x4.shr_u(i32x4.shuffle(lo, hi, 0, 2, 4, 6), 31));
    r = i32x4.add(r, i32x4.shr_s(r, 31));
  }
  const t = alternate(i32x4.shr_s(r, e0 - 1), i32x4.shr_s(r, e1 - 1));
  return i32x4.sub(t, i32x4.shr_s(t, 1));
}

/*
 * Whether the vector requantization is exact: requantizePair's conditions, and an int8 clamp range. Its results r
 * are then within +-2^30, and clamp(r + offset, lo, hi) (C, in i32) = clamp(sat8(sat16(sat16(r) + offset)), lo, hi)
 * (narrowing saturates) when |offset| < 32640: a saturated sat16(r) stays beyond the clamp range after the offset.
 */
function vectorRequantizable(
  multipliers: usize, shifts: usize, outC: i32, outputOffset: i32, actMin: i32, actMax: i32,
): bool {
  if (actMin < -128 || actMax > 127 || actMin > actMax || outputOffset <= -32640 || outputOffset >= 32640) return false;
  for (let oc = 0; oc < outC; ++oc) {
    const m = load<i32>(multipliers + (<usize>oc << 2));
    const s = load<i32>(shifts + (<usize>oc << 2));
    if (m != 0 && (m < 0 || s > -1 || s < -31)) return false;
  }
  return true;
}

/* Two output pixels (inputs x0, x1 of n >= 8 bytes), every output channel. When n % 8 != 0 a last step covers the
 * last 8 bytes, its first 8 - n % 8 lanes masked (already counted). */
// @ts-ignore: decorator
@inline
function simdPair(
  x0: usize, x1: usize, n: usize, out0: usize, out1: usize, weights: usize, foldedBias: usize, outC: i32,
  multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32, tailMask: v128, offsetV: v128,
  minV: v128, maxV: v128, vectorRequant: bool,
): void {
  const full = n & ~7; // bytes covered by whole steps
  const last = n - 8; // the tail step's offset
  let oc = 0;
  for (; oc + 3 < outC; oc += 4) {
    const w0 = weights + ((<usize>oc * n) << 1);
    const w1 = w0 + (n << 1);
    const w2 = w1 + (n << 1);
    const w3 = w2 + (n << 1);
    let a = v128.load8x8_s(x0);
    let b = v128.load8x8_s(x1);
    let w = v128.load(w0);
    let acc00 = i32x4.dot_i16x8_s(a, w);
    let acc10 = i32x4.dot_i16x8_s(b, w);
    w = v128.load(w1);
    let acc01 = i32x4.dot_i16x8_s(a, w);
    let acc11 = i32x4.dot_i16x8_s(b, w);
    w = v128.load(w2);
    let acc02 = i32x4.dot_i16x8_s(a, w);
    let acc12 = i32x4.dot_i16x8_s(b, w);
    w = v128.load(w3);
    let acc03 = i32x4.dot_i16x8_s(a, w);
    let acc13 = i32x4.dot_i16x8_s(b, w);
    for (let i: usize = 8; i < full; i += 8) {
      a = v128.load8x8_s(x0 + i);
      b = v128.load8x8_s(x1 + i);
      w = v128.load(w0 + (i << 1));
      acc00 = i32x4.add(acc00, i32x4.dot_i16x8_s(a, w));
      acc10 = i32x4.add(acc10, i32x4.dot_i16x8_s(b, w));
      w = v128.load(w1 + (i << 1));
      acc01 = i32x4.add(acc01, i32x4.dot_i16x8_s(a, w));
      acc11 = i32x4.add(acc11, i32x4.dot_i16x8_s(b, w));
      w = v128.load(w2 + (i << 1));
      acc02 = i32x4.add(acc02, i32x4.dot_i16x8_s(a, w));
      acc12 = i32x4.add(acc12, i32x4.dot_i16x8_s(b, w));
      w = v128.load(w3 + (i << 1));
      acc03 = i32x4.add(acc03, i32x4.dot_i16x8_s(a, w));
      acc13 = i32x4.add(acc13, i32x4.dot_i16x8_s(b, w));
    }
    if (full < n) {
      a = v128.and(v128.load8x8_s(x0 + last), tailMask);
      b = v128.and(v128.load8x8_s(x1 + last), tailMask);
      w = v128.load(w0 + (last << 1));
      acc00 = i32x4.add(acc00, i32x4.dot_i16x8_s(a, w));
      acc10 = i32x4.add(acc10, i32x4.dot_i16x8_s(b, w));
      w = v128.load(w1 + (last << 1));
      acc01 = i32x4.add(acc01, i32x4.dot_i16x8_s(a, w));
      acc11 = i32x4.add(acc11, i32x4.dot_i16x8_s(b, w));
      w = v128.load(w2 + (last << 1));
      acc02 = i32x4.add(acc02, i32x4.dot_i16x8_s(a, w));
      acc12 = i32x4.add(acc12, i32x4.dot_i16x8_s(b, w));
      w = v128.load(w3 + (last << 1));
      acc03 = i32x4.add(acc03, i32x4.dot_i16x8_s(a, w));
      acc13 = i32x4.add(acc13, i32x4.dot_i16x8_s(b, w));
    }
    // Pixel 0 then 1, channels (oc, oc+1) in v01 and (oc+2, oc+3) in v23.
    const at = <usize>oc << 2;
    const v01 = i32x4.add(sum4(acc00, acc01, acc10, acc11), v128.load64_splat(foldedBias + at));
    const v23 = i32x4.add(sum4(acc02, acc03, acc12, acc13), v128.load64_splat(foldedBias + at, 8));
    if (vectorRequant) {
      const r01 = requantizePair(v01, v128.load64_splat(multipliers + at), -load<i32>(shifts + at), -load<i32>(shifts + at, 4));
      const r23 = requantizePair(v23, v128.load64_splat(multipliers + at, 8), -load<i32>(shifts + at, 8), -load<i32>(shifts + at, 12));
      // The output offset and clamp on the narrowed values (see vectorRequantizable): 16-bit lanes p0 (oc, oc+1),
      // p1 (oc, oc+1), p0 (oc+2, oc+3), p1 (oc+2, oc+3).
      const words = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r01, r23), offsetV);
      const narrowed = i8x16.narrow_i16x8_s(words, words);
      const bytes = i8x16.min_s(i8x16.max_s(narrowed, minV), maxV);
      v128.store16_lane(out0 + oc, bytes, 0);
      v128.store16_lane(out1 + oc, bytes, 1);
      v128.store16_lane(out0 + oc, bytes, 2, 2);
      v128.store16_lane(out1 + oc, bytes, 3, 2);
    } else {
      store<i8>(out0 + oc, requantize(i32x4.extract_lane(v01, 0), oc, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out0 + oc + 1, requantize(i32x4.extract_lane(v01, 1), oc + 1, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out1 + oc, requantize(i32x4.extract_lane(v01, 2), oc, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out1 + oc + 1, requantize(i32x4.extract_lane(v01, 3), oc + 1, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out0 + oc + 2, requantize(i32x4.extract_lane(v23, 0), oc + 2, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out0 + oc + 3, requantize(i32x4.extract_lane(v23, 1), oc + 3, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out1 + oc + 2, requantize(i32x4.extract_lane(v23, 2), oc + 2, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out1 + oc + 3, requantize(i32x4.extract_lane(v23, 3), oc + 3, multipliers, shifts, outputOffset, actMin, actMax));
    }
  }
  for (; oc < outC; ++oc) {
    const w0 = weights + ((<usize>oc * n) << 1);
    let w = v128.load(w0);
    let acc0 = i32x4.dot_i16x8_s(v128.load8x8_s(x0), w);
    let acc1 = i32x4.dot_i16x8_s(v128.load8x8_s(x1), w);
    for (let i: usize = 8; i < full; i += 8) {
      w = v128.load(w0 + (i << 1));
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.load8x8_s(x0 + i), w));
      acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(v128.load8x8_s(x1 + i), w));
    }
    if (full < n) {
      w = v128.load(w0 + (last << 1));
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.and(v128.load8x8_s(x0 + last), tailMask), w));
      acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(v128.and(v128.load8x8_s(x1 + last), tailMask), w));
    }
    // [acc0 lanes 0+2, acc1 lanes 0+2, acc0 lanes 1+3, acc1 lanes 1+3]
    const s = i32x4.add(i32x4.shuffle(acc0, acc1, 0, 4, 1, 5), i32x4.shuffle(acc0, acc1, 2, 6, 3, 7));
    const bias = load<i32>(foldedBias + (<usize>oc << 2));
    const sum0 = bias + i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 2);
    const sum1 = bias + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 3);
    store<i8>(out0 + oc, requantize(sum0, oc, multipliers, shifts, outputOffset, actMin, actMax));
    store<i8>(out1 + oc, requantize(sum1, oc, multipliers, shifts, outputOffset, actMin, actMax));
  }
}

/* A run of `count` output pixels whose inputs are `pixelStep` bytes apart, two at a time (an odd last one is
 * computed as a pair with itself). */
function simdRun(
  x: usize, pixelStep: usize, count: i32, weights: usize, foldedBias: usize, out: usize, inC: i32, outC: i32,
  multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32,
  tailMask: v128, offsetV: v128, minV: v128, maxV: v128, vectorRequant: bool,
): void {
  for (let p = 0; p < count; p += 2) {
    const x0 = x + <usize>p * pixelStep;
    const out0 = out + <usize>p * <usize>outC;
    const x1 = p + 1 < count ? x0 + pixelStep : x0;
    const out1 = p + 1 < count ? out0 + <usize>outC : out0;
    simdPair(x0, x1, <usize>inC, out0, out1, weights, foldedBias, outC, multipliers, shifts, outputOffset, actMin,
      actMax, tailMask, offsetV, minV, maxV, vectorRequant);
  }
}

function scalarRun(
  x: usize, pixelStep: usize, count: i32, weights: usize, foldedBias: usize, out: usize, inC: i32, outC: i32,
  multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32,
): void {
  for (let p = 0; p < count; p += 2) {
    const x0 = x + <usize>p * pixelStep;
    const out0 = out + <usize>p * <usize>outC;
    const x1 = p + 1 < count ? x0 + pixelStep : x0;
    const out1 = p + 1 < count ? out0 + <usize>outC : out0;
    scalarPair(x0, x1, out0, out1, weights, foldedBias, inC, outC, multipliers, shifts, outputOffset, actMin, actMax);
  }
}

export function conv2d_1x1_s8(
  input: usize, weights: usize, folded_bias: usize, output: usize,
  batches: i32, in_h: i32, in_w: i32, in_c: i32, out_h: i32, out_w: i32, out_c: i32,
  stride_h: i32, stride_w: i32, multipliers: usize, shifts: usize,
  output_offset: i32, act_min: i32, act_max: i32,
): void {
  // Runs of pixels: with stride 1 (out_h == in_h, out_w == in_w) the whole batch, else one output row each.
  const contiguous = stride_h == 1 && stride_w == 1;
  const runs = contiguous ? 1 : batches * out_h;
  const count = contiguous ? batches * out_h * out_w : out_w;
  const pixelStep = <usize>(stride_w * in_c);
  if (ASC_FEATURE_SIMD && in_c >= 8) {
    // The tail step's i16 lanes >= 8 - in_c % 8 are the taps not summed yet.
    const tailMask = i16x8.gt_s(v128(0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0), i16x8.splat(<i16>(7 - (in_c & 7))));
    const offsetV = i16x8.splat(<i16>output_offset);
    const minV = i8x16.splat(<i8>act_min);
    const maxV = i8x16.splat(<i8>act_max);
    const vectorRequant = vectorRequantizable(multipliers, shifts, out_c, output_offset, act_min, act_max);
    for (let r = 0; r < runs; ++r) {
      const b = r / out_h; // the run's batch and output row (0 and 0 for the one contiguous run)
      const oy = r - b * out_h;
      const x = input + <usize>((b * in_h + oy * stride_h) * in_w) * <usize>in_c;
      const out = output + <usize>r * <usize>(out_w * out_c);
      simdRun(x, pixelStep, count, weights, folded_bias, out, in_c, out_c, multipliers, shifts, output_offset, act_min,
        act_max, tailMask, offsetV, minV, maxV, vectorRequant);
    }
    return;
  }
  for (let r = 0; r < runs; ++r) {
    const b = r / out_h;
    const oy = r - b * out_h;
    const x = input + <usize>((b * in_h + oy * stride_h) * in_w) * <usize>in_c;
    const out = output + <usize>r * <usize>(out_w * out_c);
    scalarRun(x, pixelStep, count, weights, folded_bias, out, in_c, out_c, multipliers, shifts, output_offset, act_min,
      act_max);
  }
}
