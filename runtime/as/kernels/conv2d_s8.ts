/*
 * CONV_2D, int8, any filter size, stride, dilation and padding (TFLite reference_integer_ops::ConvPerChannel); the
 * port of runtime/c/kernels/conv2d_s8.c. NHWC input, OHWI weights, per-output-channel requantization.
 *
 * Exactness: TFLite sums (x + input_offset) * w over the taps inside the image. Equivalently, sum x * w over every
 * tap, with taps outside the image reading the input zero point (-input_offset), plus input_offset * sum w: that
 * last term is folded into `folded_bias` at compile time. So each output is a plain int8 dot product of the
 * weights with the pixel's window, borders included. Integer sums wrap modulo 2^32 like the C ones, so any
 * summation order gives the same accumulator, and the requantization is TFLite's (see requantizePair for the
 * vector form and why it is exact).
 *
 * Scalar build (and K = filter_h * filter_w * in_c < 8): the C kernel's loops. The windows of two output pixels
 * at a time are gathered into `scratch` (2 * K bytes, padded with the zero point; 1x1 filters use the input pixels
 * in place), then multiplied by the weights two channels at a time.
 *
 * SIMD: a GEMM of output pixels by output channels over K. Tiles of 2 pixels x 4 channels keep 8 accumulators of
 * i32x4.dot_i16x8_s partial sums (8 taps per step, both operands sign-extended by i16x8 loads), reduced across lanes
 * once per tile; the requantization is vectorised too (requantizePair). A window is a number of runs of bytes; a
 * run that is not a whole number of steps ends with a step over its last 8 bytes, the lanes already counted masked
 * to zero. Windows inside the image are read in place, one run per row, when their rows are contiguous
 * (dilation_w 1) and that takes no more steps than one run of K bytes (rows of 9 bytes take 2 steps each, for
 * instance); then only the windows that reach the padding are gathered, else all of them are. out_c % 4 channels
 * go 2 pixels x 1 channel.
 */
import { clamp, requantizeConv } from "../fixed_point";

// @ts-ignore: decorator
@inline
function requantize(acc: i32, oc: i32, multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32): i32 {
  const at = <usize>oc << 2;
  return clamp(requantizeConv(acc, load<i32>(multipliers + at), load<i32>(shifts + at)) + outputOffset, actMin, actMax);
}

/* Two output pixels (columns x0, x1 of k bytes), every output channel; the C kernel's loops. */
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

/*
 * Two output pixels, every output channel. Pixel p's window is `rows` runs of `run` >= 8 bytes, the first at xp and
 * the next ones `stride_p` bytes apart; the weights of a channel are the same runs back to back. A run ends with a
 * step over its last 8 bytes when run % 8 != 0, its first 8 - run % 8 lanes masked (already counted).
 */
// @ts-ignore: decorator
@inline
function simdPair(
  x0: usize, stride0: usize, x1: usize, stride1: usize, rows: i32, run: usize, out0: usize, out1: usize,
  weights: usize, foldedBias: usize, outC: i32, multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32,
  actMax: i32, tailMask: v128, offsetV: v128, minV: v128, maxV: v128, vectorRequant: bool,
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
        a = v128.and(v128.load8x8_s(p0 + last), tailMask);
        b = v128.and(v128.load8x8_s(p1 + last), tailMask);
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
        acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.and(v128.load8x8_s(p0 + last), tailMask), w));
        acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(v128.and(v128.load8x8_s(p1 + last), tailMask), w));
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

/* dst[0, n) = value (the zero-point padding of a window). */
// @ts-ignore: decorator
@inline
function fill(dst: usize, value: i32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD && n >= 16) {
    const v = i8x16.splat(<i8>value);
    for (; i + 16 <= n; i += 16) v128.store(dst + i, v);
    if (i < n) v128.store(dst + n - 16, v);
  } else if (n >= 8) {
    const word = <u64>(value & 0xff) * 0x0101010101010101;
    for (; i + 8 <= n; i += 8) store<u64>(dst + i, word);
    if (i < n) store<u64>(dst + n - 8, word);
  } else {
    for (; i < n; ++i) store<i8>(dst + i, <i8>value);
  }
}

/* dst[0, n) = src[0, n) (a run of taps; the two never overlap). The last word overlaps the previous one. */
// @ts-ignore: decorator
@inline
function copy(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD && n >= 16) {
    for (; i + 16 <= n; i += 16) v128.store(dst + i, v128.load(src + i));
    if (i < n) v128.store(dst + n - 16, v128.load(src + n - 16));
  } else if (n >= 8) {
    for (; i + 8 <= n; i += 8) store<u64>(dst + i, load<u64>(src + i));
    if (i < n) store<u64>(dst + n - 8, load<u64>(src + n - 8));
  } else if (n >= 4) {
    store<u32>(dst, load<u32>(src));
    store<u32>(dst + n - 4, load<u32>(src + n - 4));
  } else {
    for (; i < n; ++i) store<i8>(dst + i, load<i8>(src + i));
  }
}

/* rows runs of n bytes, srcStep apart, copied back to back to dst. */
function copyRows(dst: usize, src: usize, srcStep: usize, rows: i32, n: i32): void {
  for (let r = 0; r < rows; ++r, src += srcStep, dst += <usize>n) copy(dst, src, n);
}

/* The window at (originY, originX) (its top left tap), gathered into col in OHWI tap order: filter_h * filter_w *
 * in_c bytes, the taps outside the image set to the zero point. */
function gather(
  image: usize, originY: i32, originX: i32, col: usize, inH: i32, inW: i32, inC: i32, filterH: i32, filterW: i32,
  dilationH: i32, dilationW: i32, padValue: i32,
): usize {
  // Taps [kx0, kx1) of a row fall inside the image (origin_x < in_w always holds for TFLite's padding).
  let kx0 = 0;
  let kx1 = inW - originX;
  if (dilationW == 1) {
    if (originX < 0) kx0 = -originX;
  } else {
    if (originX < 0) kx0 = (dilationW - 1 - originX) / dilationW;
    kx1 = (inW - 1 - originX) / dilationW + 1;
  }
  if (kx1 > filterW) kx1 = filterW;
  if (kx0 > kx1) kx0 = kx1; // a dilated window can miss the image entirely
  const rowBytes = filterW * inC;
  const left = kx0 * inC;
  const right = kx1 * inC;
  let dst = col;
  let src = image + <usize>((originY * inW + originX + kx0 * dilationW) * inC);
  const srcStep = <usize>(dilationH * inW * inC);
  for (let ky = 0, iy = originY; ky < filterH; ++ky, iy += dilationH, dst += <usize>rowBytes, src += srcStep) {
    if (iy < 0 || iy >= inH || kx0 == kx1) {
      fill(dst, padValue, rowBytes);
      continue;
    }
    if (left > 0) fill(dst, padValue, left);
    if (dilationW == 1) {
      copy(dst + <usize>left, src, right - left);
    } else {
      let from = src;
      for (let kx = kx0; kx < kx1; ++kx, from += <usize>(dilationW * inC)) copy(dst + <usize>(kx * inC), from, inC);
    }
    if (right < rowBytes) fill(dst + <usize>right, padValue, rowBytes - right);
  }
  return col;
}

/* The C kernel's column of output pixel (oy, ox): 1x1 filters use the input pixel in place (they never reach the
 * padding), other windows are gathered into col. */
// @ts-ignore: decorator
@inline
function column(
  image: usize, oy: i32, ox: i32, col: usize, inH: i32, inW: i32, inC: i32, filterH: i32, filterW: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, padTop: i32, padLeft: i32, padValue: i32,
): usize {
  if (filterH == 1 && filterW == 1) return image + <usize>((oy * strideH * inW + ox * strideW) * inC);
  return gather(image, oy * strideH - padTop, ox * strideW - padLeft, col, inH, inW, inC, filterH, filterW, dilationH,
    dilationW, padValue);
}

/* The SIMD kernel's window of the pixel whose window starts at (y, x): in place when `inPlace` allows it and it is
 * inside the image, else in col (copied row by row when inside the image, else gathered with its padding). */
// @ts-ignore: decorator
@inline
function window(
  image: usize, y: i32, x: i32, col: usize, inH: i32, inW: i32, inC: i32, filterH: i32, filterW: i32,
  dilationH: i32, dilationW: i32, padValue: i32, inPlace: bool,
): usize {
  const lastY = y + (filterH - 1) * dilationH;
  const lastX = x + (filterW - 1) * dilationW;
  if (y >= 0 && x >= 0 && lastY < inH && lastX < inW) {
    const at = image + <usize>((y * inW + x) * inC);
    if (inPlace) return at;
    if (dilationW == 1) {
      copyRows(col, at, <usize>(dilationH * inW * inC), filterH, filterW * inC);
      return col;
    }
  }
  return gather(image, y, x, col, inH, inW, inC, filterH, filterW, dilationH, dilationW, padValue);
}

function simdConv(
  input: usize, weights: usize, foldedBias: usize, output: usize, scratch: usize,
  batches: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  filterH: i32, filterW: i32, strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
  padTop: i32, padLeft: i32, padValue: i32,
  multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32,
): void {
  const k = filterH * filterW * inC;
  const rowBytes = filterW * inC;
  // Windows inside the image are read in place, row by row, when their rows are contiguous and take no more steps
  // than the gathered window; the others are gathered (in the same layout: rows back to back).
  const inPlace = dilationW == 1 && rowBytes >= 8 && filterH * ((rowBytes + 7) >> 3) <= (k + 7) >> 3;
  const rows = inPlace ? filterH : 1;
  const run = <usize>(inPlace ? rowBytes : k);
  const imageStride = <usize>(dilationH * inW * inC); // between the rows of a window read in place
  // 1x1 windows start at the pixel itself, as in the C kernel.
  const top = filterH == 1 && filterW == 1 ? 0 : padTop;
  const leftPad = filterH == 1 && filterW == 1 ? 0 : padLeft;
  // The tail step's i16 lanes >= 8 - run % 8 are the taps not summed yet.
  const tailMask = i16x8.gt_s(v128(0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0), i16x8.splat(<i16>(7 - (run & 7))));
  const offsetV = i16x8.splat(<i16>outputOffset);
  const minV = i8x16.splat(<i8>actMin);
  const maxV = i8x16.splat(<i8>actMax);
  const vectorRequant = vectorRequantizable(multipliers, shifts, outC, outputOffset, actMin, actMax);
  const col0 = scratch;
  const col1 = scratch + <usize>k;
  let out = output;
  for (let b = 0; b < batches; ++b) {
    const image = input + <usize>(b * inH * inW) * <usize>inC;
    // Output pixels in order, two at a time (a pair may straddle two rows; an odd last one is paired with itself).
    let oy = 0;
    let ox = 0;
    for (let left = outH * outW; left > 0; left -= 2) {
      const x0 = window(image, oy * strideH - top, ox * strideW - leftPad, col0, inH, inW, inC, filterH, filterW,
        dilationH, dilationW, padValue, inPlace);
      if (++ox == outW) {
        ox = 0;
        ++oy;
      }
      let x1 = x0;
      let out1 = out;
      if (left > 1) {
        x1 = window(image, oy * strideH - top, ox * strideW - leftPad, col1, inH, inW, inC, filterH, filterW,
          dilationH, dilationW, padValue, inPlace);
        if (++ox == outW) {
          ox = 0;
          ++oy;
        }
        out1 = out + <usize>outC;
      }
      // Gathered windows have their rows back to back.
      simdPair(x0, x0 == col0 ? run : imageStride, x1, x1 == col1 || x1 == col0 ? run : imageStride, rows, run, out,
        out1, weights, foldedBias, outC, multipliers, shifts, outputOffset, actMin, actMax, tailMask, offsetV, minV,
        maxV, vectorRequant);
      out = out1 + <usize>outC;
    }
  }
}

export function conv2d_s8(
  input: usize, weights: usize, folded_bias: usize, output: usize, scratch: usize,
  batches: i32, in_h: i32, in_w: i32, in_c: i32, out_h: i32, out_w: i32, out_c: i32,
  filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32, dilation_h: i32, dilation_w: i32,
  pad_top: i32, pad_left: i32, input_zero_point: i32,
  multipliers: usize, shifts: usize, output_offset: i32, act_min: i32, act_max: i32,
): void {
  const k = filter_h * filter_w * in_c;
  if (ASC_FEATURE_SIMD && k >= 8) {
    simdConv(input, weights, folded_bias, output, scratch, batches, in_h, in_w, in_c, out_h, out_w, out_c, filter_h,
      filter_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, input_zero_point, multipliers, shifts,
      output_offset, act_min, act_max);
    return;
  }
  const col0 = scratch;
  const col1 = scratch + <usize>k;
  let out = output;
  for (let b = 0; b < batches; ++b) {
    const image = input + <usize>(b * in_h * in_w) * <usize>in_c;
    // Output pixels in order, two at a time (a pair may straddle two rows; an odd last one is paired with itself).
    let oy = 0;
    let ox = 0;
    for (let left = out_h * out_w; left > 0; left -= 2) {
      const x0 = column(image, oy, ox, col0, in_h, in_w, in_c, filter_h, filter_w, stride_h, stride_w, dilation_h,
        dilation_w, pad_top, pad_left, input_zero_point);
      if (++ox == out_w) {
        ox = 0;
        ++oy;
      }
      let x1 = x0;
      let out1 = out;
      if (left > 1) {
        x1 = column(image, oy, ox, col1, in_h, in_w, in_c, filter_h, filter_w, stride_h, stride_w, dilation_h,
          dilation_w, pad_top, pad_left, input_zero_point);
        if (++ox == out_w) {
          ox = 0;
          ++oy;
        }
        out1 = out + <usize>out_c;
      }
      scalarPair(x0, x1, out, out1, weights, folded_bias, k, out_c, multipliers, shifts, output_offset, act_min, act_max);
      out = out1 + <usize>out_c;
    }
  }
}
