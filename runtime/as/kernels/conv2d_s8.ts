/*
 * CONV_2D, int8, any filter size, stride, dilation and padding (TFLite reference_integer_ops::ConvPerChannel); the
 * port of runtime/c/kernels/conv2d_s8.c. NHWC input, OHWI weights, per-output-channel requantization.
 *
 * Exactness: TFLite sums (x + input_offset) * w over the taps inside the image. Equivalently, sum x * w over every
 * tap, with taps outside the image reading the input zero point (-input_offset), plus input_offset * sum w: that
 * last term is folded into `folded_bias` at compile time. So each output is a plain int8 dot product of the
 * weights with the pixel's window, borders included. Integer sums wrap modulo 2^32 like the C ones, so any
 * summation order gives the same accumulator, and the requantization is TFLite's (see ../gemm_s8.ts for the
 * vector form and why it is exact).
 *
 * Scalar build (and K = filter_h * filter_w * in_c < 8): the C kernel's loops. The windows of two output pixels
 * at a time are gathered into `scratch` (2 * K bytes, padded with the zero point; 1x1 filters use the input pixels
 * in place), then multiplied by the weights two channels at a time.
 *
 * SIMD: a GEMM of output pixels by output channels over K (../gemm_s8.ts simdPair: tiles of 2 pixels x 4
 * channels). A window is a number of runs of bytes; a run that is not a whole number of steps ends with a step over
 * its last 8 bytes, the lanes already counted masked to zero. Windows inside the image are read in place, one run per row, when their rows are contiguous
 * (dilation_w 1) and that takes no more steps than one run of K bytes (rows of 9 bytes take 2 steps each, for
 * instance); then only the windows that reach the padding are gathered, else all of them are. out_c % 4 channels
 * go 2 pixels x 1 channel.
 */
import { lanesPair, lanesPairScalar } from "../gemm_lanes";
import { scalarPair, simdPair, tailMask, vectorRequantizable } from "../gemm_s8";

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
  const mask = tailMask(<i32>run);
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
        out1, weights, foldedBias, outC, multipliers, shifts, outputOffset, actMin, actMax, mask, offsetV, minV,
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

/*
 * conv2d_s8 on the channels-in-lanes GEMM (../gemm_lanes.ts), which compiler/backend/wasm/conv_lanes.ts calls instead
 * when it applies: `packed` and `params` are that GEMM's weights and constants, and stand for weights,
 * folded_bias, multipliers, shifts and output_offset. A window is filter_h runs of filter_w * in_c taps, read in
 * place when inside the image and its rows are contiguous (dilation_w 1), else gathered with its rows back to back.
 */
export function conv2d_s8_lanes(
  input: usize, packed: usize, params: usize, output: usize, scratch: usize,
  batches: i32, in_h: i32, in_w: i32, in_c: i32, out_h: i32, out_w: i32, out_c: i32,
  filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32, dilation_h: i32, dilation_w: i32,
  pad_top: i32, pad_left: i32, input_zero_point: i32, act_min: i32, act_max: i32,
): void {
  const run = filter_w * in_c;
  const imageStride = <usize>(dilation_h * in_w * in_c);
  const inPlace = dilation_w == 1;
  const col0 = scratch;
  const col1 = scratch + <usize>(filter_h * run);
  let out = output;
  for (let b = 0; b < batches; ++b) {
    const image = input + <usize>(b * in_h * in_w) * <usize>in_c;
    // Output pixels in order, two at a time (a pair may straddle two rows; an odd last one is paired with itself).
    let oy = 0;
    let ox = 0;
    for (let left = out_h * out_w; left > 0; left -= 2) {
      const x0 = window(image, oy * stride_h - pad_top, ox * stride_w - pad_left, col0, in_h, in_w, in_c, filter_h,
        filter_w, dilation_h, dilation_w, input_zero_point, inPlace);
      if (++ox == out_w) {
        ox = 0;
        ++oy;
      }
      let x1 = x0;
      let out1 = out;
      if (left > 1) {
        x1 = window(image, oy * stride_h - pad_top, ox * stride_w - pad_left, col1, in_h, in_w, in_c, filter_h,
          filter_w, dilation_h, dilation_w, input_zero_point, inPlace);
        if (++ox == out_w) {
          ox = 0;
          ++oy;
        }
        out1 = out + <usize>out_c;
      }
      // Gathered windows have their rows back to back.
      const stride0 = x0 == col0 ? <usize>run : imageStride;
      const stride1 = x1 == col1 || x1 == col0 ? <usize>run : imageStride;
      if (ASC_FEATURE_SIMD) {
        lanesPair(x0, stride0, x1, stride1, filter_h, <usize>run, out, out1, packed, params, out_c,
          act_min, act_max);
      } else {
        lanesPairScalar(x0, stride0, x1, stride1, filter_h, run, out, out1, packed, params, out_c, act_min, act_max);
      }
      out = out1 + <usize>out_c;
    }
  }
}
