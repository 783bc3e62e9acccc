/**
 * @fileoverview Output size and padding of windowed ops (conv, depthwise conv, pooling), exactly as
 * TFLite's ComputeOutSize + ComputePaddingHeightWidth (tensorflow/lite/kernels/padding.h) compute them.
 * SAME padding puts the odd pixel at the bottom/right: the kernels only need the top/left padding.
 */
import type { Padding } from '../../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../../errors.ts';

export interface ConvGeometry {
  readonly outH: number;
  readonly outW: number;
  readonly padTop: number;
  readonly padLeft: number;
}

/** C integer division (truncates toward zero). */
function cDiv(a: number, b: number): number {
  return Math.trunc(a / b);
}

/** TFLite ComputeOutSize. */
export function computeOutSize(padding: Padding, imageSize: number, filterSize: number, stride: number, dilation: number): number {
  const effectiveFilter = (filterSize - 1) * dilation + 1;
  return padding === 'same' ? cDiv(imageSize + stride - 1, stride) : cDiv(imageSize + stride - effectiveFilter, stride);
}

/** TFLite ComputePaddingWithOffset, returning only the leading padding (the offset is unused by the kernels). */
function computeLeadingPadding(stride: number, dilation: number, inSize: number, filterSize: number, outSize: number): number {
  const effectiveFilter = (filterSize - 1) * dilation + 1;
  const total = Math.max(0, (outSize - 1) * stride + effectiveFilter - inSize);
  return Math.floor(total / 2);
}

/**
 * Output size and top/left padding of a 2-D window of `filterH x filterW` taps, dilated, moved by
 * `strideH x strideW` over an `inH x inW` image. Throws on non-positive strides, dilations or filters,
 * and when the output would be empty.
 */
export function computePadding(
  inH: number, inW: number, filterH: number, filterW: number,
  strideH: number, strideW: number, dilationH: number, dilationW: number,
  padding: Padding,
): ConvGeometry {
  if (padding !== 'same' && padding !== 'valid') throw new UnsupportedError(`padding '${String(padding)}' is not supported`);
  const positive: ReadonlyArray<[string, number]> = [
    ['stride_h', strideH], ['stride_w', strideW], ['dilation_h', dilationH], ['dilation_w', dilationW],
    ['filter_h', filterH], ['filter_w', filterW], ['input height', inH], ['input width', inW],
  ];
  for (const [name, v] of positive) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidModelError(`${name} must be a positive integer, got ${v}`);
  }
  const outH = computeOutSize(padding, inH, filterH, strideH, dilationH);
  const outW = computeOutSize(padding, inW, filterW, strideW, dilationW);
  if (outH < 1 || outW < 1) {
    throw new InvalidModelError(
      `a ${filterH}x${filterW} window (dilation ${dilationH}x${dilationW}) does not fit a ${inH}x${inW} input with ${padding.toUpperCase()} padding`,
    );
  }
  return {
    outH,
    outW,
    padTop: computeLeadingPadding(strideH, dilationH, inH, filterH, outH),
    padLeft: computeLeadingPadding(strideW, dilationW, inW, filterW, outW),
  };
}

/** TFLite's Padding enum (0 = SAME, 1 = VALID) in the IR's words. */
export function paddingFromTflite(code: unknown): Padding {
  if (code === 0) return 'same';
  if (code === 1) return 'valid';
  throw new UnsupportedError(`padding ${String(code)} is not supported`);
}

export function paddingToTflite(padding: Padding): number {
  return padding === 'same' ? 0 : 1;
}
