/**
 * @fileoverview Gradient of CONCATENATION for one of its inputs: the slice of the output gradient where that input
 * was copied, `offset` positions along `axis`. (An input the forward pass requantized is refused by compiler/train.)
 * Kernel: `concatenation_backprop_f32`.
 */
import type { Attrs } from '../../ir/graph.ts';
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import { requireDType, requireTensor } from '../common/checks.ts';

export interface ConcatenationBackpropAttrs extends Attrs {
  /** Non-negative axis of the concatenation. */
  readonly axis: number;
  /** Where this input starts along the axis. */
  readonly offset: number;
}

interface ConcatenationBackpropParams {
  /** Product of the dimensions before the axis. */
  readonly outer: number;
  /** Elements per outer slice of the output gradient and of this input's gradient. */
  readonly dyRow: number;
  readonly dxRow: number;
  /** First element of this input's part in each outer slice of the output gradient. */
  readonly start: number;
}

export const concatenationBackprop: OpDef<ConcatenationBackpropAttrs, ConcatenationBackpropParams> = {
  name: 'ConcatenationBackprop',
  infer: () => {
    throw new Error('ConcatenationBackprop is created with its output tensor by compiler/train');
  },
  prepare(ctx) {
    const dy = requireDType(ctx.inputs[0], ctx.node, 'output gradient', ['float32']);
    const dx = requireTensor(ctx.outputs[0], ctx.node, 'input gradient');
    const { axis, offset } = ctx.node.attrs;
    const inner = dx.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const params = {
      outer: dx.shape.slice(0, axis).reduce((a, b) => a * b, 1),
      dyRow: dy.shape[axis]! * inner,
      dxRow: dx.shape[axis]! * inner,
      start: offset * inner,
    };
    return {
      params,
      kernel: {
        name: 'concatenation_backprop_f32',
        args: [arg.input(ctx, 0), arg.output(ctx), ...[params.outer, params.dyRow, params.dxRow, params.start].map(arg.int)],
      },
      scratchBytes: 0,
      macs: 0,
    };
  },
  evaluate(p, [dyData], [dxData]) {
    const dy = dyData as Float32Array;
    const dx = dxData as Float32Array;
    for (let o = 0; o < p.outer; o++) dx.set(dy.subarray(o * p.dyRow + p.start, o * p.dyRow + p.start + p.dxRow), o * p.dxRow);
  },
};
