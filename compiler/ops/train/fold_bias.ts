/**
 * @fileoverview After a layer's parameters changed, recomputes what its forward kernel reads: the bias saturated
 * so the int32 accumulator cannot overflow, and the folded bias, bias + input_offset * sum of the channel's
 * weights (common/bias.ts and the conv-like ops do the same at compile time for frozen layers). Kernel: `fold_bias_s8`.
 */
import type { Attrs } from '../../ir/graph.ts';
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import { requireDType, requireInt8 } from '../common/checks.ts';

const INT32_MAX = 2 ** 31 - 1;

export interface FoldBiasAttrs extends Attrs {
  readonly depthwise: boolean;
  readonly inputOffset: number;
  /** Largest |x + input_offset| of the int8 input. */
  readonly maxInput: number;
}

interface FoldBiasParams extends FoldBiasAttrs {
  readonly channels: number;
  readonly taps: number;
}

export const foldBias: OpDef<FoldBiasAttrs, FoldBiasParams> = {
  name: 'FoldBias',
  infer: () => [],
  prepare(ctx) {
    const w = requireInt8(ctx.inputs[0], ctx.node, 'weights');
    requireDType(ctx.inputs[1], ctx.node, 'bias', ['int32']);
    requireDType(ctx.inputs[3], ctx.node, 'folded bias', ['int32']);
    const { depthwise, inputOffset, maxInput } = ctx.node.attrs;
    const channels = depthwise ? w.shape[w.shape.length - 1]! : w.shape[0]!;
    const taps = w.shape.reduce((a, b) => a * b, 1) / channels;
    const saturated = ctx.node.inputs[2]! >= 0 ? arg.updated(ctx, 2) : arg.absent('int32', true);
    return {
      params: { depthwise, inputOffset, maxInput, channels, taps },
      kernel: {
        name: 'fold_bias_s8',
        args: [arg.input(ctx, 0), arg.input(ctx, 1), saturated, arg.updated(ctx, 3), ...[channels, taps, depthwise ? 1 : 0, inputOffset, maxInput].map(arg.int)],
      },
      scratchBytes: 0,
      macs: 0,
    };
  },
  evaluate(p, [wData, biasData, saturatedData, foldedData]) {
    const w = wData as Int8Array;
    const bias = biasData as Int32Array;
    const folded = foldedData as Int32Array;
    for (let c = 0; c < p.channels; c++) {
      let sum = 0;
      let sumAbs = 0;
      for (let t = 0; t < p.taps; t++) {
        const v = w[p.depthwise ? t * p.channels + c : c * p.taps + t]!;
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
