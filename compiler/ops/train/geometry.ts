/**
 * @fileoverview The dimensions a gradient kernel of a convolution-like or pooling layer needs, read from the forward
 * layer's tensors. A fully connected layer is a 1x1 convolution over a 1x1 image: its weights [out, in] are OHWI
 * with H = W = 1, and each row of its input is one image.
 */
import type { Attrs, Tensor } from '../../ir/graph.ts';
import { describeTensor, elementCount } from '../../ir/graph.ts';
import { InvalidModelError } from '../../errors.ts';

/** Window attributes of a gradient node, copied from the forward node with its padding resolved. */
export interface WindowAttrs extends Attrs {
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly padTop: number;
  readonly padLeft: number;
}

export interface ConvDims {
  readonly batches: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC: number;
  readonly filterH: number;
  readonly filterW: number;
}

/**
 * `input` has the shape of the forward input (or of its gradient), `gradient` that of the forward output; weights
 * are OHWI (conv), 1HWC (depthwise) or [out, in] (fully connected).
 */
export function convDims(input: Tensor, weights: Tensor, gradient: Tensor, depthwise: boolean): ConvDims {
  if (weights.shape.length === 2) {
    const [outC, inC] = weights.shape as [number, number];
    return { batches: elementCount(gradient.shape) / outC, inH: 1, inW: 1, inC, outH: 1, outW: 1, outC, filterH: 1, filterW: 1 };
  }
  if (input.shape.length !== 4 || gradient.shape.length !== 4 || weights.shape.length !== 4) {
    throw new InvalidModelError(`gradient of ${describeTensor(weights)}: expected 4-D NHWC tensors, got ${describeTensor(input)} and ${describeTensor(gradient)}`);
  }
  const [batches, inH, inW, inC] = input.shape as [number, number, number, number];
  const [, outH, outW, outC] = gradient.shape as [number, number, number, number];
  const filterH = weights.shape[1]!;
  const filterW = weights.shape[2]!;
  return { batches, inH, inW, inC: depthwise ? outC : inC, outH, outW, outC, filterH, filterW };
}

/** Window of a pooling gradient node, copied from the forward node with its padding resolved. */
export interface PoolWindowAttrs extends Attrs {
  readonly filterH: number;
  readonly filterW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padLeft: number;
}

export interface PoolDims {
  readonly batches: number;
  readonly inH: number;
  readonly inW: number;
  readonly channels: number;
  readonly outH: number;
  readonly outW: number;
}

/** NHWC dimensions of a pooling's input and output; a [N, C] output (a mean without kept dims) is N x 1 x 1 x C. */
export function poolDims(input: Tensor, output: Tensor): PoolDims {
  const nhwc = (shape: readonly number[]) => (shape.length === 4 ? (shape as [number, number, number, number]) : [shape[0]!, 1, 1, shape[shape.length - 1]!]);
  const [batches, inH, inW, channels] = nhwc(input.shape);
  const [, outH, outW] = nhwc(output.shape);
  return { batches, inH, inW, channels, outH, outW };
}

/** The integer arguments of the pooling gradient kernels, in their order. */
export function poolKernelInts(p: PoolDims & PoolWindowAttrs): number[] {
  return [p.batches, p.inH, p.inW, p.channels, p.outH, p.outW, p.filterH, p.filterW, p.strideH, p.strideW, p.padTop, p.padLeft];
}

/** Float scales as the float32 values the kernels read. */
export function float32Table(values: readonly number[]): number[] {
  return values.map((v) => Math.fround(v));
}
