/** @fileoverview Sums the gradients of a tensor that feeds two consumers (a residual block's input). Kernel: `add_f32`. */
import { elementCount } from '../../ir/graph.ts';
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import { f32 } from '../common/float32_math.ts';
import { requireDType } from '../common/checks.ts';

export const addGradients: OpDef<object, { readonly count: number }> = {
  name: 'AddGradients',
  inPlace: true,
  infer: ([a]) => [{ shape: a!.shape, dtype: 'float32' }],
  prepare(ctx) {
    const a = requireDType(ctx.inputs[0], ctx.node, 'gradient', ['float32']);
    requireDType(ctx.inputs[1], ctx.node, 'gradient', ['float32']);
    const count = elementCount(a.shape);
    return {
      params: { count },
      kernel: { name: 'add_f32', args: [arg.input(ctx, 0), arg.input(ctx, 1), arg.output(ctx), arg.int(count)] },
      scratchBytes: 0,
      macs: 0,
    };
  },
  evaluate(p, [a, b], [out]) {
    const x = a as Float32Array;
    const y = b as Float32Array;
    const o = out as Float32Array;
    for (let i = 0; i < p.count; i++) o[i] = f32(x[i]! + y[i]!);
  },
};
