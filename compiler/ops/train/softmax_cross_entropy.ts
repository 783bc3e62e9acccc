/**
 * @fileoverview The loss of a training step: softmax cross-entropy of the int8 logits (dequantized) against a label,
 * and its gradient with respect to the real logits, softmax - one_hot. Float32 throughout, with tinyforge's own
 * exp and log so that every backend computes the same bits. Kernel: `softmax_cross_entropy_f32`.
 */
import { elementCount } from '../../ir/graph.ts';
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import { expF32, f32, floatBits, logF32 } from '../common/float32_math.ts';
import { scaleOf, zeroPointOf } from '../common/quant.ts';
import { requireDType, requireInt8 } from '../common/checks.ts';

export interface SoftmaxCrossEntropyParams {
  readonly classes: number;
  readonly scale: number;
  readonly zeroPoint: number;
}

export const softmaxCrossEntropy: OpDef<object, SoftmaxCrossEntropyParams> = {
  name: 'SoftmaxCrossEntropy',

  infer([logits]) {
    return [
      { shape: [1], dtype: 'float32' },
      { shape: logits!.shape, dtype: 'float32' },
    ];
  },

  prepare(ctx) {
    const logits = requireInt8(ctx.inputs[0], ctx.node, 'logits');
    requireDType(ctx.inputs[1], ctx.node, 'label', ['int32']);
    const params = { classes: elementCount(logits.shape), scale: f32(scaleOf(logits)), zeroPoint: zeroPointOf(logits) };
    return {
      params,
      kernel: {
        name: 'softmax_cross_entropy_f32',
        args: [arg.input(ctx, 0), arg.input(ctx, 1), arg.output(ctx, 0), arg.output(ctx, 1), arg.int(params.classes), arg.int(floatBits(params.scale)), arg.int(params.zeroPoint)],
      },
      scratchBytes: 0,
      macs: 0,
    };
  },

  evaluate(p, [logits, label], [loss, grad]) {
    const q = logits as Int8Array;
    const g = grad as Float32Array;
    const target = (label as Int32Array)[0]!;
    const real = Array.from(q, (v) => f32((v - p.zeroPoint) * p.scale));
    const max = real.reduce((m, v) => (v > m ? v : m), -Infinity);
    let sum = 0;
    for (let i = 0; i < p.classes; i++) {
      g[i] = expF32(f32(real[i]! - max));
      sum = f32(sum + g[i]!);
    }
    for (let i = 0; i < p.classes; i++) g[i] = f32(f32(g[i]! / sum) - (i === target ? 1 : 0));
    (loss as Float32Array)[0] = f32(logF32(sum) - f32(real[target]! - max));
  },
};
