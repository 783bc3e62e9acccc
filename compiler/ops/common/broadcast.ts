/**
 * @fileoverview Broadcasting of the binary elementwise operators (ADD, SUB, MUL), as TFLite's
 * NdArrayDescsForElementwiseBroadcast defines it: shapes are aligned on their last dimension, padded
 * with leading 1s, and every dimension must be equal or 1 in one of the inputs (TFLM handles up to 6).
 *
 * Two descriptions of the same broadcast come out of `planBroadcast`:
 * - full rank, one stride per output dimension (0 where an input is broadcast): what `evaluate` walks,
 *   literally the TFLM loop nest;
 * - compressed for the kernels: size-1 output dimensions dropped and adjacent dimensions with the same
 *   broadcast pattern merged, padded to exactly KERNEL_DIMS (outer dimensions of size 1). The innermost
 *   dimension then reads each input either contiguously (stride 1) or not at all (stride 0), which the
 *   kernels specialise on.
 */
import type { Node } from '../../ir/graph.ts';
import { describeNode, elementCount } from '../../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../../errors.ts';

/** Largest rank TFLM's broadcasting binary kernels accept (BroadcastBinaryFunction6DSlow). */
export const MAX_BROADCAST_RANK = 6;
/** Dimensions of the kernels' loop nest after compression. */
export const KERNEL_DIMS = 4;

/** numpy/TFLite broadcast of two shapes; throws InvalidModelError when a dimension differs and neither is 1. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    const da = a[a.length - rank + k] ?? 1;
    const db = b[b.length - rank + k] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new InvalidModelError(`shapes [${a.join('x')}] and [${b.join('x')}] cannot be broadcast (dimension ${k}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

export interface BroadcastPlan {
  /** Output shape (full rank). */
  readonly outShape: readonly number[];
  /** Per output dimension, the element stride of each input (0 where it is broadcast). */
  readonly strides1: readonly number[];
  readonly strides2: readonly number[];
  /** Compressed loop nest for the kernels: KERNEL_DIMS entries each, outermost first. */
  readonly kernelDims: readonly number[];
  readonly kernelStrides1: readonly number[];
  readonly kernelStrides2: readonly number[];
}

/** Row-major strides of `shape` aligned to `rank` output dimensions, 0 where the input has size 1 and the output does not. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let k = rank - 1; k >= 0; k--) {
    const d = shape[shape.length - rank + k] ?? 1;
    strides[k] = d === 1 && outShape[k] !== 1 ? 0 : s;
    s *= d;
  }
  return strides;
}

export function planBroadcast(shape1: readonly number[], shape2: readonly number[], node: Node<object>): BroadcastPlan {
  const where = describeNode(node as Node);
  const rank = Math.max(shape1.length, shape2.length);
  const outShape = broadcastShape(shape1, shape2);
  const same = shape1.length === shape2.length && shape1.every((d, k) => d === shape2[k]);
  if (!same && rank > MAX_BROADCAST_RANK) {
    throw new UnsupportedError(`${where}: broadcasting rank-${rank} inputs is not supported (at most ${MAX_BROADCAST_RANK} dimensions, as in TFLM)`);
  }
  const strides1 = broadcastStrides(shape1, outShape);
  const strides2 = broadcastStrides(shape2, outShape);

  // Compress: drop size-1 output dimensions, merge neighbours whose inputs are both read or broadcast alike.
  const dims: number[] = [];
  const bc1: boolean[] = [];
  const bc2: boolean[] = [];
  for (let k = 0; k < rank; k++) {
    const d = outShape[k]!;
    if (d === 1) continue;
    const b1 = strides1[k] === 0;
    const b2 = strides2[k] === 0;
    const last = dims.length - 1;
    if (last >= 0 && bc1[last] === b1 && bc2[last] === b2) {
      dims[last] = dims[last]! * d;
    } else {
      dims.push(d);
      bc1.push(b1);
      bc2.push(b2);
    }
  }
  if (dims.length > KERNEL_DIMS) {
    throw new UnsupportedError(
      `${where}: broadcasting [${shape1.join('x')}] with [${shape2.join('x')}] needs ${dims.length} loop levels after merging dimensions; at most ${KERNEL_DIMS} are supported`,
    );
  }
  // Strides of the merged dimensions: each input's row-major strides over the merged shape (0 when broadcast).
  const compressedStrides = (bc: readonly boolean[]): number[] => {
    const s = new Array<number>(dims.length).fill(0);
    let acc = 1;
    for (let k = dims.length - 1; k >= 0; k--) {
      if (bc[k]) continue;
      s[k] = acc;
      acc *= dims[k]!;
    }
    return s;
  };
  const pad = KERNEL_DIMS - dims.length;
  const kernelDims = [...new Array<number>(pad).fill(1), ...dims];
  const kernelStrides1 = [...new Array<number>(pad).fill(0), ...compressedStrides(bc1)];
  const kernelStrides2 = [...new Array<number>(pad).fill(0), ...compressedStrides(bc2)];
  if (elementCount(kernelDims) !== elementCount(outShape)) throw new Error('broadcast compression lost elements');
  return { outShape, strides1, strides2, kernelDims, kernelStrides1, kernelStrides2 };
}

/**
 * Calls `fn(i1, i2, o)` for every output element o in row-major order, with the element indices of the two
 * inputs that TFLM's broadcast loop pairs with it (full-rank strides, no compression).
 */
export function forEachBroadcast(
  outShape: readonly number[], strides1: readonly number[], strides2: readonly number[],
  fn: (i1: number, i2: number, o: number) => void,
): void {
  const rank = outShape.length;
  const count = elementCount(outShape);
  const idx = new Array<number>(rank).fill(0);
  let i1 = 0;
  let i2 = 0;
  for (let o = 0; o < count; o++) {
    fn(i1, i2, o);
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]!++;
      i1 += strides1[k]!;
      i2 += strides2[k]!;
      if (idx[k]! < outShape[k]!) break;
      i1 -= strides1[k]! * outShape[k]!;
      i2 -= strides2[k]! * outShape[k]!;
      idx[k] = 0;
    }
  }
}
