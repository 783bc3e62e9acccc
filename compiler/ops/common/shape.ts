/**
 * @fileoverview Shape helpers shared by the data-movement operators (reshape family, pad,
 * concatenation, transpose, strided slice, resize): reading constant integer operands,
 * normalising axes, row-major strides, and the strided N-D copy that `copy_nd_s8` runs.
 */
import type { TensorData } from '../../ir/dtype.ts';
import type { Node, Tensor } from '../../ir/graph.ts';
import { describeNode, describeTensor, elementCount } from '../../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../../errors.ts';
import type { KernelCall, PrepareContext, Prepared } from '../op.ts';
import { arg } from '../op.ts';

/** Largest rank the strided copy and pad kernels handle (their index arrays are sized for it). */
export const MAX_KERNEL_RANK = 6;

/**
 * The values of a constant integer operand (shape, paddings, perm, begin/end/strides, axis, size).
 * TFLM reads most of them as int32 whatever their declared type, so int64 is accepted only where asked.
 */
export function constantIntsOf(t: Tensor | null | undefined, role: string, allowInt64 = false): number[] {
  if (!t) throw new InvalidModelError(`missing ${role} tensor`);
  if (!t.data) throw new UnsupportedError(`${role} ${describeTensor(t)} must be a constant`);
  if (t.dtype === 'int32') return Array.from(t.data as Int32Array);
  if (t.dtype === 'int64' && allowInt64) {
    return Array.from(t.data as BigInt64Array, (v) => {
      if (v < -(2n ** 31n) || v >= 2n ** 31n) throw new InvalidModelError(`${role} value ${v} does not fit in 32 bits`);
      return Number(v);
    });
  }
  throw new UnsupportedError(`${role} ${describeTensor(t)} has type ${t.dtype}; supported: int32${allowInt64 ? ', int64' : ''}`);
}

/** An axis in [-rank, rank) mapped to [0, rank), as TFLite does; anything else is an invalid model. */
export function normalizeAxis(axis: number, rank: number, what: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new InvalidModelError(`${what} ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** Row-major element strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k]!;
  }
  return strides;
}

/**
 * `prepare` of the aliasing ops (reshape, squeeze, expand_dims): no kernel, the planner gives the output
 * the input's buffer. A constant input has no buffer to share, so an int8 constant is copied into the
 * output's own buffer once per inference (the reference passes constant data through either way).
 */
export function prepareAlias(ctx: PrepareContext<object>): Prepared<null> {
  const input = ctx.inputs[0];
  if (input?.data && input.dtype === 'int8') {
    const n = elementCount(input.shape);
    return { params: null, kernel: copyKernelCall(ctx, { dims: [n], strides: [1], offset: 0 }), scratchBytes: 0, macs: 0 };
  }
  return { params: null, kernel: null, scratchBytes: 0, macs: 0 };
}

/** Copies one tensor's elements into another of the same dtype and size (the aliasing ops' `evaluate`). */
export function copyTensorData(from: TensorData, to: TensorData): void {
  (to as unknown as { set(source: TensorData): void }).set(from);
}

/**
 * A strided gather: output element i (row-major over `dims`) is input[offset + sum_k idx_k * strides[k]].
 * Strides are in elements and may be negative (reversed slices).
 */
export interface StridedCopy {
  readonly dims: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/**
 * The same copy with size-1 dimensions dropped and adjacent dimensions merged wherever the outer one
 * steps exactly over the inner one (contiguous runs), so the kernel loops over as few, as long rows
 * as possible. Always at least one dimension.
 */
export function simplifyCopy(copy: StridedCopy): StridedCopy {
  const dims: number[] = [];
  const strides: number[] = [];
  copy.dims.forEach((d, k) => {
    if (d === 1) return;
    dims.push(d);
    strides.push(copy.strides[k]!);
  });
  // From the inside out: (outer d0 s0, inner d1 s1) -> (d0 * d1, s1) when s0 === s1 * d1.
  for (let k = dims.length - 2; k >= 0; k--) {
    if (strides[k] === strides[k + 1]! * dims[k + 1]!) {
      dims[k + 1] = dims[k]! * dims[k + 1]!;
      dims.splice(k, 1);
      strides.splice(k, 1);
    }
  }
  if (dims.length === 0) return { dims: [1], strides: [1], offset: copy.offset };
  return { dims, strides, offset: copy.offset };
}

/** Reference semantics of `copy_nd_s8`: writes the output sequentially. */
export function runStridedCopy(copy: StridedCopy, input: ArrayLike<number>, output: { [i: number]: number; length: number }): void {
  const rank = copy.dims.length;
  const count = elementCount(copy.dims);
  const idx = new Array<number>(rank).fill(0);
  let at = copy.offset;
  for (let o = 0; o < count; o++) {
    output[o] = input[at]!;
    // Odometer: advance the innermost index, carrying outwards.
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]!++;
      at += copy.strides[k]!;
      if (idx[k]! < copy.dims[k]!) break;
      at -= copy.strides[k]! * copy.dims[k]!;
      idx[k] = 0;
    }
  }
}

/**
 * The `copy_nd_s8` call for a (simplified) strided copy:
 * copy_nd_s8(input, output, rank, dims[rank], strides[rank], offset).
 */
export function copyKernelCall(ctx: PrepareContext<object>, copy: StridedCopy): KernelCall {
  if (copy.dims.length > MAX_KERNEL_RANK) {
    throw new UnsupportedError(`${describeNode(ctx.node as Node)}: ${copy.dims.length} dimensions that cannot be merged; at most ${MAX_KERNEL_RANK} are supported`);
  }
  return {
    name: 'copy_nd_s8',
    args: [
      arg.input(ctx, 0), arg.output(ctx), arg.int(copy.dims.length),
      arg.table('int32', copy.dims), arg.table('int32', copy.strides), arg.int(copy.offset),
    ],
  };
}
