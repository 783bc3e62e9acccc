/**
 * @fileoverview Gradient of PAD / PADV2: the padded elements are constants, so the input gradient is the output
 * gradient cropped to where the input sits. Inputs: the output gradient and the pad's paddings. Kernel:
 * `pad_backprop_f32`.
 */
import type { Attrs } from '../../ir/graph.ts';
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import type { PadDims } from '../pad.ts';
import { forEachPaddedElement, padDimsOf, padKernelArgs } from '../pad.ts';
import { requireConstant, requireDType, requireTensor } from '../common/checks.ts';

export const padBackprop: OpDef<Attrs, PadDims> = {
  name: 'PadBackprop',
  infer: () => {
    throw new Error('PadBackprop is created with its output tensor by compiler/train');
  },
  prepare(ctx) {
    requireDType(ctx.inputs[0], ctx.node, 'output gradient', ['float32']);
    const dx = requireTensor(ctx.outputs[0], ctx.node, 'input gradient');
    const dims = padDimsOf(dx, requireConstant(ctx.inputs[1], ctx.node, 'paddings'));
    return {
      params: dims,
      kernel: { name: 'pad_backprop_f32', args: [arg.input(ctx, 0), arg.output(ctx), ...padKernelArgs(dims, ctx.node)] },
      scratchBytes: 0,
      macs: 0,
    };
  },
  evaluate(p, [dyData], [dxData]) {
    const dy = dyData as Float32Array;
    const dx = dxData as Float32Array;
    let write = 0;
    forEachPaddedElement(p, (o, inside) => {
      if (inside) dx[write++] = dy[o]!;
    });
  },
};
