/**
 * @fileoverview STRIDED_SLICE, int8, with TFLite's index semantics (strided_slice_logic.h):
 * per axis, StartForAxis / StopForAxis resolve negative indices, clamp to the axis ([0, size] going
 * forwards, [-1, size - 1] going backwards) and apply begin_mask / end_mask; shrink_axis_mask
 * keeps the single element at begin and drops the axis. begin, end and strides are constant
 * inputs with one entry per input dimension. ellipsis_mask, new_axis_mask and offset are refused.
 * Runs on the strided copy kernel `copy_nd_s8`.
 */
import type { Tensor } from '../ir/graph.ts';
import { describeTensor, elementCount } from '../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { requireConstant, requireInt8 } from './common/checks.ts';
import type { StridedCopy } from './common/shape.ts';
import { constantIntsOf, copyKernelCall, runStridedCopy, simplifyCopy, stridesOf } from './common/shape.ts';

export interface StridedSliceAttrs {
  readonly beginMask: number;
  readonly endMask: number;
  readonly ellipsisMask: number;
  readonly newAxisMask: number;
  readonly shrinkAxisMask: number;
  /** StridedSliceOptions.offset (end is relative to begin); not supported. */
  readonly offset: boolean;
}

export interface StridedSliceParams {
  /** The gather on the model's own dimensions (shrunk axes included, with size 1). */
  readonly copy: StridedCopy;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const clamp = (v: number, lo: number, hi: number): number => (v > hi ? hi : v < lo ? lo : v);

/** tflite::strided_slice::StartForAxis. */
function startForAxis(begin: number, stride: number, size: number, masked: boolean): number {
  let start = masked ? (stride > 0 ? INT32_MIN : INT32_MAX) : begin;
  if (start < 0) start += size;
  return stride > 0 ? clamp(start, 0, size) : clamp(start, -1, size - 1);
}

/** tflite::strided_slice::StopForAxis (shrunk axes are handled by the caller). */
function stopForAxis(end: number, stride: number, size: number, masked: boolean): number {
  let stop = masked ? (stride > 0 ? INT32_MAX : INT32_MIN) : end;
  if (stop < 0) stop += size;
  return stride > 0 ? clamp(stop, 0, size) : clamp(stop, -1, size - 1);
}

interface Slice {
  /** Per input axis: first index, step and element count. */
  readonly starts: number[];
  readonly steps: number[];
  readonly counts: number[];
  readonly outShape: number[];
}

function resolveSlice(input: Tensor, ins: readonly (Tensor | null)[], attrs: StridedSliceAttrs): Slice {
  if (attrs.ellipsisMask !== 0) throw new UnsupportedError(`strided slice ellipsis_mask ${attrs.ellipsisMask} is not supported`);
  if (attrs.newAxisMask !== 0) throw new UnsupportedError(`strided slice new_axis_mask ${attrs.newAxisMask} is not supported`);
  if (attrs.offset) throw new UnsupportedError('strided slice offset = true is not supported');
  const rank = input.shape.length;
  const begin = constantIntsOf(ins[1], 'begin');
  const end = constantIntsOf(ins[2], 'end');
  const strides = constantIntsOf(ins[3], 'strides');
  for (const [name, v] of [['begin', begin], ['end', end], ['strides', strides]] as const) {
    if (v.length !== rank) throw new UnsupportedError(`strided slice ${name} has ${v.length} entries; one per dimension of ${describeTensor(input)} (${rank}) is required`);
  }
  const slice: Slice = { starts: [], steps: [], counts: [], outShape: [] };
  for (let k = 0; k < rank; k++) {
    const size = input.shape[k]!;
    const stride = strides[k]!;
    if (stride === 0) throw new InvalidModelError(`strided slice stride of dimension ${k} is 0`);
    const shrink = (attrs.shrinkAxisMask & (1 << k)) !== 0;
    const start = startForAxis(begin[k]!, stride, size, (attrs.beginMask & (1 << k)) !== 0);
    let count: number;
    if (shrink) {
      // TFLite keeps one element at `start`; it writes nothing when start is outside the axis or
      // the stride is negative, so such slices are refused rather than reproduced.
      if (start < 0 || start >= size) throw new InvalidModelError(`strided slice shrinks dimension ${k} at index ${begin[k]}, outside [${-size}, ${size})`);
      if (stride < 0) throw new InvalidModelError(`strided slice shrinks dimension ${k} with negative stride ${stride}`);
      count = 1;
    } else {
      const stop = stopForAxis(end[k]!, stride, size, (attrs.endMask & (1 << k)) !== 0);
      // ceil((stop - start) / stride), never negative: the number of iterations of TFLite's loop.
      count = Math.max(0, stride > 0 ? Math.ceil((stop - start) / stride) : Math.ceil((start - stop) / -stride));
      slice.outShape.push(count);
    }
    slice.starts.push(start);
    slice.steps.push(stride);
    slice.counts.push(count);
  }
  if (elementCount(slice.counts) === 0) throw new UnsupportedError(`strided slice of ${describeTensor(input)} is empty`);
  return slice;
}

export const stridedSlice: OpDef<StridedSliceAttrs, StridedSliceParams> = {
  name: 'StridedSlice',
  tflite: {
    code: 45,
    optionsType: 32,
    attrs: (o) => ({
      beginMask: Number(o['begin_mask'] ?? 0),
      endMask: Number(o['end_mask'] ?? 0),
      ellipsisMask: Number(o['ellipsis_mask'] ?? 0),
      newAxisMask: Number(o['new_axis_mask'] ?? 0),
      shrinkAxisMask: Number(o['shrink_axis_mask'] ?? 0),
      offset: Boolean(o['offset'] ?? false),
    }),
    options: (a) => ({
      begin_mask: a.beginMask,
      end_mask: a.endMask,
      ellipsis_mask: a.ellipsisMask,
      new_axis_mask: a.newAxisMask,
      shrink_axis_mask: a.shrinkAxisMask,
      offset: a.offset,
    }),
  },

  infer(inputs, attrs) {
    const input = inputs[0];
    if (!input) throw new InvalidModelError('strided slice needs an input');
    return [{ shape: resolveSlice(input, inputs, attrs).outShape, dtype: input.dtype }];
  },

  prepare(ctx) {
    const x = requireInt8(ctx.inputs[0], ctx.node, 'input');
    requireInt8(ctx.outputs[0], ctx.node, 'output');
    ['begin', 'end', 'strides'].forEach((role, i) => requireConstant(ctx.inputs[i + 1], ctx.node, role));
    const slice = resolveSlice(x, ctx.inputs, ctx.node.attrs);
    const inStrides = stridesOf(x.shape);
    const copy: StridedCopy = {
      dims: slice.counts,
      strides: slice.steps.map((s, k) => s * inStrides[k]!),
      offset: slice.starts.reduce((a, s, k) => a + s * inStrides[k]!, 0),
    };
    return { params: { copy }, kernel: copyKernelCall(ctx, simplifyCopy(copy)), scratchBytes: 0, macs: 0 };
  },

  evaluate(p, [input], [output]) {
    runStridedCopy(p.copy, input as Int8Array, output as Int8Array);
  },
};
