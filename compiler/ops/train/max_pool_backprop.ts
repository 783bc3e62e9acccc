/**
 * @fileoverview Gradient of max pooling. The forward pass saves, per output element, which tap of its window held
 * the maximum (`MaxPoolArgmax`: the first in row-major window order among equal values, as TensorFlow's and tfjs'
 * gradients pick it; padding never wins), one byte per output element instead of the whole input. The backward
 * pass adds each output gradient to that input element (`MaxPool2DBackprop`), outputs in ascending order.
 * Kernels: `max_pool2d_argmax_s8`, `max_pool2d_backprop_f32`.
 */
import { describeNode, elementCount } from '../../ir/graph.ts';
import { UnsupportedError } from '../../errors.ts';
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import { f32 } from '../common/float32_math.ts';
import { requireDType, requireInt8, requireTensor } from '../common/checks.ts';
import type { PoolDims, PoolWindowAttrs } from './geometry.ts';
import { poolDims, poolKernelInts } from './geometry.ts';

type MaxPoolGradientParams = PoolDims & PoolWindowAttrs;

/** Visits each output element's window: its flat input index at tap t = fy * filterW + fx, or -1 off the image. */
function forEachWindow(p: MaxPoolGradientParams, visit: (output: number, inputAt: (tap: number) => number) => void): void {
  let at = 0;
  for (let n = 0; n < p.batches; n++) {
    for (let oy = 0; oy < p.outH; oy++) {
      for (let ox = 0; ox < p.outW; ox++) {
        for (let c = 0; c < p.channels; c++) {
          const y0 = oy * p.strideH - p.padTop;
          const x0 = ox * p.strideW - p.padLeft;
          visit(at++, (tap) => {
            const iy = y0 + Math.floor(tap / p.filterW);
            const ix = x0 + (tap % p.filterW);
            return iy < 0 || iy >= p.inH || ix < 0 || ix >= p.inW ? -1 : ((n * p.inH + iy) * p.inW + ix) * p.channels + c;
          });
        }
      }
    }
  }
}

export const maxPoolArgmax: OpDef<PoolWindowAttrs, MaxPoolGradientParams> = {
  name: 'MaxPoolArgmax',
  infer: () => {
    throw new Error('MaxPoolArgmax is created with its output tensor by compiler/train');
  },
  prepare(ctx) {
    const x = requireInt8(ctx.inputs[0], ctx.node, 'pooled input');
    const argmax = requireDType(ctx.outputs[0], ctx.node, 'argmax', ['uint8']);
    const a = ctx.node.attrs;
    if (a.filterH * a.filterW > 256) {
      throw new UnsupportedError(`${describeNode(ctx.node)}: training takes gradients through max pools of at most 256 taps; this window has ${a.filterH * a.filterW}`);
    }
    const params = { ...a, ...poolDims(x, argmax) };
    return {
      params,
      kernel: { name: 'max_pool2d_argmax_s8', args: [arg.input(ctx, 0), arg.output(ctx), ...poolKernelInts(params).map(arg.int)] },
      scratchBytes: 0,
      macs: 0,
    };
  },
  evaluate(p, [xData], [argmaxData]) {
    const x = xData as Int8Array;
    const argmax = argmaxData as Uint8Array;
    forEachWindow(p, (o, inputAt) => {
      let best = 0;
      let max = -Infinity;
      for (let t = 0; t < p.filterH * p.filterW; t++) {
        const i = inputAt(t);
        if (i >= 0 && x[i]! > max) {
          max = x[i]!;
          best = t;
        }
      }
      argmax[o] = best;
    });
  },
};

export const maxPool2dBackprop: OpDef<PoolWindowAttrs, MaxPoolGradientParams> = {
  name: 'MaxPool2DBackprop',
  infer: () => {
    throw new Error('MaxPool2DBackprop is created with its output tensor by compiler/train');
  },
  prepare(ctx) {
    const dy = requireDType(ctx.inputs[0], ctx.node, 'output gradient', ['float32']);
    const argmax = requireDType(ctx.inputs[1], ctx.node, 'argmax', ['uint8']);
    const dx = requireTensor(ctx.outputs[0], ctx.node, 'input gradient');
    if (elementCount(argmax.shape) !== elementCount(dy.shape)) throw new Error(`${describeNode(ctx.node)}: one argmax per output gradient element`);
    const params = { ...ctx.node.attrs, ...poolDims(dx, dy) };
    return {
      params,
      kernel: { name: 'max_pool2d_backprop_f32', args: [arg.input(ctx, 0), arg.input(ctx, 1), arg.output(ctx), ...poolKernelInts(params).map(arg.int)] },
      scratchBytes: 0,
      macs: 0,
    };
  },
  evaluate(p, [dyData, argmaxData], [dxData]) {
    const dy = dyData as Float32Array;
    const argmax = argmaxData as Uint8Array;
    const dx = dxData as Float32Array;
    dx.fill(0);
    forEachWindow(p, (o, inputAt) => {
      const i = inputAt(argmax[o]!);
      dx[i] = f32(dx[i]! + dy[o]!);
    });
  },
};
