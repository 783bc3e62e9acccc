/**
 * @fileoverview Gradient of average pooling (and of a spatial mean, a pool over the whole map): each output
 * gradient, divided by the number of valid taps of its window, is added to each of them. Kernel:
 * `average_pool2d_backprop_f32`.
 */
import type { Attrs } from '../../ir/graph.ts';
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import { f32 } from '../common/float32_math.ts';
import { requireDType, requireTensor } from '../common/checks.ts';

export interface PoolBackpropAttrs extends Attrs {
  readonly filterH: number;
  readonly filterW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padLeft: number;
}

interface PoolBackpropParams extends PoolBackpropAttrs {
  readonly batches: number;
  readonly inH: number;
  readonly inW: number;
  readonly channels: number;
  readonly outH: number;
  readonly outW: number;
}

/** NHWC dimensions of a 4-D tensor, or of a [N, C] one seen as N x 1 x 1 x C. */
function asNhwc(shape: readonly number[]): [number, number, number, number] {
  return shape.length === 4 ? (shape as [number, number, number, number]) : [shape[0]!, 1, 1, shape[shape.length - 1]!];
}

export const averagePool2dBackprop: OpDef<PoolBackpropAttrs, PoolBackpropParams> = {
  name: 'AveragePool2DBackprop',
  infer: () => {
    throw new Error('AveragePool2DBackprop is created with its output tensor by compiler/train');
  },
  prepare(ctx) {
    const dy = requireDType(ctx.inputs[0], ctx.node, 'output gradient', ['float32']);
    const dx = requireTensor(ctx.outputs[0], ctx.node, 'input gradient');
    const [batches, inH, inW, channels] = asNhwc(dx.shape);
    const [, outH, outW] = asNhwc(dy.shape);
    const a = ctx.node.attrs;
    const params = { ...a, batches, inH, inW, channels, outH, outW };
    return {
      params,
      kernel: {
        name: 'average_pool2d_backprop_f32',
        args: [arg.input(ctx, 0), arg.output(ctx), ...[batches, inH, inW, channels, outH, outW, a.filterH, a.filterW, a.strideH, a.strideW, a.padTop, a.padLeft].map(arg.int)],
      },
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
