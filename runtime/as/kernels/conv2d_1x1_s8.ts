/*
 * CONV_2D, int8, 1x1 filter (TFLite reference_integer_ops::ConvPerChannel restricted to 1x1 windows); the port of
 * runtime/c/kernels/conv2d_1x1_s8.c. A 1x1 window never reaches the padding, so every output is the int8 dot product
 * of one input pixel with one weight row, plus `folded_bias` (bias + input_offset * sum of the row, folded at
 * compile time). Integer sums wrap modulo 2^32 like the C ones, so any summation order gives the same accumulator,
 * and the requantization is TFLite's (see ../gemm_s8.ts for the vector form and why it is exact).
 *
 * Scalar build (and in_c < 8): the C kernel's loops, two pixels by two channels.
 *
 * SIMD: a GEMM of pixels by output channels over K = in_c (../gemm_s8.ts), the input pixels as the columns. When
 * K <= QUAD_MAX_K, out_c % 4 == 0 and the requantization vectorises, tiles of 4 pixels x 4 channels with the pixels
 * in the lanes (simdQuad: no lane reduction, one multiplier and shift per vector), the last count % 4 pixels in
 * pairs; else tiles of 2 pixels x 4 channels (simdPair).
 */
import { lanesPair, lanesPairScalar } from "../gemm_lanes";
import { scalarPair, simdPair, simdQuad, tailMask, vectorRequantizable } from "../gemm_s8";

/* A run of `count` output pixels whose inputs are `pixelStep` bytes apart: four at a time when `quads` (simdQuad),
 * then two at a time (an odd last one is computed as a pair with itself). */
function simdRun(
  x: usize, pixelStep: usize, count: i32, weights: usize, foldedBias: usize, out: usize, inC: i32, outC: i32,
  multipliers: usize, shifts: usize, outputOffset: i32, actMin: i32, actMax: i32,
  mask: v128, offsetV: v128, minV: v128, maxV: v128, vectorRequant: bool, quads: bool,
): void {
  let p = 0;
  if (quads) {
    for (; p + 3 < count; p += 4) {
      simdQuad(x + <usize>p * pixelStep, pixelStep, <usize>inC, out + <usize>p * <usize>outC, weights, foldedBias, outC,
        multipliers, shifts, mask, offsetV, minV, maxV);
    }
  }
  for (; p < count; p += 2) {
    const x0 = x + <usize>p * pixelStep;
    const out0 = out + <usize>p * <usize>outC;
    const x1 = p + 1 < count ? x0 + pixelStep : x0;
    const out1 = p + 1 < count ? out0 + <usize>outC : out0;
    simdPair(x0, 0, x1, 0, 1, <usize>inC, out0, out1, weights, foldedBias, outC, multipliers, shifts, outputOffset,
      actMin, actMax, mask, offsetV, minV, maxV, vectorRequant);
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

/* The largest K simdQuad takes: beyond it, re-transposing the columns for every 4 channels costs more than the
 * lane reductions it saves (measured slower at K = 32). */
const QUAD_MAX_K = 16;

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
    const mask = tailMask(in_c);
    const offsetV = i16x8.splat(<i16>output_offset);
    const minV = i8x16.splat(<i8>act_min);
    const maxV = i8x16.splat(<i8>act_max);
    const vectorRequant = vectorRequantizable(multipliers, shifts, out_c, output_offset, act_min, act_max);
    const quads = vectorRequant && (out_c & 3) == 0 && in_c <= QUAD_MAX_K;
    for (let r = 0; r < runs; ++r) {
      const b = r / out_h; // the run's batch and output row (0 and 0 for the one contiguous run)
      const oy = r - b * out_h;
      const x = input + <usize>((b * in_h + oy * stride_h) * in_w) * <usize>in_c;
      const out = output + <usize>r * <usize>(out_w * out_c);
      simdRun(x, pixelStep, count, weights, folded_bias, out, in_c, out_c, multipliers, shifts, output_offset, act_min,
        act_max, mask, offsetV, minV, maxV, vectorRequant, quads);
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

/*
 * conv2d_1x1_s8 on the channels-in-lanes GEMM (../gemm_lanes.ts), which compiler/backend/wasm/conv_lanes.ts calls
 * instead when it applies: `packed` and `params` are that GEMM's weights and constants, and stand for weights,
 * folded_bias, multipliers, shifts and output_offset. A window is one run of in_c taps, the input pixel in place.
 */
export function conv2d_1x1_s8_lanes(
  input: usize, packed: usize, params: usize, output: usize,
  batches: i32, in_h: i32, in_w: i32, in_c: i32, out_h: i32, out_w: i32, out_c: i32,
  stride_h: i32, stride_w: i32, act_min: i32, act_max: i32,
): void {
  // Runs of pixels as in conv2d_1x1_s8.
  const contiguous = stride_h == 1 && stride_w == 1;
  const runs = contiguous ? 1 : batches * out_h;
  const count = contiguous ? batches * out_h * out_w : out_w;
  const pixelStep = <usize>(stride_w * in_c);
  for (let r = 0; r < runs; ++r) {
    const b = r / out_h;
    const oy = r - b * out_h;
    const x = input + <usize>((b * in_h + oy * stride_h) * in_w) * <usize>in_c;
    const out = output + <usize>r * <usize>(out_w * out_c);
    for (let p = 0; p < count; p += 2) {
      const x0 = x + <usize>p * pixelStep;
      const out0 = out + <usize>p * <usize>out_c;
      const x1 = p + 1 < count ? x0 + pixelStep : x0;
      const out1 = p + 1 < count ? out0 + <usize>out_c : out0;
      if (ASC_FEATURE_SIMD) {
        lanesPair(x0, 0, x1, 0, 1, <usize>in_c, out0, out1, packed, params, out_c, act_min, act_max);
      } else {
        lanesPairScalar(x0, 0, x1, 0, 1, in_c, out0, out1, packed, params, out_c, act_min, act_max);
      }
    }
  }
}
