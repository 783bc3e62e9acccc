/*
 * DEPTHWISE_CONV_2D, int8 (TFLite reference_integer_ops::DepthwiseConvPerChannel). NHWC input, 1HWC weights
 * (output channel c = input channel * depth_multiplier + m), per-channel requantization with TFLM's double rounding.
 * Port of runtime/c/kernels/depthwise_conv2d_s8.c.
 *
 * Exactness: TFLite sums (x + input_offset) * w over the taps inside the image. That is
 * folded_bias + sum x * w over the taps inside + sum (-input_offset) * w over the taps outside, since folded_bias is
 * bias + input_offset * sum w over every tap: a tap outside the image contributes as if it read the input zero point.
 * The scalar path does as the C kernel (folded bias for interior pixels, bias and offset over the inside taps for
 * border pixels); the SIMD path reads outside taps as the zero point, so every pixel starts from the folded bias.
 * Both equal TFLite's sum modulo 2^32, hence exactly.
 *
 * SIMD (depth multiplier 1): eight channels per block, blocks outermost so that a block's weights and requantization
 * constants stay in locals across every pixel. Taps go two at a time: interleaving two taps' sign-extended inputs
 * and weights lets i32x4.dot_i16x8_s do two multiply-adds per lane. 3x3 filters have the weights interleaved once
 * per block and take interior pixels two at a time (sharing loads when stride = dilation); border pixels read the
 * zero point for the taps outside. Requantization is vectorised, provably equal to multiplyByQuantizedMultiplier
 * (see requantize4); when the bias bounds the accumulators (every model seen), the 3x3 path accumulates them doubled
 * and drops rounding terms (see requantizeBounded). Channels past the last block of eight, and depth multipliers
 * above 1, use the scalar path.
 */
import { clamp, requantizeDepthwise, requantizeFloat32x4 } from '../fixed_point';

// @ts-ignore: decorator
@inline
function requantize(acc: i32, c: i32, multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32,
                    actMax: i32): i8 {
  const at = (<usize>c) << 2;
  const q = requantizeDepthwise(acc, load<i32>(multipliers + at), load<i32>(shifts + at));
  return <i8>clamp(q + outputOffset, actMin, actMax);
}

/* First tap, of a window of taps `dilation` apart from `origin`, at or after 0 (at most `end`). */
// @ts-ignore: decorator
@inline
function tapStart(origin: i32, dilation: i32, end: i32): i32 {
  const s = origin < 0 ? (dilation - 1 - origin) / dilation : 0;
  return s > end ? end : s; // a dilated window can miss the image entirely
}

/* One past the last tap, of a window of `size` taps, before `extent` (origin < extent always holds). */
// @ts-ignore: decorator
@inline
function tapEnd(origin: i32, extent: i32, size: i32, dilation: i32): i32 {
  const e = (extent - 1 - origin) / dilation + 1;
  return e > size ? size : e;
}

/*
 * One output pixel, output channels from c0 (c0 > 0 only with depth multiplier 1): out[c] = requant(start[c] +
 * sum (x + offset) * w) over a window of rows x cols taps whose first tap reads input `x` and weights `w` (channel 0).
 */
function pixelScalar(x: usize, w: usize, rows: i32, cols: i32, start: usize, offset: i32, out: usize, c0: i32,
                     inC: i32, depthMultiplier: i32, filterW: i32, xTapStep: i32, xRowStep: i32,
                     multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32): void {
  const outC = inC * depthMultiplier;
  const wRowStep = filterW * outC;
  if (depthMultiplier == 1) {
    let c = c0;
    for (; c + 3 < inC; c += 4) {
      const s = start + ((<usize>c) << 2);
      let acc0 = load<i32>(s), acc1 = load<i32>(s, 4), acc2 = load<i32>(s, 8), acc3 = load<i32>(s, 12);
      let xr = x + c;
      let wr = w + c;
      for (let r = 0; r < rows; ++r) {
        let xk = xr;
        let wk = wr;
        for (let k = 0; k < cols; ++k) {
          acc0 += (<i32>load<i8>(xk) + offset) * <i32>load<i8>(wk);
          acc1 += (<i32>load<i8>(xk, 1) + offset) * <i32>load<i8>(wk, 1);
          acc2 += (<i32>load<i8>(xk, 2) + offset) * <i32>load<i8>(wk, 2);
          acc3 += (<i32>load<i8>(xk, 3) + offset) * <i32>load<i8>(wk, 3);
          xk += xTapStep;
          wk += outC;
        }
        xr += xRowStep;
        wr += wRowStep;
      }
      store<i8>(out + c, requantize(acc0, c, multipliers, shifts, outputOffset, actMin, actMax));
      store<i8>(out + c, requantize(acc1, c + 1, multipliers, shifts, outputOffset, actMin, actMax), 1);
      store<i8>(out + c, requantize(acc2, c + 2, multipliers, shifts, outputOffset, actMin, actMax), 2);
      store<i8>(out + c, requantize(acc3, c + 3, multipliers, shifts, outputOffset, actMin, actMax), 3);
    }
    for (; c < inC; ++c) {
      let acc = load<i32>(start + ((<usize>c) << 2));
      let xr = x + c;
      let wr = w + c;
      for (let r = 0; r < rows; ++r) {
        for (let k = 0; k < cols; ++k) {
          acc += (<i32>load<i8>(xr + k * xTapStep) + offset) * <i32>load<i8>(wr + k * outC);
        }
        xr += xRowStep;
        wr += wRowStep;
      }
      store<i8>(out + c, requantize(acc, c, multipliers, shifts, outputOffset, actMin, actMax));
    }
    return;
  }
  for (let ic = 0; ic < inC; ++ic) {
    for (let m = 0; m < depthMultiplier; ++m) {
      const c = ic * depthMultiplier + m;
      let acc = load<i32>(start + ((<usize>c) << 2));
      let xr = x + ic;
      let wr = w + c;
      for (let r = 0; r < rows; ++r) {
        for (let k = 0; k < cols; ++k) {
          acc += (<i32>load<i8>(xr + k * xTapStep) + offset) * <i32>load<i8>(wr + k * outC);
        }
        xr += xRowStep;
        wr += wRowStep;
      }
      store<i8>(out + c, requantize(acc, c, multipliers, shifts, outputOffset, actMin, actMax));
    }
  }
}

/*
 * A 3x3 interior pixel, depth multiplier 1, channels from c0, from the folded bias; `x` is the input under tap (0, 0).
 * The three taps of a filter row are unrolled; the rows are a loop.
 */
function pixel3x3Interior(x: usize, weights: usize, foldedBias: usize, out: usize, c0: i32, inC: i32, tx: i32, ty: i32,
                          multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32): void {
  let c = c0;
  for (; c + 3 < inC; c += 4) {
    const s = foldedBias + ((<usize>c) << 2);
    let acc0 = load<i32>(s), acc1 = load<i32>(s, 4), acc2 = load<i32>(s, 8), acc3 = load<i32>(s, 12);
    let xr = x + c;
    let wr = weights + c;
    for (let ky = 0; ky < 3; ++ky) {
      for (let kx = 0; kx < 3; ++kx) {
        const xt = xr + kx * tx;
        const wt = wr + kx * inC;
        acc0 += <i32>load<i8>(xt) * <i32>load<i8>(wt);
        acc1 += <i32>load<i8>(xt, 1) * <i32>load<i8>(wt, 1);
        acc2 += <i32>load<i8>(xt, 2) * <i32>load<i8>(wt, 2);
        acc3 += <i32>load<i8>(xt, 3) * <i32>load<i8>(wt, 3);
      }
      xr += ty;
      wr += 3 * inC;
    }
    store<i8>(out + c, requantize(acc0, c, multipliers, shifts, outputOffset, actMin, actMax));
    store<i8>(out + c, requantize(acc1, c + 1, multipliers, shifts, outputOffset, actMin, actMax), 1);
    store<i8>(out + c, requantize(acc2, c + 2, multipliers, shifts, outputOffset, actMin, actMax), 2);
    store<i8>(out + c, requantize(acc3, c + 3, multipliers, shifts, outputOffset, actMin, actMax), 3);
  }
  for (; c < inC; ++c) {
    let acc = load<i32>(foldedBias + ((<usize>c) << 2));
    let xr = x + c;
    let wr = weights + c;
    for (let ky = 0; ky < 3; ++ky) {
      acc += <i32>load<i8>(xr) * <i32>load<i8>(wr) + <i32>load<i8>(xr + tx) * <i32>load<i8>(wr + inC)
        + <i32>load<i8>(xr + 2 * tx) * <i32>load<i8>(wr + 2 * inC);
      xr += ty;
      wr += 3 * inC;
    }
    store<i8>(out + c, requantize(acc, c, multipliers, shifts, outputOffset, actMin, actMax));
  }
}

/* The C kernel's loop over pixels, for output channels from c0 (every channel, or the SIMD path's tail). */
function depthwiseScalar(input: usize, weights: usize, bias: usize, foldedBias: usize, output: usize,
                         batches: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, depthMultiplier: i32,
                         filterH: i32, filterW: i32, strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
                         padTop: i32, padLeft: i32, inputOffset: i32, multipliers: usize, shifts: usize,
                         outputOffset: i32, actMin: i32, actMax: i32, c0: i32): void {
  const outC = inC * depthMultiplier;
  const xTapStep = dilationW * inC;
  const xRowStep = dilationH * inW * inC;
  const rowBytes = inW * inC;
  const lastInteriorX = inW - 1 - (filterW - 1) * dilationW;
  const unrolled3x3 = filterH == 3 && filterW == 3 && depthMultiplier == 1;
  let out = output;
  for (let b = 0; b < batches; ++b) {
    const image = input + b * inH * rowBytes;
    for (let oy = 0; oy < outH; ++oy) {
      const originY = oy * strideH - padTop;
      const ky1 = tapEnd(originY, inH, filterH, dilationH);
      const ky0 = tapStart(originY, dilationH, ky1);
      const rowInterior = ky0 == 0 && ky1 == filterH;
      for (let ox = 0; ox < outW; ++ox, out += outC) {
        const originX = ox * strideW - padLeft;
        if (rowInterior && originX >= 0 && originX <= lastInteriorX) {
          const x = image + originY * rowBytes + originX * inC;
          if (unrolled3x3) {
            pixel3x3Interior(x, weights, foldedBias, out, c0, inC, xTapStep, xRowStep, multipliers, shifts,
              outputOffset, actMin, actMax);
          } else {
            pixelScalar(x, weights, filterH, filterW, foldedBias, 0, out, c0, inC, depthMultiplier, filterW,
              xTapStep, xRowStep, multipliers, shifts, outputOffset, actMin, actMax);
          }
          continue;
        }
        const kx1 = tapEnd(originX, inW, filterW, dilationW);
        const kx0 = tapStart(originX, dilationW, kx1);
        // Only taps inside the image, from the raw bias; with none, the bias alone.
        const rows = ky1 - ky0;
        const cols = kx1 - kx0;
        const inside = rows > 0 && cols > 0;
        const x = inside ? image + (originY + ky0 * dilationH) * rowBytes + (originX + kx0 * dilationW) * inC : image;
        const w = inside ? weights + (ky0 * filterW + kx0) * outC : weights;
        pixelScalar(x, w, inside ? rows : 0, inside ? cols : 0, bias, inputOffset, out, c0, inC, depthMultiplier, filterW,
          xTapStep, xRowStep, multipliers, shifts, outputOffset, actMin, actMax);
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function leftPow(shift: i32): i32 {
  return 1 << (shift > 0 ? shift : 0);
}

/* 2^(32 - e) as a u32, for the right shift e = -shift >= 1; lanes with e = 0 take 2^31 and are replaced later. */
// @ts-ignore: decorator
@inline
function rightPow(shift: i32): i32 {
  return shift < 0 ? 1 << (32 + shift) : 1 << 31;
}

// @ts-ignore: decorator
@inline
function leftPows(s: usize): v128 {
  let v = i32x4.splat(leftPow(load<i32>(s)));
  v = i32x4.replace_lane(v, 1, leftPow(load<i32>(s, 4)));
  v = i32x4.replace_lane(v, 2, leftPow(load<i32>(s, 8)));
  return i32x4.replace_lane(v, 3, leftPow(load<i32>(s, 12)));
}

// @ts-ignore: decorator
@inline
function rightPows(s: usize): v128 {
  let v = i32x4.splat(rightPow(load<i32>(s)));
  v = i32x4.replace_lane(v, 1, rightPow(load<i32>(s, 4)));
  v = i32x4.replace_lane(v, 2, rightPow(load<i32>(s, 8)));
  return i32x4.replace_lane(v, 3, rightPow(load<i32>(s, 12)));
}

/* 2^k (2^31 as a u32) for 0 <= k <= 31: the float 2^k, whose exponent field is k + 127, converted. */
// @ts-ignore: decorator
@inline
function pow2(k: v128): v128 {
  return i32x4.trunc_sat_f32x4_u(i32x4.shl(i32x4.add(k, i32x4.splat(127)), 23));
}

/* rightPows from shifts s >= -31 (quantizeMultiplier's range). */
// @ts-ignore: decorator
@inline
function rightPowsOf(s: v128): v128 {
  return pow2(i32x4.min_s(i32x4.add(s, i32x4.splat(32)), i32x4.splat(31)));
}

/* 2^31 + 2^(e-1) for the right shift e = -shift >= 1 (e = 1 for other shifts, as in rightPow), shifts >= -31. */
// @ts-ignore: decorator
@inline
function roundingOffsets(s: v128): v128 {
  return i32x4.add(i32x4.splat(i32.MIN_VALUE), pow2(i32x4.max_s(i32x4.sub(i32x4.splat(-1), s), i32x4.splat(0))));
}

// @ts-ignore: decorator
@inline
function doubled(w: v128): v128 {
  return i16x8.add(w, w);
}

/*
 * multiplyByQuantizedMultiplier(acc, m, shift) + output_offset on four lanes, with rp = rightPows(shifts),
 * offsetR = output_offset - rp / 2, lp = leftPows(shifts), minMask = (m == INT32_MIN) and eZero = (right shift 0).
 * - The left shift wraps as a multiplication by lp does.
 * - saturatingRoundingDoublingHighMul: for ab >= 0, (ab + 2^30) / 2^31 truncated is floor((ab + 2^30) / 2^31); for
 *   ab < 0, trunc((ab + 1 - 2^30) / 2^31) = floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31), the same expression: the high
 *   32 bits of 2ab + 2^31, which cannot overflow except for a = m = INT32_MIN. That case wraps to INT32_MIN, which
 *   the xor with the mask turns into INT32_MAX. Otherwise |ab| <= 2^31 (2^31 - 1), so y > INT32_MIN.
 * - roundingDivideByPot(y, e) for 1 <= e <= 31 (quantizeMultiplier's shifts are >= -31) is floor((y + b) / 2^e)
 *   for any b in [2^(e-1), 2^(e-1) + 1) when y >= 0 and in [2^(e-1) - 1, 2^(e-1)) when y < 0: b = 2^(e-1) - [y < 0]
 *   qualifies. With u = y + 2^31 - [y < 0], a u32 since y > INT32_MIN, the high 32 bits of u * 2^(32-e) + 2^31 are
 *   floor((u + 2^(e-1)) / 2^e) = floor((y + b) / 2^e) + 2^(31-e), which offsetR takes back off. For e = 0 the
 *   result is y itself.
 */
// @ts-ignore: decorator
@inline
function requantize4(acc: v128, m: v128, rp: v128, offsetR: v128, lp: v128, minMask: v128, eZero: v128,
                     offset: v128): v128 {
  if (TF_FLOAT32_REQUANT) return i32x4.add(requantizeFloat32x4(acc, m), offset);
  const twoTo31 = i64x2.splat(<i64>1 << 31);
  const minValue = i32x4.splat(i32.MIN_VALUE);
  const a = i32x4.mul(acc, lp);
  const abLo = i64x2.extmul_low_i32x4_s(a, m);
  const abHi = i64x2.extmul_high_i32x4_s(a, m);
  let y = i32x4.shuffle(i64x2.add(i64x2.add(abLo, abLo), twoTo31), i64x2.add(i64x2.add(abHi, abHi), twoTo31), 1, 3, 5, 7);
  y = v128.xor(y, v128.and(i32x4.eq(a, minValue), minMask));
  const u = i32x4.add(v128.xor(y, minValue), i32x4.shr_s(y, 31));
  const qLo = i64x2.add(i64x2.extmul_low_i32x4_u(u, rp), twoTo31);
  const qHi = i64x2.add(i64x2.extmul_high_i32x4_u(u, rp), twoTo31);
  const q = i32x4.add(i32x4.shuffle(qLo, qHi, 1, 3, 5, 7), offsetR);
  return v128.bitselect(i32x4.add(y, offset), q, eZero);
}

/*
 * requantize4 for blocks with neither left shifts, m = INT32_MIN nor right shifts of 0 (except in lanes with m = 0,
 * which give y = 0 and then output_offset for any e >= 1), given acc2 = 2 * acc with |acc| < 2^29 and
 * ck = roundingOffsets(shifts). Then |2 acc m| < 2^61, so y is within [-2^29, 2^29], and u + 2^(e-1) =
 * y + ck - [y < 0] is in (0, 2^32): its product with 2^(32-e) needs no rounding term, as requantize4's
 * u * 2^(32-e) + 2^31 = (u + 2^(e-1)) * 2^(32-e). Under the 'float32' rounding m holds the float32 multipliers
 * halved and offsetR the output offset: fl(fl(2 acc) * m / 2) = fl(fl(acc) * m), as scaling by 2 is exact.
 */
// @ts-ignore: decorator
@inline
function requantizeBounded(acc2: v128, m: v128, rp: v128, ck: v128, offsetR: v128): v128 {
  if (TF_FLOAT32_REQUANT) return i32x4.add(requantizeFloat32x4(acc2, m), offsetR);
  const twoTo31 = i64x2.splat(<i64>1 << 31);
  const y = i32x4.shuffle(i64x2.add(i64x2.extmul_low_i32x4_s(acc2, m), twoTo31),
    i64x2.add(i64x2.extmul_high_i32x4_s(acc2, m), twoTo31), 1, 3, 5, 7);
  const u = i32x4.add(i32x4.add(y, ck), i32x4.shr_s(y, 31));
  return i32x4.add(i32x4.shuffle(i64x2.extmul_low_i32x4_u(u, rp), i64x2.extmul_high_i32x4_u(u, rp), 1, 3, 5, 7),
    offsetR);
}

/* Stores eight lanes as int8, clamped to [act_min, act_max] (lo8/hi8 splatted as int8) if `clamps`: the saturating
 * narrows clamp to the int8 range, which contains [act_min, act_max], so clamping after them is the same. */
// @ts-ignore: decorator
@inline
function store8(out: usize, r0: v128, r1: v128, clamps: bool, lo8: v128, hi8: v128): void {
  const n = i16x8.narrow_i32x4_s(r0, r1);
  let v = i8x16.narrow_i16x8_s(n, n);
  if (clamps) v = i8x16.min_s(i8x16.max_s(v, lo8), hi8);
  v128.store64_lane(out, v, 0);
}

/* store8 for two pixels' eight lanes each (a0, a1 to `out`, b0, b1 to `out + next`), narrowed together. */
// @ts-ignore: decorator
@inline
function store8x2(out: usize, next: usize, a0: v128, a1: v128, b0: v128, b1: v128, clamps: bool, lo8: v128,
                  hi8: v128): void {
  let v = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a0, a1), i16x8.narrow_i32x4_s(b0, b1));
  if (clamps) v = i8x16.min_s(i8x16.max_s(v, lo8), hi8);
  v128.store64_lane(out, v, 0);
  v128.store64_lane(out + next, v, 1);
}

// @ts-ignore: decorator
@inline
function tap(p: usize, inside: bool, zeroPoint: v128): v128 {
  return inside ? v128.load8x8_s(p) : zeroPoint;
}

/* Lanes 0-3 of the two taps' products, summed: a and b are two taps' inputs, w their weights interleaved. */
// @ts-ignore: decorator
@inline
function dot2Lo(a: v128, b: v128, w: v128): v128 {
  return i32x4.dot_i16x8_s(i16x8.shuffle(a, b, 0, 8, 1, 9, 2, 10, 3, 11), w);
}

/* Lanes 4-7, likewise. */
// @ts-ignore: decorator
@inline
function dot2Hi(a: v128, b: v128, w: v128): v128 {
  return i32x4.dot_i16x8_s(i16x8.shuffle(a, b, 4, 12, 5, 13, 6, 14, 7, 15), w);
}

/*
 * Channels [c, c + 8), depth multiplier 1, every pixel. 3x3 filters (without the general requantization) have the
 * nine taps' weights interleaved in pairs once (tap 8 with zeros) and unchecked paths for interior pixels; other
 * filters go tap by tap.
 */
function depthwiseBlock8(input: usize, weights: usize, bias: usize, foldedBias: usize, output: usize,
                         batches: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
                         filterH: i32, filterW: i32, strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
                         padTop: i32, padLeft: i32, inputOffset: i32, multipliers: usize, shifts: usize,
                         outputOffset: i32, actMin: i32, actMax: i32, c: i32): void {
  const at = (<usize>c) << 2;
  const foldedBias0 = v128.load(foldedBias + at);
  const foldedBias1 = v128.load(foldedBias + at, 16);
  const m0 = v128.load(multipliers + at);
  const m1 = v128.load(multipliers + at, 16);
  const s0 = v128.load(shifts + at);
  const s1 = v128.load(shifts + at, 16);
  const zero = i32x4.splat(0);
  const minValue = i32x4.splat(i32.MIN_VALUE);
  // A zero multiplier gives 0 whatever the shifts: such lanes never need the general path.
  const live0 = v128.not(i32x4.eq(m0, zero));
  const live1 = v128.not(i32x4.eq(m1, zero));
  const minMask0 = i32x4.eq(m0, minValue);
  const minMask1 = i32x4.eq(m1, minValue);
  const eZero0 = v128.and(i32x4.ge_s(s0, zero), live0);
  const eZero1 = v128.and(i32x4.ge_s(s1, zero), live1);
  // The 'float32' rounding has no shifts: any block takes the fast paths.
  const general = !TF_FLOAT32_REQUANT && v128.any_true(v128.or(v128.or(minMask0, minMask1), v128.or(eZero0, eZero1)));
  const offset = i32x4.splat(outputOffset);
  const lo8 = i8x16.splat(<i8>actMin);
  const hi8 = i8x16.splat(<i8>actMax);
  const clamps = actMin > -128 || actMax < 127;
  const zeroPoint = i16x8.splat(<i16>-inputOffset);

  const rowBytes = inW * inC;
  const tx = dilationW * inC;
  const ty = dilationH * rowBytes;
  const xStep = strideW * inC;
  let out = output + c;
  // Bottom-tested loops below: TurboFan hoists loop-invariant values (the interleaved weights, the interior bounds)
  // only out of loop bodies that dominate the loop's exit.
  if (batches <= 0 || outH <= 0 || outW <= 0) return;

  // |bias| + 9 * 255 * 128 < 2^29 bounds |acc| (TFLite's, before wrapping) below 2^29: see requantizeBounded.
  const biasLimit = i32x4.splat((1 << 29) - 9 * 255 * 128);
  const rawBias0 = v128.load(bias + at);
  const rawBias1 = v128.load(bias + at, 16);
  const bounded = i32x4.all_true(v128.and(
    v128.and(i32x4.lt_s(rawBias0, biasLimit), i32x4.gt_s(rawBias0, i32x4.neg(biasLimit))),
    v128.and(i32x4.lt_s(rawBias1, biasLimit), i32x4.gt_s(rawBias1, i32x4.neg(biasLimit)))));
  const minShift = i32x4.splat(-31);
  const shiftsInRange = i32x4.all_true(v128.and(i32x4.ge_s(s0, minShift), i32x4.ge_s(s1, minShift)));
  if (filterH == 3 && filterW == 3 && !general && bounded && shiftsInRange) {
    // Accumulate 2 * acc (doubled weights, |2w| <= 256 fits i16): it fits i32 by the bound above.
    const bias0 = i32x4.add(foldedBias0, foldedBias0);
    const bias1 = i32x4.add(foldedBias1, foldedBias1);
    const rp0 = rightPowsOf(s0);
    const rp1 = rightPowsOf(s1);
    const offsetR0 = TF_FLOAT32_REQUANT ? offset : i32x4.sub(offset, i32x4.shr_u(rp0, 1));
    const offsetR1 = TF_FLOAT32_REQUANT ? offset : i32x4.sub(offset, i32x4.shr_u(rp1, 1));
    const half = f32x4.splat(0.5);
    const mb0 = TF_FLOAT32_REQUANT ? f32x4.mul(m0, half) : m0;
    const mb1 = TF_FLOAT32_REQUANT ? f32x4.mul(m1, half) : m1;
    const ck0 = roundingOffsets(s0);
    const ck1 = roundingOffsets(s1);
    const wp = weights + c;
    const w0 = doubled(v128.load8x8_s(wp));
    const w1 = doubled(v128.load8x8_s(wp + inC));
    const w2 = doubled(v128.load8x8_s(wp + 2 * inC));
    const w3 = doubled(v128.load8x8_s(wp + 3 * inC));
    const w4 = doubled(v128.load8x8_s(wp + 4 * inC));
    const w5 = doubled(v128.load8x8_s(wp + 5 * inC));
    const w6 = doubled(v128.load8x8_s(wp + 6 * inC));
    const w7 = doubled(v128.load8x8_s(wp + 7 * inC));
    const w8 = doubled(v128.load8x8_s(wp + 8 * inC));
    const w01a = i16x8.shuffle(w0, w1, 0, 8, 1, 9, 2, 10, 3, 11);
    const w01b = i16x8.shuffle(w0, w1, 4, 12, 5, 13, 6, 14, 7, 15);
    const w23a = i16x8.shuffle(w2, w3, 0, 8, 1, 9, 2, 10, 3, 11);
    const w23b = i16x8.shuffle(w2, w3, 4, 12, 5, 13, 6, 14, 7, 15);
    const w45a = i16x8.shuffle(w4, w5, 0, 8, 1, 9, 2, 10, 3, 11);
    const w45b = i16x8.shuffle(w4, w5, 4, 12, 5, 13, 6, 14, 7, 15);
    const w67a = i16x8.shuffle(w6, w7, 0, 8, 1, 9, 2, 10, 3, 11);
    const w67b = i16x8.shuffle(w6, w7, 4, 12, 5, 13, 6, 14, 7, 15);
    const w8a = i16x8.shuffle(w8, zero, 0, 8, 1, 9, 2, 10, 3, 11);
    const w8b = i16x8.shuffle(w8, zero, 4, 12, 5, 13, 6, 14, 7, 15);
    const tx2 = 2 * tx;
    const ty2 = 2 * ty;
    // Interior columns: ox in [oxA, oxB), where the window's three columns are inside the image.
    const oxA = (padLeft + strideW - 1) / strideW;
    const lastX = inW - 1 - 2 * dilationW + padLeft;
    let oxB = lastX >= 0 ? lastX / strideW + 1 : 0;
    if (oxB > outW) oxB = outW;
    let b = 0;
    do {
      const image = input + c + b * inH * rowBytes;
      let oy = 0;
      do {
        const y0 = oy * strideH - padTop;
        const in0 = <u32>y0 < <u32>inH;
        const in1 = <u32>(y0 + dilationH) < <u32>inH;
        const in2 = <u32>(y0 + 2 * dilationH) < <u32>inH;
        const end = in0 && in2 ? oxB : 0;
        let p0 = image + y0 * rowBytes - padLeft * inC;
        let ox = 0;
        do {
          const p1 = p0 + ty;
          const p2 = p0 + ty2;
          if (ox >= oxA && ox + 1 < end) {
            // Two interior pixels: the second one's window is xStep further.
            let a0: v128, a1: v128, b0: v128, b1: v128;
            if (xStep == tx) {
              // Stride = dilation: the second window's first two columns are the first one's last two.
              let u0 = v128.load8x8_s(p0);
              let u1 = v128.load8x8_s(p0 + tx);
              let u2 = v128.load8x8_s(p0 + tx2);
              let u3 = v128.load8x8_s(p0 + tx2 + tx);
              const v0 = v128.load8x8_s(p1);
              a0 = i32x4.add(bias0, dot2Lo(u0, u1, w01a));
              a1 = i32x4.add(bias1, dot2Hi(u0, u1, w01b));
              b0 = i32x4.add(bias0, dot2Lo(u1, u2, w01a));
              b1 = i32x4.add(bias1, dot2Hi(u1, u2, w01b));
              u1 = v128.load8x8_s(p1 + tx);
              a0 = i32x4.add(a0, dot2Lo(u2, v0, w23a));
              a1 = i32x4.add(a1, dot2Hi(u2, v0, w23b));
              b0 = i32x4.add(b0, dot2Lo(u3, u1, w23a));
              b1 = i32x4.add(b1, dot2Hi(u3, u1, w23b));
              u2 = v128.load8x8_s(p1 + tx2);
              u3 = v128.load8x8_s(p1 + tx2 + tx);
              a0 = i32x4.add(a0, dot2Lo(u1, u2, w45a));
              a1 = i32x4.add(a1, dot2Hi(u1, u2, w45b));
              b0 = i32x4.add(b0, dot2Lo(u2, u3, w45a));
              b1 = i32x4.add(b1, dot2Hi(u2, u3, w45b));
              u0 = v128.load8x8_s(p2);
              u1 = v128.load8x8_s(p2 + tx);
              u2 = v128.load8x8_s(p2 + tx2);
              u3 = v128.load8x8_s(p2 + tx2 + tx);
              a0 = i32x4.add(a0, dot2Lo(u0, u1, w67a));
              a1 = i32x4.add(a1, dot2Hi(u0, u1, w67b));
              b0 = i32x4.add(b0, dot2Lo(u1, u2, w67a));
              b1 = i32x4.add(b1, dot2Hi(u1, u2, w67b));
              a0 = i32x4.add(a0, dot2Lo(u2, u2, w8a));
              a1 = i32x4.add(a1, dot2Hi(u2, u2, w8b));
              b0 = i32x4.add(b0, dot2Lo(u3, u3, w8a));
              b1 = i32x4.add(b1, dot2Hi(u3, u3, w8b));
            } else {
              const q0 = p0 + xStep;
              const q1 = p1 + xStep;
              const q2 = p2 + xStep;
              let ta = v128.load8x8_s(p0);
              let tb = v128.load8x8_s(p0 + tx);
              a0 = i32x4.add(bias0, dot2Lo(ta, tb, w01a));
              a1 = i32x4.add(bias1, dot2Hi(ta, tb, w01b));
              ta = v128.load8x8_s(q0);
              tb = v128.load8x8_s(q0 + tx);
              b0 = i32x4.add(bias0, dot2Lo(ta, tb, w01a));
              b1 = i32x4.add(bias1, dot2Hi(ta, tb, w01b));
              ta = v128.load8x8_s(p0 + tx2);
              tb = v128.load8x8_s(p1);
              a0 = i32x4.add(a0, dot2Lo(ta, tb, w23a));
              a1 = i32x4.add(a1, dot2Hi(ta, tb, w23b));
              ta = v128.load8x8_s(q0 + tx2);
              tb = v128.load8x8_s(q1);
              b0 = i32x4.add(b0, dot2Lo(ta, tb, w23a));
              b1 = i32x4.add(b1, dot2Hi(ta, tb, w23b));
              ta = v128.load8x8_s(p1 + tx);
              tb = v128.load8x8_s(p1 + tx2);
              a0 = i32x4.add(a0, dot2Lo(ta, tb, w45a));
              a1 = i32x4.add(a1, dot2Hi(ta, tb, w45b));
              ta = v128.load8x8_s(q1 + tx);
              tb = v128.load8x8_s(q1 + tx2);
              b0 = i32x4.add(b0, dot2Lo(ta, tb, w45a));
              b1 = i32x4.add(b1, dot2Hi(ta, tb, w45b));
              ta = v128.load8x8_s(p2);
              tb = v128.load8x8_s(p2 + tx);
              a0 = i32x4.add(a0, dot2Lo(ta, tb, w67a));
              a1 = i32x4.add(a1, dot2Hi(ta, tb, w67b));
              ta = v128.load8x8_s(q2);
              tb = v128.load8x8_s(q2 + tx);
              b0 = i32x4.add(b0, dot2Lo(ta, tb, w67a));
              b1 = i32x4.add(b1, dot2Hi(ta, tb, w67b));
              ta = v128.load8x8_s(p2 + tx2);
              a0 = i32x4.add(a0, dot2Lo(ta, ta, w8a));
              a1 = i32x4.add(a1, dot2Hi(ta, ta, w8b));
              ta = v128.load8x8_s(q2 + tx2);
              b0 = i32x4.add(b0, dot2Lo(ta, ta, w8a));
              b1 = i32x4.add(b1, dot2Hi(ta, ta, w8b));
            }
            store8x2(out, inC, requantizeBounded(a0, mb0, rp0, ck0, offsetR0),
              requantizeBounded(a1, mb1, rp1, ck1, offsetR1), requantizeBounded(b0, mb0, rp0, ck0, offsetR0),
              requantizeBounded(b1, mb1, rp1, ck1, offsetR1), clamps, lo8, hi8);
            ox += 2;
            out += 2 * inC;
            p0 += 2 * xStep;
            continue;
          }
          let acc0 = bias0;
          let acc1 = bias1;
          if (ox >= oxA && ox < end) {
            let ta = v128.load8x8_s(p0);
            let tb = v128.load8x8_s(p0 + tx);
            acc0 = i32x4.add(acc0, dot2Lo(ta, tb, w01a));
            acc1 = i32x4.add(acc1, dot2Hi(ta, tb, w01b));
            ta = v128.load8x8_s(p0 + tx2);
            tb = v128.load8x8_s(p1);
            acc0 = i32x4.add(acc0, dot2Lo(ta, tb, w23a));
            acc1 = i32x4.add(acc1, dot2Hi(ta, tb, w23b));
            ta = v128.load8x8_s(p1 + tx);
            tb = v128.load8x8_s(p1 + tx2);
            acc0 = i32x4.add(acc0, dot2Lo(ta, tb, w45a));
            acc1 = i32x4.add(acc1, dot2Hi(ta, tb, w45b));
            ta = v128.load8x8_s(p2);
            tb = v128.load8x8_s(p2 + tx);
            acc0 = i32x4.add(acc0, dot2Lo(ta, tb, w67a));
            acc1 = i32x4.add(acc1, dot2Hi(ta, tb, w67b));
            ta = v128.load8x8_s(p2 + tx2);
            acc0 = i32x4.add(acc0, dot2Lo(ta, ta, w8a));
            acc1 = i32x4.add(acc1, dot2Hi(ta, ta, w8b));
          } else {
            const x0 = ox * strideW - padLeft;
            const c0 = <u32>x0 < <u32>inW;
            const c1 = <u32>(x0 + dilationW) < <u32>inW;
            const c2 = <u32>(x0 + 2 * dilationW) < <u32>inW;
            let ta = tap(p0, in0 && c0, zeroPoint);
            let tb = tap(p0 + tx, in0 && c1, zeroPoint);
            acc0 = i32x4.add(acc0, dot2Lo(ta, tb, w01a));
            acc1 = i32x4.add(acc1, dot2Hi(ta, tb, w01b));
            ta = tap(p0 + tx2, in0 && c2, zeroPoint);
            tb = tap(p1, in1 && c0, zeroPoint);
            acc0 = i32x4.add(acc0, dot2Lo(ta, tb, w23a));
            acc1 = i32x4.add(acc1, dot2Hi(ta, tb, w23b));
            ta = tap(p1 + tx, in1 && c1, zeroPoint);
            tb = tap(p1 + tx2, in1 && c2, zeroPoint);
            acc0 = i32x4.add(acc0, dot2Lo(ta, tb, w45a));
            acc1 = i32x4.add(acc1, dot2Hi(ta, tb, w45b));
            ta = tap(p2, in2 && c0, zeroPoint);
            tb = tap(p2 + tx, in2 && c1, zeroPoint);
            acc0 = i32x4.add(acc0, dot2Lo(ta, tb, w67a));
            acc1 = i32x4.add(acc1, dot2Hi(ta, tb, w67b));
            ta = tap(p2 + tx2, in2 && c2, zeroPoint);
            acc0 = i32x4.add(acc0, dot2Lo(ta, ta, w8a));
            acc1 = i32x4.add(acc1, dot2Hi(ta, ta, w8b));
          }
          store8(out, requantizeBounded(acc0, mb0, rp0, ck0, offsetR0),
            requantizeBounded(acc1, mb1, rp1, ck1, offsetR1), clamps, lo8, hi8);
          ++ox;
          out += inC;
          p0 += xStep;
        } while (ox < outW);
        ++oy;
      } while (oy < outH);
      ++b;
    } while (b < batches);
    return;
  }

  const lp0 = leftPows(shifts + at);
  const lp1 = leftPows(shifts + at + 16);
  const rp0 = rightPows(shifts + at);
  const rp1 = rightPows(shifts + at + 16);
  const offsetR0 = i32x4.sub(offset, i32x4.shr_u(rp0, 1));
  const offsetR1 = i32x4.sub(offset, i32x4.shr_u(rp1, 1));
  const wRowStep = filterW * inC;
  let b = 0;
  do {
    const image = input + c + b * inH * rowBytes;
    let oy = 0;
    do {
      const y0 = oy * strideH - padTop;
      let ox = 0;
      do {
        const x0 = ox * strideW - padLeft;
        let acc0 = foldedBias0;
        let acc1 = foldedBias1;
        let wr = weights + c;
        for (let ky = 0; ky < filterH; ++ky) {
          const y = y0 + ky * dilationH;
          const rowInside = <u32>y < <u32>inH;
          const xr = image + y * rowBytes;
          for (let kx = 0; kx < filterW; ++kx) {
            const x = x0 + kx * dilationW;
            const t = tap(xr + x * inC, rowInside && <u32>x < <u32>inW, zeroPoint);
            const w = v128.load8x8_s(wr + kx * inC);
            acc0 = i32x4.add(acc0, i32x4.extmul_low_i16x8_s(t, w));
            acc1 = i32x4.add(acc1, i32x4.extmul_high_i16x8_s(t, w));
          }
          wr += wRowStep;
        }
        store8(out, requantize4(acc0, m0, rp0, offsetR0, lp0, minMask0, eZero0, offset),
          requantize4(acc1, m1, rp1, offsetR1, lp1, minMask1, eZero1, offset), clamps, lo8, hi8);
        ++ox;
        out += inC;
      } while (ox < outW);
      ++oy;
    } while (oy < outH);
    ++b;
  } while (b < batches);
}

export function depthwise_conv2d_s8(input: usize, weights: usize, bias: usize, folded_bias: usize, output: usize,
                                    batches: i32, in_h: i32, in_w: i32, in_c: i32, out_h: i32, out_w: i32,
                                    depth_multiplier: i32, filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32,
                                    dilation_h: i32, dilation_w: i32, pad_top: i32, pad_left: i32, input_offset: i32,
                                    multipliers: usize, shifts: usize, output_offset: i32, act_min: i32,
                                    act_max: i32): void {
  let c0 = 0;
  if (ASC_FEATURE_SIMD) {
    if (depth_multiplier == 1) {
      c0 = in_c & ~7;
      for (let c = 0; c < c0; c += 8) {
        depthwiseBlock8(input, weights, bias, folded_bias, output, batches, in_h, in_w, in_c, out_h, out_w, filter_h, filter_w,
          stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, input_offset, multipliers, shifts,
          output_offset, act_min, act_max, c);
      }
      if (c0 == in_c) return;
    }
  }
  depthwiseScalar(input, weights, bias, folded_bias, output, batches, in_h, in_w, in_c, out_h, out_w, depth_multiplier,
    filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, input_offset, multipliers, shifts,
    output_offset, act_min, act_max, c0);
}
