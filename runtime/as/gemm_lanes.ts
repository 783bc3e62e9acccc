/*
 * The int8 convolution GEMM with the output channels in the lanes, behind the wasm-only kernels conv2d_s8_lanes and
 * conv2d_1x1_s8_lanes (compiler/backend/wasm/conv_lanes.ts calls them instead of conv2d_s8 and conv2d_1x1_s8 when its
 * conditions hold, and lays their constants out for them). A window is `rows` runs of `run` int8 taps. Each run is
 * cut into pairs of taps, (0, 1), (2, 3), ..., or when run is odd (-1, 0), (1, 2), ...: the byte before the run (in
 * bounds: no window starts at address 0) has weight 0, which spares the loop a special last pair. The output
 * channels go in chunks of 16 (the last one may have 4, 8 or 12), and `weights` holds, chunk after chunk, pair after
 * pair, the pair's two weights of each of the chunk's channels, doubled, as int16 ([chunk][row][pair][channel][2]:
 * a chunk's weights are read in order). One v128 of them is 4 channels x 2 taps, so i32x4.dot_i16x8_s with the
 * pair's two inputs splat adds the pair to 4 channels' sums at once: no reduction across lanes, no masked tail step,
 * and the requantization constants are per lane. Sums wrap modulo 2^32 like the C ones; the layout chooses these
 * kernels only when the doubled sum provably stays below 2^30 in magnitude (it never wraps).
 *
 * `params` has, per group of 4 output channels (PARAM_BYTES each), int32 x 4 each: 2 * folded_bias, the multipliers
 * m (>= 0), rp = 2^(32-e) for the exponents e = -shift in [2, 31]; then, double rounding: ck = 2^(e-1) +
 * output_offset * 2^e (int32 x 4); single rounding: R = 2^(31+e) + output_offset * 2^(32+e) (int64 x 4). With
 * acc2 = 2 * acc and the layout's bound (|output_offset| + 1) * 2^e < 2^30, every value below fits its lanes, and
 * high(v) = floor(v / 2^32) is the odd 32-bit half of an i64 lane:
 * - double: SaturatingRoundingDoublingHighMul(acc, m) = floor((acc m + 2^30) / 2^31) = high(acc2 m + 2^31) = y
 *   (m != INT32_MIN: no saturation), RoundingDivideByPOT(y, e) + output_offset = floor((y - [y < 0] + ck) / 2^e)
 *   = high((y + (y >> 31) + ck) * rp).
 * - single: floor((acc m + 2^(30+e)) / 2^(31+e)) + output_offset = high(high(acc2 m + R) * rp).
 * 'float32' rounding (TF_FLOAT32_REQUANT), `params` instead has per group (48 bytes): 2 * folded_bias (int32 x 4),
 * h = m / 2 (float32 x 4, exact: the layout checks it), K = bits(M) - output_offset (int32 x 4), M = 1.5 * 2^23.
 * fl(acc2) = 2 fl(acc) and fl(fl(acc2) * h) = fl(fl(acc) * m) (the same real number, rounded once), which is p. For
 * |p| <= 2^22, q = fl(p + M) = M + round_half_even(p) (ulp 1 on [2^23, 2^24], M even) and the bits of q are
 * 0x4B000000 + (q - 2^23) there, so bits(q) - K = round_half_even(p) + output_offset. Beyond, bits(q) grows with
 * q >= 0, so p > 2^22 gives at least 2^22 + output_offset and -M <= p < -2^22 at most -2^22 + output_offset: both
 * saturate, as requantizeFloat32's p capped at +-2^22 does (the layout bounds |output_offset|). q < 0 (p < -M) has
 * negative bits, which max(bits, 0) makes 0: -K, the bottom again. p is never NaN (finite m), and no value wraps.
 * The result, output offset included, is clamped by the saturating narrows and then [act_min, act_max], which lies
 * within int8.
 */
import { clamp } from "./fixed_point";

/* Bytes of one group's constants in `params`. */
// @ts-ignore: decorator
@inline
const PARAM_BYTES: usize = TF_FLOAT32_REQUANT ? 48 : TF_SINGLE_ROUNDING ? 80 : 64;

/* The output (offset included, not clamped) of the 4 channels of the group at g, from their doubled sums. */
// @ts-ignore: decorator
@inline
function requantizeLanes(acc2: v128, g: usize): v128 {
  if (TF_FLOAT32_REQUANT) {
    const q = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(acc2), v128.load(g, 16)), f32x4.splat(12582912));
    return i32x4.sub(i32x4.max_s(q, i32x4.splat(0)), v128.load(g, 32));
  }
  const m = v128.load(g, 16);
  const rp = v128.load(g, 32);
  let z: v128;
  if (TF_SINGLE_ROUNDING) {
    z = i32x4.shuffle(i64x2.add(i64x2.extmul_low_i32x4_s(acc2, m), v128.load(g, 48)),
      i64x2.add(i64x2.extmul_high_i32x4_s(acc2, m), v128.load(g, 64)), 1, 3, 5, 7);
  } else {
    const half = i64x2.splat(<i64>1 << 31);
    const y = i32x4.shuffle(i64x2.add(i64x2.extmul_low_i32x4_s(acc2, m), half),
      i64x2.add(i64x2.extmul_high_i32x4_s(acc2, m), half), 1, 3, 5, 7);
    z = i32x4.add(i32x4.add(y, i32x4.shr_s(y, 31)), v128.load(g, 48));
  }
  return i32x4.shuffle(i64x2.extmul_low_i32x4_s(z, rp), i64x2.extmul_high_i32x4_s(z, rp), 1, 3, 5, 7);
}

/* requantizeLanes of lane `lane` (0..3) alone, for scalar builds. */
// @ts-ignore: decorator
@inline
function requantizeLane(acc2: i32, g: usize, lane: usize): i32 {
  if (TF_FLOAT32_REQUANT) {
    const q = reinterpret<i32>(<f32>acc2 * load<f32>(g + (lane << 2), 16) + <f32>12582912);
    return max<i32>(q, 0) - load<i32>(g + (lane << 2), 32);
  }
  const m = <i64>load<i32>(g + (lane << 2), 16);
  const rp = <i64>load<i32>(g + (lane << 2), 32);
  let z: i64;
  if (TF_SINGLE_ROUNDING) {
    z = (<i64>acc2 * m + load<i64>(g + (lane << 3), 48)) >> 32;
  } else {
    const y = <i32>((<i64>acc2 * m + (<i64>1 << 31)) >> 32);
    z = <i64>(y + (y >> 31) + load<i32>(g + (lane << 2), 48));
  }
  return <i32>((z * rp) >> 32);
}

/* The results of 4 groups of one pixel (i32 lanes, offset included) as 16 bytes, clamped. */
// @ts-ignore: decorator
@inline
function narrow(r0: v128, r1: v128, r2: v128, r3: v128, minV: v128, maxV: v128): v128 {
  const bytes = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(r0, r1), i16x8.narrow_i32x4_s(r2, r3));
  return i8x16.min_s(i8x16.max_s(bytes, minV), maxV);
}

/* The two input taps of a pair splat to every lane pair (i16), read at p. */
// @ts-ignore: decorator
@inline
function pairSplat(p: usize): v128 {
  return i16x8.extend_low_i8x16_s(v128.load16_splat(p));
}

/*
 * Two output pixels (windows at x0 and x1, their runs stride0 and stride1 apart) by a chunk of `groups` (1 to 4, a
 * constant) groups of 4 channels, whose weights start at `weights` and constants at `params`; results to out0 and
 * out1.
 */
// @ts-ignore: decorator
@inline
function lanesTile(
  x0: usize, stride0: usize, x1: usize, stride1: usize, rows: i32, run: usize, out0: usize, out1: usize,
  weights: usize, params: usize, groups: i32, minV: v128, maxV: v128,
): void {
  const pairBytes = <usize>groups << 4;
  let acc00 = v128.load(params);
  let acc01 = groups > 1 ? v128.load(params + PARAM_BYTES) : acc00;
  let acc02 = groups > 2 ? v128.load(params + 2 * PARAM_BYTES) : acc00;
  let acc03 = groups > 3 ? v128.load(params + 3 * PARAM_BYTES) : acc00;
  let acc10 = acc00;
  let acc11 = acc01;
  let acc12 = acc02;
  let acc13 = acc03;
  let w = weights;
  let p0 = x0 - (run & 1);
  let p1 = x1 - (run & 1);
  for (let r = 0; r < rows; ++r) {
    for (let i: usize = 0; i < run; i += 2) {
      const a = pairSplat(p0 + i);
      const b = pairSplat(p1 + i);
      let v = v128.load(w);
      acc00 = i32x4.add(acc00, i32x4.dot_i16x8_s(a, v));
      acc10 = i32x4.add(acc10, i32x4.dot_i16x8_s(b, v));
      if (groups > 1) {
        v = v128.load(w, 16);
        acc01 = i32x4.add(acc01, i32x4.dot_i16x8_s(a, v));
        acc11 = i32x4.add(acc11, i32x4.dot_i16x8_s(b, v));
      }
      if (groups > 2) {
        v = v128.load(w, 32);
        acc02 = i32x4.add(acc02, i32x4.dot_i16x8_s(a, v));
        acc12 = i32x4.add(acc12, i32x4.dot_i16x8_s(b, v));
      }
      if (groups > 3) {
        v = v128.load(w, 48);
        acc03 = i32x4.add(acc03, i32x4.dot_i16x8_s(a, v));
        acc13 = i32x4.add(acc13, i32x4.dot_i16x8_s(b, v));
      }
      w += pairBytes;
    }
    p0 += stride0;
    p1 += stride1;
  }
  const r00 = requantizeLanes(acc00, params);
  const r10 = requantizeLanes(acc10, params);
  let r01 = r00, r11 = r10, r02 = r00, r12 = r10, r03 = r00, r13 = r10;
  if (groups > 1) {
    r01 = requantizeLanes(acc01, params + PARAM_BYTES);
    r11 = requantizeLanes(acc11, params + PARAM_BYTES);
  }
  if (groups > 2) {
    r02 = requantizeLanes(acc02, params + 2 * PARAM_BYTES);
    r12 = requantizeLanes(acc12, params + 2 * PARAM_BYTES);
  }
  if (groups > 3) {
    r03 = requantizeLanes(acc03, params + 3 * PARAM_BYTES);
    r13 = requantizeLanes(acc13, params + 3 * PARAM_BYTES);
  }
  const o0 = narrow(r00, r01, r02, r03, minV, maxV);
  const o1 = narrow(r10, r11, r12, r13, minV, maxV);
  if (groups == 4) {
    v128.store(out0, o0);
    v128.store(out1, o1);
  } else if (groups == 3) {
    v128.store64_lane(out0, o0, 0);
    v128.store32_lane(out0, o0, 2, 8);
    v128.store64_lane(out1, o1, 0);
    v128.store32_lane(out1, o1, 2, 8);
  } else if (groups == 2) {
    v128.store64_lane(out0, o0, 0);
    v128.store64_lane(out1, o1, 0);
  } else {
    v128.store32_lane(out0, o0, 0);
    v128.store32_lane(out1, o1, 0);
  }
}

/*
 * Two output pixels, every channel (out_c % 4 == 0): windows x0 and x1 as in lanesTile. Pixel 1 is written after
 * pixel 0, so out1 == out0 computes one pixel.
 */
export function lanesPair(
  x0: usize, stride0: usize, x1: usize, stride1: usize, rows: i32, run: usize, out0: usize, out1: usize,
  weights: usize, params: usize, outC: i32, actMin: i32, actMax: i32,
): void {
  const chunkBytes = (<usize>rows * ((run + 1) >> 1)) << 6; // the weights of a chunk of 16 channels
  const minV = i8x16.splat(<i8>actMin);
  const maxV = i8x16.splat(<i8>actMax);
  let oc = 0;
  let w = weights;
  for (; oc + 15 < outC; oc += 16, w += chunkBytes) {
    lanesTile(x0, stride0, x1, stride1, rows, run, out0 + oc, out1 + oc, w, params + (<usize>oc >> 2) * PARAM_BYTES,
      4, minV, maxV);
  }
  const groups = (outC - oc) >> 2;
  const g = params + (<usize>oc >> 2) * PARAM_BYTES;
  if (groups == 3) {
    lanesTile(x0, stride0, x1, stride1, rows, run, out0 + oc, out1 + oc, w, g, 3, minV, maxV);
  } else if (groups == 2) {
    lanesTile(x0, stride0, x1, stride1, rows, run, out0 + oc, out1 + oc, w, g, 2, minV, maxV);
  } else if (groups == 1) {
    lanesTile(x0, stride0, x1, stride1, rows, run, out0 + oc, out1 + oc, w, g, 1, minV, maxV);
  }
}

/* lanesPair for scalar builds, its arithmetic a lane at a time, two channels (adjacent in `weights`) at a time. */
export function lanesPairScalar(
  x0: usize, stride0: usize, x1: usize, stride1: usize, rows: i32, run: i32, out0: usize, out1: usize,
  weights: usize, params: usize, outC: i32, actMin: i32, actMax: i32,
): void {
  const pairs = <usize>rows * <usize>((run + 1) >> 1);
  for (let oc = 0; oc < outC; oc += 2) {
    const g = params + (<usize>oc >> 2) * PARAM_BYTES;
    const lane = <usize>(oc & 3);
    let acc00 = load<i32>(g + (lane << 2));
    let acc01 = load<i32>(g + (lane << 2), 4);
    let acc10 = acc00;
    let acc11 = acc01;
    const chunk = oc & ~15;
    const pairBytes = <usize>min(16, outC - chunk) << 2;
    let w = weights + ((<usize>chunk * pairs + <usize>(oc - chunk)) << 2);
    let p0 = x0 - <usize>(run & 1);
    let p1 = x1 - <usize>(run & 1);
    for (let r = 0; r < rows; ++r, p0 += stride0, p1 += stride1) {
      for (let i = 0; i < run; i += 2, w += pairBytes) {
        const a0 = <i32>load<i8>(p0 + i);
        const a1 = <i32>load<i8>(p0 + i, 1);
        const b0 = <i32>load<i8>(p1 + i);
        const b1 = <i32>load<i8>(p1 + i, 1);
        const u0 = <i32>load<i16>(w);
        const u1 = <i32>load<i16>(w, 2);
        const v0 = <i32>load<i16>(w, 4);
        const v1 = <i32>load<i16>(w, 6);
        acc00 += a0 * u0 + a1 * u1;
        acc01 += a0 * v0 + a1 * v1;
        acc10 += b0 * u0 + b1 * u1;
        acc11 += b0 * v0 + b1 * v1;
      }
    }
    store<i8>(out0 + oc, clamp(requantizeLane(acc00, g, lane), actMin, actMax));
    store<i8>(out0 + oc + 1, clamp(requantizeLane(acc01, g, lane + 1), actMin, actMax));
    store<i8>(out1 + oc, clamp(requantizeLane(acc10, g, lane), actMin, actMax));
    store<i8>(out1 + oc + 1, clamp(requantizeLane(acc11, g, lane + 1), actMin, actMax));
  }
}
