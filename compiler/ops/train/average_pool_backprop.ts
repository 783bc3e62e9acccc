/**
 * @fileoverview Gradient of average pooling (and of a spatial mean, a pool over the whole map): each output
 * gradient, divided by the number of valid taps of its window, is added to each of them. Kernel:
 * `average_pool2d_backprop_f32`.
 */
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import { f32 } from '../common/float32_math.ts';
import { requireDType, requireTensor } from '../common/checks.ts';
import type { PoolDims, PoolWindowAttrs } from './geometry.ts';
import { poolDims, poolKernelInts } from './geometry.ts';

export const averagePool2dBackprop: OpDef<PoolWindowAttrs, PoolDims & PoolWindowAttrs> = {
  name: 'AveragePool2DBackprop',
  infer: () => {
    throw new Error('AveragePool2DBackprop is created with its output tensor by compiler/train');
  },
  prepare(ctx) {
    const dy = requireDType(ctx.inputs[0], ctx.node, 'output gradient', ['float32']);
    const dx = requireTensor(ctx.outputs[0], ctx.node, 'input gradient');
    const params = { ...ctx.node.attrs, ...poolDims(dx, dy) };
    return {
      params,
      kernel: { name: 'average_pool2d_backprop_f32', args: [arg.input(ctx, 0), arg.output(ctx), ...poolKernelInts(params).map(arg.int)] },
      scratchBytes: 0,
      macs: 0,
    };
  },
  evaluate(p, [dyData], [dxData]) {
    const dy = dyData as Float32Array;
    const dx = dxData as Float32Array;
    dx.fill(0);
    let at = 0;
    for (let n = 0; n < p.batches; n++) {
      for (let oy = 0; oy < p.outH; oy++) {
        const y0 = Math.max(0, oy * p.strideH - p.padTop);
        const y1 = Math.min(p.inH, oy * p.strideH - p.padTop + p.filterH);
        for (let ox = 0; ox < p.outW; ox++) {
          const x0 = Math.max(0, ox * p.strideW - p.padLeft);
          const x1 = Math.min(p.inW, ox * p.strideW - p.padLeft + p.filterW);
          const count = (y1 - y0) * (x1 - x0);
          for (let c = 0; c < p.channels; c++) {
            const g = f32(dy[at++]! / count);
            for (let iy = y0; iy < y1; iy++) {
              for (let ix = x0; ix < x1; ix++) {
                const i = ((n * p.inH + iy) * p.inW + ix) * p.channels + c;
                dx[i] = f32(dx[i]! + g);
              }
            }
          }
        }
      }
    }
  },
};
