/**
 * @fileoverview Gradient with respect to the input of a convolution, depthwise convolution or fully connected
 * layer: the transposed convolution of the output gradient with the real weights s_w[o] * W[o]. Each output
 * gradient is scattered into the taps that produced it, in a fixed order (the order of the float32 sums).
 * Kernels: `conv2d_backprop_input_f32`, `depthwise_conv2d_backprop_input_f32`.
 */
import type { OpDef, PrepareContext, Prepared } from '../op.ts';
import { arg } from '../op.ts';
import { f32 } from '../common/float32_math.ts';
import { channelScale } from '../common/quant.ts';
import { requireDType, requireInt8, requireTensor } from '../common/checks.ts';
import type { ConvDims, WindowAttrs } from './geometry.ts';
import { convDims, float32Table } from './geometry.ts';

export interface BackpropInputParams extends ConvDims, WindowAttrs {
  readonly weightScales: readonly number[];
}

function prepareBackprop(ctx: PrepareContext<WindowAttrs>, depthwise: boolean, kernel: string): Prepared<BackpropInputParams> {
  const dy = requireDType(ctx.inputs[0], ctx.node, 'output gradient', ['float32']);
  const w = requireInt8(ctx.inputs[1], ctx.node, 'weights');
  const dx = requireTensor(ctx.outputs[0], ctx.node, 'input gradient');
  const d = convDims(dx, w, dy, depthwise);
  const a = ctx.node.attrs;
  const weightScales = float32Table(Array.from({ length: d.outC }, (_, c) => channelScale(w, c)));
  const params: BackpropInputParams = { ...d, ...a, weightScales };
  const dims = [d.batches, d.inH, d.inW, d.inC, d.outH, d.outW, ...(depthwise ? [] : [d.outC])];
  return {
    params,
    kernel: {
      name: kernel,
      args: [
        arg.input(ctx, 0), arg.input(ctx, 1), arg.table('float32', weightScales), arg.output(ctx),
        ...[...dims, d.filterH, d.filterW, a.strideH, a.strideW, a.dilationH, a.dilationW, a.padTop, a.padLeft].map(arg.int),
      ],
    },
    scratchBytes: 0,
    macs: d.batches * d.outH * d.outW * d.outC * d.filterH * d.filterW * (depthwise ? 1 : d.inC),
  };
}

/** Calls `tap(inputIndex, weightIndex)` for each input pixel under output pixel (n, oy, ox), in kernel order. */
function forEachTap(p: BackpropInputParams, n: number, oy: number, ox: number, each: (pixel: number, tap: number) => void): void {
  for (let ky = 0; ky < p.filterH; ky++) {
    const iy = oy * p.strideH - p.padTop + ky * p.dilationH;
    if (iy < 0 || iy >= p.inH) continue;
    for (let kx = 0; kx < p.filterW; kx++) {
      const ix = ox * p.strideW - p.padLeft + kx * p.dilationW;
      if (ix < 0 || ix >= p.inW) continue;
      each((n * p.inH + iy) * p.inW + ix, ky * p.filterW + kx);
    }
  }
}

export const conv2dBackpropInput: OpDef<WindowAttrs, BackpropInputParams> = {
  name: 'Conv2DBackpropInput',
  infer: () => {
    throw new Error('Conv2DBackpropInput is created with its output tensor by compiler/train');
  },
  prepare: (ctx) => prepareBackprop(ctx, false, 'conv2d_backprop_input_f32'),
  evaluate(p, [dyData, wData], [dxData]) {
    const dy = dyData as Float32Array;
    const w = wData as Int8Array;
    const dx = dxData as Float32Array;
    const taps = p.filterH * p.filterW;
    dx.fill(0);
    let at = 0;
    for (let n = 0; n < p.batches; n++) {
      for (let oy = 0; oy < p.outH; oy++) {
        for (let ox = 0; ox < p.outW; ox++) {
          for (let oc = 0; oc < p.outC; oc++) {
            const g = f32(dy[at++]! * p.weightScales[oc]!);
            if (g === 0) continue;
            forEachTap(p, n, oy, ox, (pixel, tap) => {
              const wAt = (oc * taps + tap) * p.inC;
              const xAt = pixel * p.inC;
              for (let ic = 0; ic < p.inC; ic++) dx[xAt + ic] = f32(dx[xAt + ic]! + f32(g * w[wAt + ic]!));
            });
          }
        }
      }
    }
  },
};

export const depthwiseConv2dBackpropInput: OpDef<WindowAttrs, BackpropInputParams> = {
  name: 'DepthwiseConv2DBackpropInput',
  infer: () => {
    throw new Error('DepthwiseConv2DBackpropInput is created with its output tensor by compiler/train');
  },
  prepare: (ctx) => prepareBackprop(ctx, true, 'depthwise_conv2d_backprop_input_f32'),
  evaluate(p, [dyData, wData], [dxData]) {
    const dy = dyData as Float32Array;
    const w = wData as Int8Array;
    const dx = dxData as Float32Array;
    const c = p.inC;
    dx.fill(0);
    let at = 0;
    for (let n = 0; n < p.batches; n++) {
      for (let oy = 0; oy < p.outH; oy++) {
        for (let ox = 0; ox < p.outW; ox++) {
          for (let ch = 0; ch < c; ch++) {
            const g = f32(dy[at++]! * p.weightScales[ch]!);
            if (g === 0) continue;
            forEachTap(p, n, oy, ox, (pixel, tap) => {
              dx[pixel * c + ch] = f32(dx[pixel * c + ch]! + f32(g * w[tap * c + ch]!));
            });
          }
        }
      }
    }
  },
};
