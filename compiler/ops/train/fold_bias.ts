/**
 * @fileoverview Right before a trained layer runs forward, computes what its kernel reads from its current weights
 * and bias: the folded bias, bias + input_offset * sum of the channel's weights (output 0), and for a depthwise
 * layer the bias itself (output 1), both with the bias saturated so the int32 accumulator cannot overflow
 * (common/bias.ts and the conv-like ops do the same at compile time for frozen layers). Both are short-lived arena
 * tensors, not trainable state. A layer split by a partial update (split_conv.ts) has the first `keep` weights of
 * each row in input 0, the rest in the frozen tail (input 2). The kernel gets the per-row sums of the weights that do
 * not train as compile-time tables: the tail's, or all of input 0's where it is a constant (a bias-only depthwise
 * layer), and then sums none itself. Kernel: `fold_bias_s8`.
 */
import type { Attrs, Tensor } from '../../ir/graph.ts';
import { elementCount, isState } from '../../ir/graph.ts';
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import { requireConstant, requireDType, requireInt8 } from '../common/checks.ts';

const INT32_MAX = 2 ** 31 - 1;

export interface FoldBiasAttrs extends Attrs {
  readonly depthwise: boolean;
  readonly inputOffset: number;
  /** Largest |x + input_offset| of the int8 input. */
  readonly maxInput: number;
}

export interface FoldBiasParams extends FoldBiasAttrs {
  readonly channels: number;
  readonly taps: number;
  /** Weights of each row in input 0; the other taps - keep are in the tail. */
  readonly keep: number;
}

/** Sum of term(w) over channel c's weights: depthwise [taps, channels], else [channels, taps]. */
function channelSum(w: Tensor, channels: number, depthwise: boolean, c: number, term: (v: number) => number): number {
  const data = w.data as Int8Array;
  const taps = data.length / channels;
  let sum = 0;
  for (let t = 0; t < taps; t++) sum += term(data[depthwise ? t * channels + c : c * taps + t]!);
  return sum;
}

export const foldBias: OpDef<FoldBiasAttrs, FoldBiasParams> = {
  name: 'FoldBias',
  infer: ([, bias], { depthwise }) => {
    const out = { shape: bias!.shape, dtype: 'int32' as const };
    return depthwise ? [out, out] : [out];
  },
  prepare(ctx) {
    const w = requireInt8(ctx.inputs[0], ctx.node, 'weights');
    requireDType(ctx.inputs[1], ctx.node, 'bias', ['int32']);
    const { depthwise, inputOffset, maxInput } = ctx.node.attrs;
    const tail = ctx.inputs[2] ? requireConstant(requireInt8(ctx.inputs[2], ctx.node, 'frozen weights'), ctx.node, 'frozen weights') : null;
    const channels = depthwise ? w.shape[w.shape.length - 1]! : w.shape[0]!;
    const keep = elementCount(w.shape) / channels;
    const rest = tail ? elementCount(tail.shape) / channels : 0;
    const frozen = w.data !== null && !isState(ctx.graph, ctx.node.inputs[0]!);
    const summed = [...(frozen ? [{ weights: w, depthwise }] : []), ...(tail ? [{ weights: tail, depthwise: false }] : [])];
    const table = (term: (v: number) => number) =>
      summed.length > 0
        ? arg.table('int32', Array.from({ length: channels }, (_, c) => summed.reduce((s, part) => s + channelSum(part.weights, channels, part.depthwise, c, term), 0)))
        : arg.absent('int32', false);
    return {
      params: { depthwise, inputOffset, maxInput, channels, taps: keep + rest, keep },
      kernel: {
        name: 'fold_bias_s8',
        args: [
          frozen ? arg.absent('int8', false) : arg.input(ctx, 0), table((v) => v), table(Math.abs), arg.input(ctx, 1),
          depthwise ? arg.output(ctx, 1) : arg.absent('int32', true), arg.output(ctx, 0),
          ...[channels, frozen ? 0 : keep, depthwise ? 1 : 0, inputOffset, maxInput].map(arg.int),
        ],
      },
      scratchBytes: 0,
      macs: 0,
    };
  },
  evaluate(p, [wData, biasData, tailData], [foldedData, saturatedData]) {
    const w = wData as Int8Array;
    const tail = tailData as Int8Array | null | undefined;
    const bias = biasData as Int32Array;
    const folded = foldedData as Int32Array;
    const rest = p.taps - p.keep;
    for (let c = 0; c < p.channels; c++) {
      let sum = 0;
      let sumAbs = 0;
      for (let t = 0; t < p.taps; t++) {
        const v = p.depthwise ? w[t * p.channels + c]! : t < p.keep ? w[c * p.keep + t]! : tail![c * rest + t - p.keep]!;
        sum += v;
        sumAbs += Math.abs(v);
      }
      const limit = INT32_MAX - sumAbs * p.maxInput;
      const b = Math.min(limit, Math.max(-limit, bias[c]!));
      if (saturatedData) (saturatedData as Int32Array)[c] = b;
      folded[c] = b + p.inputOffset * sum;
    }
  },
};
