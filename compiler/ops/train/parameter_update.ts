/**
 * @fileoverview In-place SGD updates of int8 weights and int32 biases with Quantization-Aware Scaling. With
 * W = s_w * W_q and b = s_w * s_x * b_q, QAS scales the int-domain gradients by s_w^-2 and (s_w * s_x)^-2, which
 * makes the update of the integer parameters lr * dL/dW / s_w and lr * dL/db / (s_w * s_x): plain SGD in real
 * units, written in the integers' own units. Weights round stochastically (a seeded xorshift32 in the state, so
 * that updates smaller than one step still move a weight in expectation); biases round half to even and saturate.
 * No weight gradient is ever stored: each weight's gradient is summed and applied at once. A convolution or fully
 * connected layer whose weights stay frozen keeps no separate bias at all: its bias lives in the folded bias the
 * forward kernel reads (bias + input_offset * sum of the channel's weights, a constant offset here), updated and
 * saturated in place.
 * Kernels: `bias_update_f32`, `folded_bias_update_f32`, `conv2d_weight_update_f32`, `depthwise_conv2d_weight_update_f32`.
 */
import type { Attrs } from '../../ir/graph.ts';
import { elementCount } from '../../ir/graph.ts';
import type { OpDef, PrepareContext, Prepared } from '../op.ts';
import { arg } from '../op.ts';
import { f32, floatBits, fmaF32, roundHalfEvenToInt32, uniformFromState, xorshift32 } from '../common/float32_math.ts';
import { channelScale, scaleOf, zeroPointOf } from '../common/quant.ts';
import { requireDType, requireInt8 } from '../common/checks.ts';
import type { ConvDims, WindowAttrs } from './geometry.ts';
import { convDims, float32Table } from './geometry.ts';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const WEIGHT_LIMIT = 127;

export interface BiasUpdateAttrs extends Attrs {
  /** float32(1 / (s_x * s_w[c])) per output channel. */
  readonly invScale: readonly number[];
}

interface BiasUpdateParams {
  readonly pixels: number;
  readonly channels: number;
  readonly invScale: readonly number[];
}

export const biasUpdate: OpDef<BiasUpdateAttrs, BiasUpdateParams> = {
  name: 'BiasUpdate',
  infer: () => [],
  prepare(ctx) {
    const dy = requireDType(ctx.inputs[0], ctx.node, 'output gradient', ['float32']);
    const bias = requireDType(ctx.inputs[1], ctx.node, 'bias', ['int32']);
    requireDType(ctx.inputs[2], ctx.node, 'learning rate', ['float32']);
    const channels = elementCount(bias.shape);
    const invScale = float32Table(ctx.node.attrs.invScale);
    const params = { pixels: elementCount(dy.shape) / channels, channels, invScale };
    return {
      params,
      kernel: {
        name: 'bias_update_f32',
        args: [arg.input(ctx, 0), arg.updated(ctx, 1), arg.table('float32', invScale), arg.input(ctx, 2), arg.int(params.pixels), arg.int(channels)],
      },
      scratchBytes: 0,
      macs: params.pixels * channels,
    };
  },
  evaluate(p, [dyData, biasData, lrData]) {
    const dy = dyData as Float32Array;
    const bias = biasData as Int32Array;
    const lr = (lrData as Float32Array)[0]!;
    for (let c = 0; c < p.channels; c++) {
      bias[c] = Math.min(INT32_MAX, Math.max(INT32_MIN, bias[c]! - biasStep(dy, lr, p.invScale[c]!, p.pixels, p.channels, c)));
    }
  },
};

/** The bias step of one channel in the bias's integer units: lr x (sum of its output gradient) x inv_scale. */
function biasStep(dy: Float32Array, lr: number, invScale: number, pixels: number, channels: number, c: number): number {
  let sum = 0;
  for (let i = 0; i < pixels; i++) sum = f32(sum + dy[i * channels + c]!);
  return roundHalfEvenToInt32(f32(f32(lr * sum) * invScale));
}

export interface FoldedBiasUpdateAttrs extends BiasUpdateAttrs {
  /** input_offset x sum of channel c's (frozen) weights: folded[c] - offsetSum[c] is the bias. */
  readonly offsetSum: readonly number[];
  /** The bias stays within ±limit[c] so that the int32 accumulator cannot overflow (common/bias.ts). */
  readonly limit: readonly number[];
}

interface FoldedBiasUpdateParams extends BiasUpdateParams {
  readonly offsetSum: readonly number[];
  readonly limit: readonly number[];
}

export const foldedBiasUpdate: OpDef<FoldedBiasUpdateAttrs, FoldedBiasUpdateParams> = {
  name: 'FoldedBiasUpdate',
  infer: () => [],
  prepare(ctx) {
    const dy = requireDType(ctx.inputs[0], ctx.node, 'output gradient', ['float32']);
    const folded = requireDType(ctx.inputs[1], ctx.node, 'folded bias', ['int32']);
    requireDType(ctx.inputs[2], ctx.node, 'learning rate', ['float32']);
    const channels = elementCount(folded.shape);
    const { offsetSum, limit } = ctx.node.attrs;
    const invScale = float32Table(ctx.node.attrs.invScale);
    const params = { pixels: elementCount(dy.shape) / channels, channels, invScale, offsetSum, limit };
    return {
      params,
      kernel: {
        name: 'folded_bias_update_f32',
        args: [
          arg.input(ctx, 0), arg.updated(ctx, 1), arg.table('float32', invScale), arg.table('int32', offsetSum), arg.table('int32', limit),
          arg.input(ctx, 2), arg.int(params.pixels), arg.int(channels),
        ],
      },
      scratchBytes: 0,
      macs: params.pixels * channels,
    };
  },
  evaluate(p, [dyData, foldedData, lrData]) {
    const folded = foldedData as Int32Array;
    const lr = (lrData as Float32Array)[0]!;
    for (let c = 0; c < p.channels; c++) {
      const step = biasStep(dyData as Float32Array, lr, p.invScale[c]!, p.pixels, p.channels, c);
      const bias = Math.min(p.limit[c]!, Math.max(-p.limit[c]!, folded[c]! - p.offsetSum[c]! - step));
      folded[c] = bias + p.offsetSum[c]!;
    }
  },
};

export interface WeightUpdateAttrs extends WindowAttrs {
  /** Input channels (conv, fully connected) or channels (depthwise) updated: the first `keep`. */
  readonly keep: number;
  /**
   * A 1x1 stride-1 convolution's kernel dequantizes the saved input through a table of the 256 codes instead of a
   * float copy of it: less scratch, more instructions. The compiler sets it where the copy sits at the memory peak.
   */
  readonly dequantizeByTable: boolean;
}

export interface WeightUpdateParams extends ConvDims, WindowAttrs {
  /** Channels of the saved input: `keep` when only those were saved, else all. */
  readonly savedChannels: number;
  readonly keep: number;
  readonly inputZeroPoint: number;
  readonly inputScale: number;
  readonly invWeightScale: readonly number[];
}

/** A 1x1 stride-1 layer or a fully connected one: pixel p of dy is pixel p of x. */
export function isPointwise(p: ConvDims & WindowAttrs): boolean {
  return p.filterH === 1 && p.filterW === 1 && p.strideH === 1 && p.strideW === 1 && p.padTop === 0 && p.padLeft === 0 && p.inH === p.outH && p.inW === p.outW;
}

function prepareWeightUpdate(ctx: PrepareContext<WeightUpdateAttrs>, depthwise: boolean, kernel: string): Prepared<WeightUpdateParams> {
  const dy = requireDType(ctx.inputs[0], ctx.node, 'output gradient', ['float32']);
  const x = requireInt8(ctx.inputs[1], ctx.node, 'saved input');
  const w = requireInt8(ctx.inputs[2], ctx.node, 'weights');
  requireDType(ctx.inputs[3], ctx.node, 'learning rate', ['float32']);
  requireDType(ctx.inputs[4], ctx.node, 'random state', ['int32']);
  const savedChannels = x.shape[x.shape.length - 1]!;
  const d = convDims(x, w, dy, depthwise);
  const a = ctx.node.attrs;
  const p: WeightUpdateParams = {
    ...d, ...a,
    inC: depthwise ? d.outC : w.shape[w.shape.length - 1]!,
    savedChannels,
    inputZeroPoint: zeroPointOf(x),
    inputScale: f32(scaleOf(x)),
    invWeightScale: float32Table(Array.from({ length: d.outC }, (_, c) => 1 / channelScale(w, c))),
  };
  const dims = [p.batches, p.inH, p.inW, savedChannels, ...(depthwise ? [p.outC] : [p.inC]), p.outH, p.outW, ...(depthwise ? [] : [p.outC])];
  // A convolution's kernel dequantizes the saved input's first `keep` channels once, into scratch: every output
  // channel reads them again. By table, it holds there a float per code and one block's four channels instead. A 1x1
  // stride-1 layer's kernel also keeps there three rows of gradients waiting for their draws.
  const byTable = a.dequantizeByTable;
  if (byTable && (depthwise || !isPointwise(p))) throw new Error(`${ctx.node.origin}: only a 1x1 stride-1 convolution's update dequantizes by table`);
  const scratch = depthwise ? [] : [arg.scratch()];
  const pendingRows = isPointwise(p) ? 3 : 0;
  const pixels = p.batches * p.inH * p.inW;
  return {
    params: p,
    kernel: {
      name: kernel,
      args: [
        arg.input(ctx, 0), arg.input(ctx, 1), arg.updated(ctx, 2), arg.table('float32', p.invWeightScale), arg.input(ctx, 3), arg.updated(ctx, 4), ...scratch,
        ...[...dims, p.filterH, p.filterW, a.strideH, a.strideW, a.dilationH, a.dilationW, a.padTop, a.padLeft, p.inputZeroPoint, floatBits(p.inputScale), a.keep,
          ...(depthwise ? [] : [byTable ? 1 : 0])].map(arg.int),
      ],
    },
    scratchBytes: depthwise ? 0 : ((byTable ? 256 + pixels * 4 : pixels * a.keep) + pendingRows * a.keep) * 4,
    macs: p.batches * p.outH * p.outW * p.outC * p.filterH * p.filterW * (depthwise ? 1 : a.keep),
  };
}

/** Moves one weight by -step with stochastic rounding, advancing the generator in `state`. */
function applyWeightStep(w: Int8Array, at: number, step: number, state: Int32Array): void {
  const v = f32(w[at]! - step);
  state[0] = xorshift32(state[0]! >>> 0) | 0;
  const u = uniformFromState(state[0]! >>> 0);
  const lo = Math.floor(v);
  const q = lo + (u < f32(v - lo) ? 1 : 0);
  w[at] = Math.min(WEIGHT_LIMIT, Math.max(-WEIGHT_LIMIT, q));
}

/** Sum over output pixels of dy[.., oc] * x_real[.., ic] for one tap (ky, kx), in kernel order, by fused multiply-adds. */
function tapGradient(
  p: WeightUpdateParams, dy: Float32Array, x: Int8Array, ky: number, kx: number, oc: number, xChannel: number,
): number {
  let g = 0;
  for (let n = 0; n < p.batches; n++) {
    for (let oy = 0; oy < p.outH; oy++) {
      const iy = oy * p.strideH - p.padTop + ky * p.dilationH;
      if (iy < 0 || iy >= p.inH) continue;
      for (let ox = 0; ox < p.outW; ox++) {
        const ix = ox * p.strideW - p.padLeft + kx * p.dilationW;
        if (ix < 0 || ix >= p.inW) continue;
        const xq = x[((n * p.inH + iy) * p.inW + ix) * p.savedChannels + xChannel]!;
        const xr = f32(f32(xq - p.inputZeroPoint) * p.inputScale);
        g = fmaF32(dy[((n * p.outH + oy) * p.outW + ox) * p.outC + oc]!, xr, g);
      }
    }
  }
  return g;
}

export const conv2dWeightUpdate: OpDef<WeightUpdateAttrs, WeightUpdateParams> = {
  name: 'Conv2DWeightUpdate',
  infer: () => [],
  prepare: (ctx) => prepareWeightUpdate(ctx, false, 'conv2d_weight_update_f32'),
  withLessScratch(node, prepared) {
    return !node.attrs.dequantizeByTable && isPointwise(prepared.params) ? { ...node, attrs: { ...node.attrs, dequantizeByTable: true } } : null;
  },
  /** Back to the float copy where a later step lowered the peak this one sat at. */
  withMoreScratch(node) {
    return node.attrs.dequantizeByTable ? { ...node, attrs: { ...node.attrs, dequantizeByTable: false } } : null;
  },
  evaluate(p, [dyData, xData, wData, lrData, rngData]) {
    const lr = (lrData as Float32Array)[0]!;
    const w = wData as Int8Array;
    for (let oc = 0; oc < p.outC; oc++) {
      for (let ky = 0; ky < p.filterH; ky++) {
        for (let kx = 0; kx < p.filterW; kx++) {
          for (let ic = 0; ic < p.keep; ic++) {
            const g = tapGradient(p, dyData as Float32Array, xData as Int8Array, ky, kx, oc, ic);
            const at = ((oc * p.filterH + ky) * p.filterW + kx) * p.inC + ic;
            applyWeightStep(w, at, f32(f32(lr * g) * p.invWeightScale[oc]!), rngData as Int32Array);
          }
        }
      }
    }
  },
};

export const depthwiseConv2dWeightUpdate: OpDef<WeightUpdateAttrs, WeightUpdateParams> = {
  name: 'DepthwiseConv2DWeightUpdate',
  infer: () => [],
  prepare: (ctx) => prepareWeightUpdate(ctx, true, 'depthwise_conv2d_weight_update_f32'),
  evaluate(p, [dyData, xData, wData, lrData, rngData]) {
    const lr = (lrData as Float32Array)[0]!;
    const w = wData as Int8Array;
    for (let c = 0; c < p.keep; c++) {
      for (let ky = 0; ky < p.filterH; ky++) {
        for (let kx = 0; kx < p.filterW; kx++) {
          const g = tapGradient(p, dyData as Float32Array, xData as Int8Array, ky, kx, c, c);
          applyWeightStep(w, (ky * p.filterW + kx) * p.outC + c, f32(f32(lr * g) * p.invWeightScale[c]!), rngData as Int32Array);
        }
      }
    }
  },
};
