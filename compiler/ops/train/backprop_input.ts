/**
 * @fileoverview Gradient with respect to the input of a convolution, depthwise convolution or fully connected
 * layer: the transposed convolution of the output gradient with the real weights s_w[o] * W[o]. Each output
 * gradient, times its channel's weight scale, is scattered into the taps that produced it, in a fixed order (the order
 * of the float32 sums), each term one fused multiply-add (scaled gradient x weight + sum, rounded once).
 * A layer split by a partial update (split_conv.ts) passes its weights as the trained head (input channels below
 * `keep`) and the frozen tail (input 2); the sums are those of the whole weights, in the same order.
 * Kernels: `conv2d_backprop_input_f32`, `depthwise_conv2d_backprop_input_f32` (which may write dx over dy: stride 1,
 * equal shapes).
 */
import type { OpDef, PrepareContext, Prepared } from '../op.ts';
import { arg } from '../op.ts';
import { f32, fmaF32 } from '../common/float32_math.ts';
import { channelScale } from '../common/quant.ts';
import { requireDType, requireInt8, requireTensor } from '../common/checks.ts';
import type { ConvDims, WindowAttrs } from './geometry.ts';
import { convDims, float32Table } from './geometry.ts';
import { splitChannels } from './split_conv.ts';

export type BackpropInputParams = ConvDims & WindowAttrs & {
  readonly weightScales: readonly number[];
  /** Input channels read from the weights (input 1), the others from the tail (input 2); absent: all of them. */
  readonly keep?: number;
  /** The sums continue from what dx holds (the kernel's accumulate mode: output channels in several calls). */
  readonly accumulate?: boolean;
};

function prepareBackprop(ctx: PrepareContext<WindowAttrs>, depthwise: boolean, kernel: string): Prepared<BackpropInputParams> {
  const dy = requireDType(ctx.inputs[0], ctx.node, 'output gradient', ['float32']);
  const w = requireInt8(ctx.inputs[1], ctx.node, 'weights');
  const dx = requireTensor(ctx.outputs[0], ctx.node, 'input gradient');
  const tail = ctx.inputs[2] ? requireInt8(ctx.inputs[2], ctx.node, 'frozen weights') : null;
  const split = tail ? splitChannels(w, tail) : null;
  const d = { ...convDims(dx, w, dy, depthwise), ...(split ? { inC: split.inC } : {}) };
  const a = ctx.node.attrs;
  const weightScales = float32Table(Array.from({ length: d.outC }, (_, c) => channelScale(w, c)));
  const keep = split?.keep ?? d.inC;
  const params: BackpropInputParams = { ...d, ...a, weightScales, keep };
  const dims = [d.batches, d.inH, d.inW, d.inC, d.outH, d.outW, ...(depthwise ? [] : [d.outC])];
  const window = [d.filterH, d.filterW, a.strideH, a.strideW, a.dilationH, a.dilationW, a.padTop, a.padLeft];
  const weights = depthwise ? [arg.input(ctx, 1)] : [arg.input(ctx, 1), tail ? arg.input(ctx, 2) : arg.absent('int8', false)];
  // With stride 1 and equal shapes a dx row is complete only after its own dy row has been read, so the depthwise
  // kernel may write dx over dy if it holds the rows still receiving terms in a ring of the window's height (scratch).
  const ringRows = Math.min((d.filterH - 1) * a.dilationH + 1, d.inH);
  const inPlace = depthwise && d.inH === d.outH && d.inW === d.outW && a.strideH === 1;
  return {
    params,
    kernel: {
      name: kernel,
      args: [
        arg.input(ctx, 0), ...weights, arg.table('float32', weightScales), arg.output(ctx), ...(depthwise ? [arg.scratch()] : []),
        ...[...dims, ...window, ...(depthwise ? [] : [keep, 0])].map(arg.int),
      ],
    },
    scratchBytes: inPlace ? ringRows * d.inW * d.inC * 4 : 0,
    macs: d.batches * d.outH * d.outW * d.outC * d.filterH * d.filterW * (depthwise ? 1 : d.inC),
    inPlace,
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
  evaluate(p, [dyData, wData, tailData], [dxData]) {
    const dy = dyData as Float32Array;
    const w = wData as Int8Array;
    const tail = tailData as Int8Array | null | undefined;
    const dx = dxData as Float32Array;
    const taps = p.filterH * p.filterW;
    const keep = p.keep ?? p.inC;
    const rest = p.inC - keep;
    const weight = (row: number, ic: number) => (ic < keep ? w[row * keep + ic]! : tail![row * rest + ic - keep]!);
    if (!p.accumulate) dx.fill(0);
    let at = 0;
    for (let n = 0; n < p.batches; n++) {
      for (let oy = 0; oy < p.outH; oy++) {
        for (let ox = 0; ox < p.outW; ox++) {
          for (let oc = 0; oc < p.outC; oc++) {
            const g = f32(dy[at++]! * p.weightScales[oc]!);
            if (g === 0) continue;
            forEachTap(p, n, oy, ox, (pixel, tap) => {
              const xAt = pixel * p.inC;
              for (let ic = 0; ic < p.inC; ic++) dx[xAt + ic] = fmaF32(g, weight(oc * taps + tap, ic), dx[xAt + ic]!);
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
              dx[pixel * c + ch] = fmaF32(g, w[tap * c + ch]!, dx[pixel * c + ch]!);
            });
          }
        }
      }
    }
  },
};
