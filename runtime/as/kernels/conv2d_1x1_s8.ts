/*
 * CONV_2D, int8, 1x1 filter (TFLite reference_integer_ops::ConvPerChannel restricted to 1x1 windows); the port of
 * runtime/c/kernels/conv2d_1x1_s8.c. A 1x1 window never reaches the padding, so every output is the int8 dot product
 * of one input pixel with one weight row, plus `folded_bias` (bias + input_offset * sum of the row, folded at
 * compile time). Integer sums wrap modulo 2^32 like the C ones, so any summation order gives the same accumulator,
 * and the requantization is TFLite's (see requantizePair for the vector form and why it is exact).
 *
 * SIMD: a GEMM of pixels by output channels over K = in_c. Tiles of 2 pixels x 4 channels keep 8 accumulators of
 * i32x4.dot_i16x8_s partial sums (8 taps per step, both operands sign-extended by i16x8 loads), reduced across lanes
 * once per tile. K % 8 is a last step over the final 8 taps with the lanes already counted masked to zero; out_c % 4
 * channels go 2 pixels x 1 channel. K < 8, and the scalar build, run the C kernel's loops.
 */
import { clamp, requantizeConv } from "../fixed_point";

// @ts-ignore: decorator
@inline
function requantize(acc: i32, oc: i32, multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32): i32 {
  const at = <usize>oc << 2;
  return clamp(requantizeConv(acc, load<i32>(multipliers + at), load<i32>(shifts + at)) + outputOffset, actMin, actMax);
}

/* Two output pixels (inputs x0, x1), every output channel; the C kernel's loops. */
function scalarPair(
  x0: usize, x1: usize, out0: usize, out1: usize, weights: usize, foldedBias: usize, k: i32, outC: i32,
  multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32,
): void {
  const n = <usize>k;
  let oc = 0;
  for (; oc + 1 < outC; oc += 2) {
    const w0 = weights + <usize>oc * n;
    const w1 = w0 + n;
    let acc00 = load<i32>(foldedBias + (<usize>oc << 2));
    let acc01 = load<i32>(foldedBias + (<usize>oc << 2), 4);
    let acc10 = acc00;
    let acc11 = acc01;
    for (let i: usize = 0; i < n; ++i) {
      const a = <i32>load<i8>(x0 + i);
      const b = <i32>load<i8>(x1 + i);
      const u = <i32>load<i8>(w0 + i);
      const v = <i32>load<i8>(w1 + i);
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
    const w0 = weights + <usize>oc * n;
    let acc0 = load<i32>(foldedBias + (<usize>oc << 2));
    let acc1 = acc0;
    for (let i: usize = 0; i < n; ++i) {
      const u = <i32>load<i8>(w0 + i);
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

/* Lanes 0-1 from a, 2-3 from b: a shift by a different amount in each half. */
// @ts-ignore: decorator
@inline
function halves(a: v128, b: v128): v128 {
  return i32x4.shuffle(a, b, 0, 1, 6, 7);
}

/*
 * Requantizes v = [p0 of channel c, p1 of c, p0 of c', p1 of c'] with m = [m, m, m', m'] and shifts s, s'; before
 * the output offset and clamp. Exact, lane for lane, with fixed_point.ts under the conditions checked by
 * vectorRequantizable:
 * - double rounding: SaturatingRoundingDoublingHighMul(a, b) = (a*b + 2^30) >> 31 (floor) for every a, b: for
 *   a*b < 0, truncating (a*b + 1 - 2^30) / 2^31 toward zero is the same floor. That fits in i32 except for
 *   a = b = INT32_MIN, whose result is the only one to wrap to INT32_MIN: adding the (-1) of `r == INT32_MIN` turns
 *   it into INT32_MAX, the saturation. RoundingDivideByPOT(r, e) rounds half away from zero, so it is
 *   sign(r) * floor((|r| + 2^e / 2) / 2^e) = sign(r) * ((floor(2|r| / 2^e) + 1) >> 1) in u32 (|r| < 2^31 as r is
 *   not INT32_MIN), valid for e = 0 too.
 * - single rounding, e = -shift >= 1 and 0 <= multiplier: (x*m + 2^(30+e)) >> (31+e) =
 *   ((A >> (e-1)) + 1) >> 1 with A = (x*m) >> 31, which fits in i32 with room for the + 1 as |x*m| < 2^62 - 2^31.
 *   A zero multiplier gives 0 for any shift, as A = 0.
 */
// @ts-ignore: decorator
@inline
function requantizePair(v: v128, m: v128, s0: i32, s1: i32, anyLeftShift: bool): v128 {
  if (TF_SINGLE_ROUNDING) {
    const lo = i64x2.shl(i64x2.extmul_low_i32x4_s(v, m), 1);
    const hi = i64x2.shl(i64x2.extmul_high_i32x4_s(v, m), 1);
    const a = i32x4.shuffle(lo, hi, 1, 3, 5, 7);
    const t = halves(i32x4.shr_s(a, ~s0), i32x4.shr_s(a, ~s1));
    return i32x4.shr_s(i32x4.add(t, i32x4.splat(1)), 1);
  } else {
    let x = v;
    if (anyLeftShift) x = halves(i32x4.shl(x, s0 > 0 ? s0 : 0), i32x4.shl(x, s1 > 0 ? s1 : 0));
    const round = i64x2.splat(<i64>1 << 30);
    const lo = i64x2.shl(i64x2.add(i64x2.extmul_low_i32x4_s(x, m), round), 1);
    const hi = i64x2.shl(i64x2.add(i64x2.extmul_high_i32x4_s(x, m), round), 1);
    let r = i32x4.shuffle(lo, hi, 1, 3, 5, 7);
    r = i32x4.add(r, i32x4.eq(r, i32x4.splat(i32.MIN_VALUE)));
    const sign = i32x4.shr_s(r, 31);
    const twice = i32x4.shl(i32x4.abs(r), 1);
    let q = halves(i32x4.shr_u(twice, s0 < 0 ? -s0 : 0), i32x4.shr_u(twice, s1 < 0 ? -s1 : 0));
    q = i32x4.shr_u(i32x4.add(q, i32x4.splat(1)), 1);
    return i32x4.sub(v128.xor(q, sign), sign);
  }
}

/* Whether every channel's multiplier and shift are in the domain where requantizePair is exact. */
function vectorRequantizable(multipliers: usize, shifts: usize, outC: i32): bool {
  for (let oc = 0; oc < outC; ++oc) {
    const m = load<i32>(multipliers + (<usize>oc << 2));
    const s = load<i32>(shifts + (<usize>oc << 2));
    if (TF_SINGLE_ROUNDING) {
      if (m != 0 && (m < 0 || s > -1 || s < -31)) return false;
    } else {
      if (s > 31 || s < -31) return false;
    }
  }
  return true;
}

function anyPositive(shifts: usize, outC: i32): bool {
  for (let oc = 0; oc < outC; ++oc) if (load<i32>(shifts + (<usize>oc << 2)) > 0) return true;
  return false;
}

/* Two output pixels (inputs x0, x1, k >= 8 bytes each), every output channel. */
// @ts-ignore: decorator
@inline
function simdPair(
  x0: usize, x1: usize, out0: usize, out1: usize, weights: usize, foldedBias: usize, k: i32, outC: i32,
  multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32,
  vectorRequant: bool, anyLeftShift: bool,
): void {
  const n = <usize>k;
  // The tail step's i16 lanes >= 8 - k % 8 are the taps not summed yet.
  const tailMask = i16x8.gt_s(v128(0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0), i16x8.splat(<i16>(7 - (k & 7))));
  const full = n & ~7; // taps covered by whole steps
  const last = n - 8; // the tail step's taps (its first 8 - n % 8 lanes are masked)
  let oc = 0;
  for (; oc + 3 < outC; oc += 4) {
    const w0 = weights + <usize>oc * n;
    const w1 = w0 + n;
    const w2 = w1 + n;
    const w3 = w2 + n;
    let a = v128.load8x8_s(x0);
    let b = v128.load8x8_s(x1);
    let w = v128.load8x8_s(w0);
    let acc00 = i32x4.dot_i16x8_s(a, w);
    let acc10 = i32x4.dot_i16x8_s(b, w);
    w = v128.load8x8_s(w1);
    let acc01 = i32x4.dot_i16x8_s(a, w);
    let acc11 = i32x4.dot_i16x8_s(b, w);
    w = v128.load8x8_s(w2);
    let acc02 = i32x4.dot_i16x8_s(a, w);
    let acc12 = i32x4.dot_i16x8_s(b, w);
    w = v128.load8x8_s(w3);
    let acc03 = i32x4.dot_i16x8_s(a, w);
    let acc13 = i32x4.dot_i16x8_s(b, w);
    for (let i: usize = 8; i < full; i += 8) {
      a = v128.load8x8_s(x0 + i);
      b = v128.load8x8_s(x1 + i);
      w = v128.load8x8_s(w0 + i);
      acc00 = i32x4.add(acc00, i32x4.dot_i16x8_s(a, w));
      acc10 = i32x4.add(acc10, i32x4.dot_i16x8_s(b, w));
      w = v128.load8x8_s(w1 + i);
      acc01 = i32x4.add(acc01, i32x4.dot_i16x8_s(a, w));
      acc11 = i32x4.add(acc11, i32x4.dot_i16x8_s(b, w));
      w = v128.load8x8_s(w2 + i);
      acc02 = i32x4.add(acc02, i32x4.dot_i16x8_s(a, w));
      acc12 = i32x4.add(acc12, i32x4.dot_i16x8_s(b, w));
      w = v128.load8x8_s(w3 + i);
      acc03 = i32x4.add(acc03, i32x4.dot_i16x8_s(a, w));
      acc13 = i32x4.add(acc13, i32x4.dot_i16x8_s(b, w));
    }
    if (full < n) {
      a = v128.and(v128.load8x8_s(x0 + last), tailMask);
      b = v128.and(v128.load8x8_s(x1 + last), tailMask);
      w = v128.load8x8_s(w0 + last);
      acc00 = i32x4.add(acc00, i32x4.dot_i16x8_s(a, w));
      acc10 = i32x4.add(acc10, i32x4.dot_i16x8_s(b, w));
      w = v128.load8x8_s(w1 + last);
      acc01 = i32x4.add(acc01, i32x4.dot_i16x8_s(a, w));
      acc11 = i32x4.add(acc11, i32x4.dot_i16x8_s(b, w));
      w = v128.load8x8_s(w2 + last);
      acc02 = i32x4.add(acc02, i32x4.dot_i16x8_s(a, w));
      acc12 = i32x4.add(acc12, i32x4.dot_i16x8_s(b, w));
      w = v128.load8x8_s(w3 + last);
      acc03 = i32x4.add(acc03, i32x4.dot_i16x8_s(a, w));
      acc13 = i32x4.add(acc13, i32x4.dot_i16x8_s(b, w));
    }
    // Channels (oc, oc+1) then (oc+2, oc+3), pixel 0 then 1 within each.
    const at = <usize>oc << 2;
    const bias = v128.load(foldedBias + at);
    const v01 = i32x4.add(sum4(acc00, acc10, acc01, acc11), i32x4.shuffle(bias, bias, 0, 0, 1, 1));
    const v23 = i32x4.add(sum4(acc02, acc12, acc03, acc13), i32x4.shuffle(bias, bias, 2, 2, 3, 3));
    if (vectorRequant) {
      const mul = v128.load(multipliers + at);
      const offset = i32x4.splat(outputOffset);
      const lo = i32x4.splat(actMin);
      const hi = i32x4.splat(actMax);
      let r01 = requantizePair(v01, i32x4.shuffle(mul, mul, 0, 0, 1, 1), load<i32>(shifts + at), load<i32>(shifts + at, 4), anyLeftShift);
      let r23 = requantizePair(v23, i32x4.shuffle(mul, mul, 2, 2, 3, 3), load<i32>(shifts + at, 8), load<i32>(shifts + at, 12), anyLeftShift);
      r01 = i32x4.min_s(i32x4.max_s(i32x4.add(r01, offset), lo), hi);
      r23 = i32x4.min_s(i32x4.max_s(i32x4.add(r23, offset), lo), hi);
      // The low byte of each lane, as the C kernel's (int8_t) cast: pixel 0's 4 channels, then pixel 1's.
      const bytes = i8x16.shuffle(r01, r23, 0, 8, 16, 24, 4, 12, 20, 28, 0, 0, 0, 0, 0, 0, 0, 0);
      v128.store32_lane(out0 + oc, bytes, 0);
      v128.store32_lane(out1 + oc, bytes, 1);
    } else {
      store<i8>(out0 + oc, requantize(i32x4.extract_lane(v01, 0), oc, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out1 + oc, requantize(i32x4.extract_lane(v01, 1), oc, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out0 + oc + 1, requantize(i32x4.extract_lane(v01, 2), oc + 1, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out1 + oc + 1, requantize(i32x4.extract_lane(v01, 3), oc + 1, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out0 + oc + 2, requantize(i32x4.extract_lane(v23, 0), oc + 2, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out1 + oc + 2, requantize(i32x4.extract_lane(v23, 1), oc + 2, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out0 + oc + 3, requantize(i32x4.extract_lane(v23, 2), oc + 3, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out1 + oc + 3, requantize(i32x4.extract_lane(v23, 3), oc + 3, multipliers, shifts, outputOffset, actMin, actMax));
    }
  }
  for (; oc < outC; ++oc) {
    const w0 = weights + <usize>oc * n;
    let acc0 = i32x4.dot_i16x8_s(v128.load8x8_s(x0), v128.load8x8_s(w0));
    let acc1 = i32x4.dot_i16x8_s(v128.load8x8_s(x1), v128.load8x8_s(w0));
    for (let i: usize = 8; i < full; i += 8) {
      const w = v128.load8x8_s(w0 + i);
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.load8x8_s(x0 + i), w));
      acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(v128.load8x8_s(x1 + i), w));
    }
    if (full < n) {
      const w = v128.load8x8_s(w0 + last);
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
function run(
  x: usize, pixelStep: i32, count: i32, weights: usize, foldedBias: usize, out: usize, inC: i32, outC: i32,
  multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32,
  vectorRequant: bool, anyLeftShift: bool,
): void {
  for (let p = 0; p < count; p += 2) {
    const x0 = x + <usize>p * <usize>pixelStep;
    const out0 = out + <usize>p * <usize>outC;
    const x1 = p + 1 < count ? x0 + <usize>pixelStep : x0;
    const out1 = p + 1 < count ? out0 + <usize>outC : out0;
    if (ASC_FEATURE_SIMD && inC >= 8) {
      simdPair(x0, x1, out0, out1, weights, foldedBias, inC, outC, multipliers, shifts, outputOffset, actMin, actMax,
        vectorRequant, anyLeftShift);
    } else {
      scalarPair(x0, x1, out0, out1, weights, foldedBias, inC, outC, multipliers, shifts, outputOffset, actMin, actMax);
    }
  }
}

export function conv2d_1x1_s8(
  input: usize, weights: usize, folded_bias: usize, output: usize,
  batches: i32, in_h: i32, in_w: i32, in_c: i32, out_h: i32, out_w: i32, out_c: i32,
  stride_h: i32, stride_w: i32, multipliers: usize, shifts: usize,
  output_offset: i32, act_min: i32, act_max: i32,
): void {
  let vectorRequant = false;
  let anyLeftShift = false;
  if (ASC_FEATURE_SIMD) {
    vectorRequant = vectorRequantizable(multipliers, shifts, out_c);
    if (!TF_SINGLE_ROUNDING) anyLeftShift = anyPositive(shifts, out_c);
  }
  if (stride_h == 1 && stride_w == 1) {
    // out_h == in_h and out_w == in_w: every input pixel, in order.
    run(input, in_c, batches * out_h * out_w, weights, folded_bias, output, in_c, out_c, multipliers, shifts,
      output_offset, act_min, act_max, vectorRequant, anyLeftShift);
    return;
  }
  for (let b = 0; b < batches; ++b) {
    for (let oy = 0; oy < out_h; ++oy) {
      const row = input + <usize>((b * in_h + oy * stride_h) * in_w) * <usize>in_c;
      const out = output + <usize>((b * out_h + oy) * out_w) * <usize>out_c;
      run(row, stride_w * in_c, out_w, weights, folded_bias, out, in_c, out_c, multipliers, shifts,
        output_offset, act_min, act_max, vectorRequant, anyLeftShift);
    }
  }
}
