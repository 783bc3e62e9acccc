/**
 * @fileoverview MEAN, int8, over constant axes (TFLM reduce_common.cc EvalMeanHelper / EvalIntegerMean):
 * - input and output quantization equal (same float32 scale and zero point): reference_ops::Mean, the
 *   raw int8 values summed in int32 and divided by the element count with C's truncating division;
 * - otherwise reference_ops::QuantizedMeanOrSum: (sum - zp_in * count) requantized by QuantizeMultiplier
 *   (s_in / s_out) with 1/count folded into the multiplier at compile time (multiplier << k / count,
 *   shift - k, k = min(floor(log2 count), 32, 31 + shift)), plus zp_out, saturated to int8.
 * The spatial mean of NHWC tensors (axes 1 and 2) is the common case; it takes the same path (recent TFLM
 * has no special 4-D kernel for int8 any more). Kernel: `mean_s8`.
 */
import type { Node, Tensor } from '../ir/graph.ts';
import { describeNode, describeTensor, elementCount } from '../ir/graph.ts';
import type { TensorData } from '../ir/dtype.ts';
import { InvalidModelError, UnsupportedError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { arg } from './op.ts';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, saturate } from './common/fixed_point.ts';
import { INT8_MAX, INT8_MIN, scaleOf, zeroPointOf } from './common/quant.ts';
import { requireDType, requireInt8 } from './common/checks.ts';
import { constantIntsOf, normalizeAxis, stridesOf } from './common/shape.ts';

export interface MeanAttrs {
  readonly keepDims: boolean;
}

export interface MeanParams {
  readonly inShape: readonly number[];
  /** Reduced axes, resolved (non-negative, no duplicates). */
  readonly axes: readonly number[];
  /** Elements summed into each output. */
  readonly count: number;
  /** false: equal quantization, truncating division; true: requantization with the folded multiplier. */
  readonly requantize: boolean;
  readonly inputZeroPoint: number;
  readonly multiplier: number;
  readonly shift: number;
  readonly outputZeroPoint: number;
}

/** Loop levels of `mean_s8`: up to 3 kept (output) groups outside, up to 3 reduced groups inside. */
const KEPT_LEVELS = 3;
const REDUCED_LEVELS = 3;

/** TFLite ResolveAxis: negative axes wrapped, duplicates dropped, order kept. */
function resolveAxes(axis: readonly number[], rank: number): number[] {
  const out: number[] = [];
  for (const a of axis) {
    const k = normalizeAxis(a, rank, 'mean axis');
    if (!out.includes(k)) out.push(k);
  }
  return out;
}

function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, k) => (axes.includes(k) ? 1 : d)) : shape.filter((_, k) => !axes.includes(k));
}

/**
 * QuantizedMeanOrSum's folding of 1/count into the multiplier (int64 arithmetic, hence BigInt):
 * k = min(63 - clz64(count), 32, 31 + shift); multiplier = (multiplier << k) / count; shift -= k.
 */
export function foldMeanMultiplier(multiplier: number, shift: number, count: number): { multiplier: number; shift: number } {
  let k = Math.floor(Math.log2(count));
  while (2 ** (k + 1) <= count) k++;
  while (2 ** k > count) k--;
  k = Math.min(k, 32, 31 + shift);
  const folded = (BigInt(multiplier) << BigInt(k)) / BigInt(count);
  return { multiplier: Number(BigInt.asIntN(32, folded)), shift: shift - k };
}

/**
 * The kernel's loop nest: input dimensions of size 1 dropped, neighbours that are both kept or both
 * reduced merged; kept groups (in order) become the outer levels, reduced groups the inner ones, each
 * with its input element stride. Padded with size-1 levels at the outside.
 */
function meanLoopNest(shape: readonly number[], axes: readonly number[], node: Node): { dims: number[]; strides: number[] } {
  const strides = stridesOf(shape);
  const groups: { reduced: boolean; dim: number; stride: number }[] = [];
  shape.forEach((d, k) => {
    if (d === 1) return;
    const reduced = axes.includes(k);
    const last = groups[groups.length - 1];
    // Row-major: the outer neighbour's stride is the inner one's times its size, so merged = (d0 * d1, stride1).
    if (last && last.reduced === reduced) {
      last.dim *= d;
      last.stride = strides[k]!;
    } else {
      groups.push({ reduced, dim: d, stride: strides[k]! });
    }
  });
  const kept = groups.filter((g) => !g.reduced);
  const reduced = groups.filter((g) => g.reduced);
  if (kept.length > KEPT_LEVELS || reduced.length > REDUCED_LEVELS) {
    throw new UnsupportedError(
      `${describeNode(node)}: mean over axes [${axes.join(', ')}] of a [${shape.join('x')}] tensor needs ${kept.length} kept and ` +
        `${reduced.length} reduced loop levels; at most ${KEPT_LEVELS} of each are supported`,
    );
  }
  const pad = (gs: typeof groups, n: number) => [...new Array(n - gs.length).fill({ dim: 1, stride: 0 }), ...gs] as { dim: number; stride: number }[];
  const levels = [...pad(kept, KEPT_LEVELS), ...pad(reduced, REDUCED_LEVELS)];
  return { dims: levels.map((g) => g.dim), strides: levels.map((g) => g.stride) };
}

function axesOf(axis: Tensor | null | undefined, rank: number): number[] {
  return resolveAxes(constantIntsOf(axis, 'mean axis'), rank);
}

export const mean: OpDef<MeanAttrs, MeanParams> = {
  name: 'Mean',
  tflite: {
    code: 40,
    optionsType: 27,
    attrs: (o) => ({ keepDims: Boolean(o['keep_dims']) }),
    options: (a) => ({ keep_dims: a.keepDims }),
  },

  infer([input, axis], attrs) {
    if (!input) throw new InvalidModelError('mean needs an input');
    if (input.shape.length === 0) throw new UnsupportedError(`mean of a scalar ${describeTensor(input)} is not supported`);
    return [{ shape: reducedShape(input.shape, axesOf(axis, input.shape.length), attrs.keepDims), dtype: 'int8' }];
  },

  prepare(ctx) {
    const node = ctx.node as Node;
    const input = requireInt8(ctx.inputs[0], ctx.node, 'input');
    const output = requireInt8(ctx.outputs[0], ctx.node, 'output');
    const axisTensor = requireDType(ctx.inputs[1], ctx.node, 'axis', ['int32']);
    const [outType] = mean.infer([input, axisTensor], ctx.node.attrs);
    if (output.shape.join() !== outType!.shape.join()) {
      throw new InvalidModelError(`${describeNode(node)}: output ${describeTensor(output)} should be [${outType!.shape.join('x')}]`);
    }
    const axes = axesOf(axisTensor, input.shape.length);
    const count = axes.reduce((n, k) => n * input.shape[k]!, 1);
    if (count === 0 || elementCount(input.shape) === 0) throw new UnsupportedError(`${describeNode(node)}: mean of an empty tensor is not supported`);
    const [sIn, sOut] = [scaleOf(input), scaleOf(output)];
    const [zpIn, zpOut] = [zeroPointOf(input), zeroPointOf(output)];
    if (!(sIn > 0) || !(sOut > 0)) throw new InvalidModelError(`${describeNode(node)}: mean scales must be positive (input ${sIn}, output ${sOut})`);
    // EvalIntegerMean compares the float32 scales exactly.
    const requantize = !(zpIn === zpOut && Math.fround(sIn) === Math.fround(sOut));
    // PrepareMeanOrSumHelper: QuantizeMultiplier(double(s_in) / double(s_out)), then folded at Eval time.
    const q = quantizeMultiplier(Math.fround(sIn) / Math.fround(sOut));
    const folded = foldMeanMultiplier(q.multiplier, q.shift, count);
    const params: MeanParams = {
      inShape: input.shape, axes, count, requantize, inputZeroPoint: zpIn,
      multiplier: folded.multiplier, shift: folded.shift, outputZeroPoint: zpOut,
    };
    const nest = meanLoopNest(input.shape, axes, node);
    return {
      params,
      kernel: {
        name: 'mean_s8',
        args: [
          arg.input(ctx, 0), arg.output(ctx), arg.table('int32', nest.dims), arg.table('int32', nest.strides), arg.int(count),
          arg.int(requantize ? 1 : 0), arg.int(-zpIn * count), arg.int(folded.multiplier), arg.int(folded.shift), arg.int(zpOut),
        ],
      },
      scratchBytes: 0,
      macs: 0,
    };
  },

  /** TFLM's two-stage form: sum into an int32 buffer per output (row-major input walk), then finish each output. */
  evaluate(p, [input]: readonly (TensorData | null)[], [output]: readonly TensorData[]) {
    const x = input as Int8Array;
    const y = output as Int8Array;
    const rank = p.inShape.length;
    // Output offset of an input index: row-major over the input shape with the reduced axes left out.
    const outStrides = new Array<number>(rank).fill(0);
    let s = 1;
    for (let k = rank - 1; k >= 0; k--) {
      if (p.axes.includes(k)) continue;
      outStrides[k] = s;
      s *= p.inShape[k]!;
    }
    const sums = new Int32Array(y.length);
    const idx = new Array<number>(rank).fill(0);
    let o = 0;
    for (let i = 0; i < x.length; i++) {
      sums[o] = (sums[o]! + x[i]!) | 0;
      for (let k = rank - 1; k >= 0; k--) {
        idx[k]!++;
        o += outStrides[k]!;
        if (idx[k]! < p.inShape[k]!) break;
        o -= outStrides[k]! * p.inShape[k]!;
        idx[k] = 0;
      }
    }
    for (let j = 0; j < y.length; j++) {
      if (!p.requantize) {
        y[j] = Math.trunc(sums[j]! / p.count);
      } else {
        const shifted = (sums[j]! - p.inputZeroPoint * p.count) | 0;
        const v = multiplyByQuantizedMultiplier(shifted, p.multiplier, p.shift, 'double') + p.outputZeroPoint;
        y[j] = saturate(v, INT8_MIN, INT8_MAX);
      }
    }
  },
};
