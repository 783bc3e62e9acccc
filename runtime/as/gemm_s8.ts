/*
 * The int8 GEMM shared by conv2d_s8 and conv2d_1x1_s8: output pixels (each a column of K int8 taps) by output
 * channels (each a row of K weights widened to int16, OHWI), plus `folded_bias`, requantized per channel as TFLite's
 * ConvPerChannel. Integer sums wrap modulo 2^32 like the C ones, so any summation order gives the same accumulator;
 * the vector requantization is exact (requantizeRaw, vectorRequantizable).
 *
 * SIMD tiles (both multiply 8 taps per step with i32x4.dot_i16x8_s, both operands sign-extended to i16x8; a column
 * whose length is not a whole number of steps ends with a step over its last 8 taps, the lanes already counted
 * masked to zero):
 * - simdPair: 2 pixels x 4 channels, 8 accumulators of partial sums reduced across lanes once per tile (sum4), for
 *   any K and any requantization.
 * - simdQuad: 4 pixels x 4 channels with the pixels in the lanes: each step transposes the 4 columns' 8 taps into
 *   4 vectors of tap pairs and multiplies them by the channel's pairs broadcast, so the sums need no reduction, and
 *   a channel's 4 results share one multiplier and shift. Cheaper per output when K is small and the reduction and
 *   requantization dominate.
 */
import { clamp, requantizeConv, requantizeFloat32x4 } from "./fixed_point";

// @ts-ignore: decorator
@inline
function requantize(acc: i32, oc: i32, multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32): i32 {
  const at = <usize>oc << 2;
  return clamp(requantizeConv(acc, load<i32>(multipliers + at), load<i32>(shifts + at)) + outputOffset, actMin, actMax);
}

/* Two output pixels (columns x0, x1 of k bytes), every output channel; the C kernel's loops. */
export function scalarPair(
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

/* The SIMD tail step's mask for columns of n >= 8 bytes: its i16 lanes >= 8 - n % 8 are the taps not summed yet. */
// @ts-ignore: decorator
@inline
export function tailMask(n: i32): v128 {
  return i16x8.gt_s(v128(0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0), i16x8.splat(<i16>(7 - (n & 7))));
}

/* [sum of a's lanes, of b's, of c's, of d's]. */
// @ts-ignore: decorator
@inline
function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/*
 * The requantization of each lane x of v with the multiplier m of its lane, up to the final rounding shift by e =
 * -shift (the output offset and clamp come after): r such that the result is ((r >> (e-1)) + 1) >> 1. Exact, lane
 * for lane, with fixed_point.ts when 0 <= m < 2^31 and 1 <= e <= 31 (vectorRequantizable), where
 * |x*m| <= 2^62 - 2^31 and so A = (x*m) >> 31 (floor) and (x*m + 2^30) >> 31 fit in i32 with room for a + 1: they
 * are the low halves of the 64-bit shifts, which are the same for logical shifts (bits 31 to 62 of the sum).
 * - single rounding: (x*m + 2^(30+e)) >> (31+e) = ((A >> (e-1)) + 1) >> 1, so r = A.
 * - double rounding: SaturatingRoundingDoublingHighMul(x, m) = s = (x*m + 2^30) >> 31 (floor; for x*m < 0,
 *   truncating (x*m + 1 - 2^30) / 2^31 toward zero is the same floor), and it never saturates as m != INT32_MIN.
 *   Then RoundingDivideByPOT(s, e) = floor((s + 2^(e-1) - [s < 0]) / 2^e) = (((s - [s < 0]) >> (e-1)) + 1) >> 1,
 *   so r = s - [s < 0].
 * (t + 1) >> 1 is computed as t - (t >> 1). A zero multiplier gives 0 for any shift (every step maps 0 to 0).
 */
// @ts-ignore: decorator
@inline
function requantizeRaw(v: v128, m: v128): v128 {
  let lo = i64x2.extmul_low_i32x4_s(v, m);
  let hi = i64x2.extmul_high_i32x4_s(v, m);
  if (!TF_SINGLE_ROUNDING) {
    lo = i64x2.add(lo, i64x2.splat(1 << 30));
    hi = i64x2.add(hi, i64x2.splat(1 << 30));
  }
  const r = i32x4.shuffle(i64x2.shr_u(lo, 31), i64x2.shr_u(hi, 31), 0, 2, 4, 6);
  return TF_SINGLE_ROUNDING ? r : i32x4.add(r, i32x4.shr_s(r, 31));
}

/* Requantizes v = [p0 of channel c, p0 of c', p1 of c, p1 of c'] with m = [m, m', m, m'] and e = -shift, e'. */
// @ts-ignore: decorator
@inline
function requantizePair(v: v128, m: v128, e0: i32, e1: i32): v128 {
  if (TF_FLOAT32_REQUANT) return requantizeFloat32x4(v, m);
  const r = requantizeRaw(v, m);
  // Even lanes shifted by e0 - 1, odd lanes by e1 - 1.
  const t = i32x4.shuffle(i32x4.shr_s(r, e0 - 1), i32x4.shr_s(r, e1 - 1), 0, 5, 2, 7);
  return i32x4.sub(t, i32x4.shr_s(t, 1));
}

/* Requantizes v = 4 results of one channel, with m its multiplier in every lane and e = -shift. */
// @ts-ignore: decorator
@inline
function requantizeChannel(v: v128, m: v128, e: i32): v128 {
  if (TF_FLOAT32_REQUANT) return requantizeFloat32x4(v, m);
  const t = i32x4.shr_s(requantizeRaw(v, m), e - 1);
  return i32x4.sub(t, i32x4.shr_s(t, 1));
}

/*
 * Whether the vector requantization is exact: requantizeRaw's conditions, and an int8 clamp range. Its results r
 * are then within +-2^30, and clamp(r + offset, lo, hi) (C, in i32) = clamp(sat8(sat16(sat16(r) + offset)), lo, hi)
 * (narrowing saturates) when |offset| < 32640: a saturated sat16(r) stays beyond the clamp range after the offset.
 * The 'float32' rounding is exact for every multiplier, and its results are within +-2^22.
 */
export function vectorRequantizable(
  multipliers: usize, shifts: usize, outC: i32, outputOffset: i32, actMin: i32, actMax: i32,
): bool {
  if (actMin < -128 || actMax > 127 || actMin > actMax || outputOffset <= -32640 || outputOffset >= 32640) return false;
  if (TF_FLOAT32_REQUANT) return true;
  for (let oc = 0; oc < outC; ++oc) {
    const m = load<i32>(multipliers + (<usize>oc << 2));
    const s = load<i32>(shifts + (<usize>oc << 2));
    if (m != 0 && (m < 0 || s > -1 || s < -31)) return false;
  }
  return true;
}

/*
 * Two output pixels, every output channel. Pixel p's column is `rows` runs of `run` >= 8 bytes, the first at xp and
 * the next ones `stride_p` bytes apart; the weights of a channel are the same runs back to back. A run ends with a
 * step over its last 8 bytes when run % 8 != 0, its lanes outside `mask` (tailMask(run)) already counted.
 */
// @ts-ignore: decorator
@inline
export function simdPair(
  x0: usize, stride0: usize, x1: usize, stride1: usize, rows: i32, run: usize, out0: usize, out1: usize,
  weights: usize, foldedBias: usize, outC: i32, multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32,
  actMax: i32, mask: v128, offsetV: v128, minV: v128, maxV: v128, vectorRequant: bool,
): void {
  const n = run * <usize>rows;
  const full = run & ~7; // bytes of a run covered by whole steps
  const last = run - 8; // the tail step's offset in a run
  let oc = 0;
  for (; oc + 3 < outC; oc += 4) {
    let w0 = weights + ((<usize>oc * n) << 1);
    let w1 = w0 + (n << 1);
    let w2 = w1 + (n << 1);
    let w3 = w2 + (n << 1);
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
    let p0 = x0;
    let p1 = x1;
    let i: usize = 8;
    for (let r = 1; ; ++r) {
      for (; i < full; i += 8) {
        a = v128.load8x8_s(p0 + i);
        b = v128.load8x8_s(p1 + i);
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
      if (full < run) {
        a = v128.and(v128.load8x8_s(p0 + last), mask);
        b = v128.and(v128.load8x8_s(p1 + last), mask);
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
      if (r == rows) break;
      p0 += stride0;
      p1 += stride1;
      w0 += run << 1;
      w1 += run << 1;
      w2 += run << 1;
      w3 += run << 1;
      i = 0;
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
    let w0 = weights + ((<usize>oc * n) << 1);
    let w = v128.load(w0);
    let acc0 = i32x4.dot_i16x8_s(v128.load8x8_s(x0), w);
    let acc1 = i32x4.dot_i16x8_s(v128.load8x8_s(x1), w);
    let p0 = x0;
    let p1 = x1;
    let i: usize = 8;
    for (let r = 1; ; ++r) {
      for (; i < full; i += 8) {
        w = v128.load(w0 + (i << 1));
        acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.load8x8_s(p0 + i), w));
        acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(v128.load8x8_s(p1 + i), w));
      }
      if (full < run) {
        w = v128.load(w0 + (last << 1));
        acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.and(v128.load8x8_s(p0 + last), mask), w));
        acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(v128.and(v128.load8x8_s(p1 + last), mask), w));
      }
      if (r == rows) break;
      p0 += stride0;
      p1 += stride1;
      w0 += run << 1;
      i = 0;
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

/* acc + the dot products of the transposed tap pairs t0..t3 with the 4 pairs of a channel's weights at w. */
// @ts-ignore: decorator
@inline
function pairDots(acc: v128, t0: v128, t1: v128, t2: v128, t3: v128, w: usize): v128 {
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(t0, v128.load32_splat(w)));
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(t1, v128.load32_splat(w, 4)));
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(t2, v128.load32_splat(w, 8)));
  return i32x4.add(acc, i32x4.dot_i16x8_s(t3, v128.load32_splat(w, 12)));
}

/*
 * Requantizes the sums accN = [pixels 0..3 of channel oc + N] and stores them to out0 + p * outStep + oc (the output
 * offset and clamp on the narrowed values, see vectorRequantizable).
 */
// @ts-ignore: decorator
@inline
function storeQuad(
  acc0: v128, acc1: v128, acc2: v128, acc3: v128, oc: i32, out0: usize, outStep: usize, multipliers: usize,
  shifts: usize, offsetV: v128, minV: v128, maxV: v128,
): void {
  const at = <usize>oc << 2;
  const r0 = requantizeChannel(acc0, v128.load32_splat(multipliers + at), -load<i32>(shifts + at));
  const r1 = requantizeChannel(acc1, v128.load32_splat(multipliers + at, 4), -load<i32>(shifts + at, 4));
  const r2 = requantizeChannel(acc2, v128.load32_splat(multipliers + at, 8), -load<i32>(shifts + at, 8));
  const r3 = requantizeChannel(acc3, v128.load32_splat(multipliers + at, 12), -load<i32>(shifts + at, 12));
  const words01 = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r0, r1), offsetV);
  const words23 = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r2, r3), offsetV);
  // Byte 4c + p is pixel p of channel oc + c, shuffled to 4p + c.
  const bytes = i8x16.min_s(i8x16.max_s(i8x16.narrow_i16x8_s(words01, words23), minV), maxV);
  const pixels = i8x16.shuffle(bytes, bytes, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const out = out0 + <usize>oc;
  v128.store32_lane(out, pixels, 0);
  v128.store32_lane(out + outStep, pixels, 1);
  v128.store32_lane(out + (outStep << 1), pixels, 2);
  v128.store32_lane(out + outStep * 3, pixels, 3);
}

/*
 * Four output pixels, columns x0 + p * xStep of n >= 8 bytes, outputs out0 + p * outC, channels [0, outC) with
 * outC % 4 == 0; only when vectorRequantizable. `mask` is tailMask(n). The columns are transposed once per step
 * for every 4 channels, except a single step (n == 8) once for all channels.
 */
// @ts-ignore: decorator
@inline
export function simdQuad(
  x0: usize, xStep: usize, n: usize, out0: usize, weights: usize, foldedBias: usize, outC: i32, multipliers: usize,
  shifts: usize, mask: v128, offsetV: v128, minV: v128, maxV: v128,
): void {
  const x1 = x0 + xStep;
  const x2 = x1 + xStep;
  const x3 = x2 + xStep;
  const full = n & ~7; // bytes covered by whole steps
  const outStep = <usize>outC;
  if (n == 8) {
    const a0 = v128.load8x8_s(x0);
    const a1 = v128.load8x8_s(x1);
    const a2 = v128.load8x8_s(x2);
    const a3 = v128.load8x8_s(x3);
    // tj = tap pair j of pixels 0..3.
    const l01 = i32x4.shuffle(a0, a1, 0, 4, 1, 5);
    const h01 = i32x4.shuffle(a0, a1, 2, 6, 3, 7);
    const l23 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
    const h23 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
    const t0 = i32x4.shuffle(l01, l23, 0, 1, 4, 5);
    const t1 = i32x4.shuffle(l01, l23, 2, 3, 6, 7);
    const t2 = i32x4.shuffle(h01, h23, 0, 1, 4, 5);
    const t3 = i32x4.shuffle(h01, h23, 2, 3, 6, 7);
    for (let oc = 0; oc < outC; oc += 4) {
      const w = weights + (<usize>oc << 4);
      const at = <usize>oc << 2;
      storeQuad(
        pairDots(v128.load32_splat(foldedBias + at), t0, t1, t2, t3, w),
        pairDots(v128.load32_splat(foldedBias + at, 4), t0, t1, t2, t3, w + 16),
        pairDots(v128.load32_splat(foldedBias + at, 8), t0, t1, t2, t3, w + 32),
        pairDots(v128.load32_splat(foldedBias + at, 12), t0, t1, t2, t3, w + 48),
        oc, out0, outStep, multipliers, shifts, offsetV, minV, maxV);
    }
    return;
  }
  for (let oc = 0; oc < outC; oc += 4) {
    const w0 = weights + ((<usize>oc * n) << 1);
    const w1 = w0 + (n << 1);
    const w2 = w1 + (n << 1);
    const w3 = w2 + (n << 1);
    const at = <usize>oc << 2;
    let acc0 = v128.load32_splat(foldedBias + at);
    let acc1 = v128.load32_splat(foldedBias + at, 4);
    let acc2 = v128.load32_splat(foldedBias + at, 8);
    let acc3 = v128.load32_splat(foldedBias + at, 12);
    for (let i: usize = 0; i < n; i += 8) {
      const step = i < full ? i : n - 8;
      let a0 = v128.load8x8_s(x0 + step);
      let a1 = v128.load8x8_s(x1 + step);
      let a2 = v128.load8x8_s(x2 + step);
      let a3 = v128.load8x8_s(x3 + step);
      if (i >= full) {
        a0 = v128.and(a0, mask);
        a1 = v128.and(a1, mask);
        a2 = v128.and(a2, mask);
        a3 = v128.and(a3, mask);
      }
      const l01 = i32x4.shuffle(a0, a1, 0, 4, 1, 5);
      const h01 = i32x4.shuffle(a0, a1, 2, 6, 3, 7);
      const l23 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
      const h23 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
      const t0 = i32x4.shuffle(l01, l23, 0, 1, 4, 5);
      const t1 = i32x4.shuffle(l01, l23, 2, 3, 6, 7);
      const t2 = i32x4.shuffle(h01, h23, 0, 1, 4, 5);
      const t3 = i32x4.shuffle(h01, h23, 2, 3, 6, 7);
      const wi = step << 1;
      acc0 = pairDots(acc0, t0, t1, t2, t3, w0 + wi);
      acc1 = pairDots(acc1, t0, t1, t2, t3, w1 + wi);
      acc2 = pairDots(acc2, t0, t1, t2, t3, w2 + wi);
      acc3 = pairDots(acc3, t0, t1, t2, t3, w3 + wi);
    }
    storeQuad(acc0, acc1, acc2, acc3, oc, out0, outStep, multipliers, shifts, offsetV, minV, maxV);
  }
}
