/**
 * @fileoverview Output size and padding of windowed ops (conv, depthwise conv, pooling), exactly as
 * TFLite's ComputeOutSize + ComputePaddingHeightWidth (tensorflow/lite/kernels/padding.h) compute them.
 * SAME padding puts the odd pixel at the bottom/right: the kernels only need the top/left padding. Explicit
 * padding (ONNX `pads`) gives the output size floor((in + top + bottom - filter) / stride) + 1.
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

/** TFLite ComputeOutSize (SAME / VALID); `paddedSize` is the image size plus any explicit padding. */
function computeOutSize(padding: 'same' | 'valid', paddedSize: number, filterSize: number, stride: number, dilation: number): number {
  const effectiveFilter = (filterSize - 1) * dilation + 1;
  return padding === 'same' ? cDiv(paddedSize + stride - 1, stride) : cDiv(paddedSize + stride - effectiveFilter, stride);
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
  const explicit = typeof padding === 'string' ? null : padding;
  if (explicit && (explicit.length !== 4 || explicit.some((p) => !Number.isInteger(p) || p < 0))) {
    throw new InvalidModelError(`explicit padding [${explicit.join(', ')}] must be four non-negative integers (top, left, bottom, right)`);
  }
  // A window lying wholly in the padding has no input at all (an average pool would divide by zero).
  if (explicit && (Math.max(explicit[0], explicit[2]) > (filterH - 1) * dilationH || Math.max(explicit[1], explicit[3]) > (filterW - 1) * dilationW)) {
    throw new UnsupportedError(`padding [${explicit.join(', ')}] reaches a whole ${filterH}x${filterW} window beyond the image`);
  }
  if (!explicit && padding !== 'same' && padding !== 'valid') throw new UnsupportedError(`padding '${String(padding)}' is not supported`);
  const positive: ReadonlyArray<[string, number]> = [
    ['stride_h', strideH], ['stride_w', strideW], ['dilation_h', dilationH], ['dilation_w', dilationW],
    ['filter_h', filterH], ['filter_w', filterW], ['input height', inH], ['input width', inW],
  ];
  for (const [name, v] of positive) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidModelError(`${name} must be a positive integer, got ${v}`);
  }
  const outH = explicit ? computeOutSize('valid', inH + explicit[0] + explicit[2], filterH, strideH, dilationH) : computeOutSize(padding as 'same' | 'valid', inH, filterH, strideH, dilationH);
  const outW = explicit ? computeOutSize('valid', inW + explicit[1] + explicit[3], filterW, strideW, dilationW) : computeOutSize(padding as 'same' | 'valid', inW, filterW, strideW, dilationW);
  if (outH < 1 || outW < 1) {
    const described = explicit ? `padding [${explicit.join(', ')}]` : `${(padding as string).toUpperCase()} padding`;
    throw new InvalidModelError(`a ${filterH}x${filterW} window (dilation ${dilationH}x${dilationW}) does not fit a ${inH}x${inW} input with ${described}`);
  }
  if (explicit) return { outH, outW, padTop: explicit[0], padLeft: explicit[1] };
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
  if (typeof padding !== 'string') throw new UnsupportedError(`explicit padding [${padding.join(', ')}] cannot be written to TFLite (it has only SAME and VALID)`);
  return padding === 'same' ? 0 : 1;
}
