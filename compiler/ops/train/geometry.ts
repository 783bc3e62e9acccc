/**
 * @fileoverview The dimensions a gradient kernel of a convolution-like layer needs, read from the forward layer's
 * tensors. A fully connected layer is a 1x1 convolution over a 1x1 image: its weights [out, in] are OHWI with
 * H = W = 1, and each row of its input is one image.
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

/** Float scales as the float32 values the kernels read. */
export function float32Table(values: readonly number[]): number[] {
  return values.map((v) => Math.fround(v));
}
