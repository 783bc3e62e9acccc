/**
 * @fileoverview AVERAGE_POOL_2D, int8 (TFLM pooling.cc + reference_integer_ops::AveragePool), NHWC:
 * each output is the sum of the window's in-image inputs divided, rounding half away from zero (or to even, for
 * ONNX models), by the number of those inputs (padding is not counted), then clamped to the fused activation's range. TFLM
 * requires the input and output quantization to be equal, so no rescaling happens. Kernel: `average_pool2d_s8`.
 *
 * Also the attributes, import mapping, shape inference and checks shared with MAX_POOL_2D.
 */
import type { Activation, Node, Padding, Tensor } from '../ir/graph.ts';
import { describeNode, describeTensor } from '../ir/graph.ts';
import type { TensorData } from '../ir/dtype.ts';
import { InvalidModelError, UnsupportedError } from '../errors.ts';
import type { KernelCall, OpDef, OutputType, PrepareContext, TfliteBinding } from './op.ts';
import { arg } from './op.ts';
import { activationFromTflite, activationToTflite } from './common/activation.ts';
import { computePadding, paddingFromTflite, paddingToTflite } from './common/conv_geometry.ts';
import { saturate } from './common/fixed_point.ts';
import { activationRange, scaleOf, zeroPointOf } from './common/quant.ts';
import { requireInt8 } from './common/checks.ts';

export interface PoolAttrs {
  readonly padding: Padding;
  readonly strideH: number;
  readonly strideW: number;
  readonly filterH: number;
  readonly filterW: number;
  readonly activation: Activation;
  /** Average pool only: round .5 to even, as ONNX (QuantizeLinear) does; TFLite rounds it away from zero. */
  readonly tiesToEven?: boolean;
}

export interface PoolParams {
  readonly batches: number;
  readonly inH: number;
  readonly inW: number;
  readonly channels: number;
  readonly outH: number;
  readonly outW: number;
  readonly filterH: number;
  readonly filterW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly actMin: number;
  readonly actMax: number;
  readonly tiesToEven: boolean;
}

/** TFLite binding of the 2-D pooling operators (Pool2DOptions). */
export function poolBinding(code: number): TfliteBinding<PoolAttrs> {
  return {
    code,
    optionsType: 5,
    attrs: (o) => ({
      padding: paddingFromTflite(o['padding']),
      strideH: Number(o['stride_h']),
      strideW: Number(o['stride_w']),
      filterH: Number(o['filter_height']),
      filterW: Number(o['filter_width']),
      activation: activationFromTflite(o['fused_activation_function'] ?? 0),
    }),
    options: (a) => ({
      padding: paddingToTflite(a.padding),
      stride_w: a.strideW,
      stride_h: a.strideH,
      filter_width: a.filterW,
      filter_height: a.filterH,
      fused_activation_function: activationToTflite(a.activation),
    }),
  };
}

function nhwcOf(t: Tensor): [number, number, number, number] {
  if (t.shape.length !== 4) throw new UnsupportedError(`${describeTensor(t)}: pooling input must be 4-D NHWC`);
  return [t.shape[0]!, t.shape[1]!, t.shape[2]!, t.shape[3]!];
}

function checkPoolAttrs(a: PoolAttrs): void {
  for (const [name, v] of [['stride_h', a.strideH], ['stride_w', a.strideW], ['filter_height', a.filterH], ['filter_width', a.filterW]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UnsupportedError(`pooling ${name} ${v} is not supported (must be a positive integer)`);
  }
}

/** Output shape of a 2-D pooling: TFLite's ComputeOutSize over H and W. */
export function inferPool(inputs: readonly (Tensor | null)[], a: PoolAttrs, op: string): OutputType[] {
  const input = inputs[0];
  if (!input) throw new InvalidModelError(`${op} needs an input`);
  checkPoolAttrs(a);
  const [n, h, w, c] = nhwcOf(input);
  const g = computePadding(h, w, a.filterH, a.filterW, a.strideH, a.strideW, 1, 1, a.padding);
  return [{ shape: [n, g.outH, g.outW, c], dtype: 'int8' }];
}

/** TFLM PoolingPrepare for int8: geometry, equal input/output quantization, activation range. */
export function preparePool(ctx: PrepareContext<PoolAttrs>, op: string): PoolParams {
  const node = ctx.node as Node;
  const a = ctx.node.attrs;
  const input = requireInt8(ctx.inputs[0], ctx.node, 'input');
  const output = requireInt8(ctx.outputs[0], ctx.node, 'output');
  const [outType] = inferPool([input], a, op);
  if (output.shape.join() !== outType!.shape.join()) {
    throw new InvalidModelError(`${describeNode(node)}: output ${describeTensor(output)} should be [${outType!.shape.join('x')}]`);
  }
  const scaleDiff = Math.abs(scaleOf(input) - scaleOf(output));
  if (scaleDiff > 1e-6 || zeroPointOf(input) !== zeroPointOf(output)) {
    throw new UnsupportedError(
      `${describeNode(node)}: input scale ${scaleOf(input)} / zero point ${zeroPointOf(input)} and output scale ${scaleOf(output)} / zero point ` +
        `${zeroPointOf(output)} differ; TFLM's int8 pooling requires them equal`,
    );
  }
  const [batches, inH, inW, channels] = nhwcOf(input);
  const g = computePadding(inH, inW, a.filterH, a.filterW, a.strideH, a.strideW, 1, 1, a.padding);
  const { min, max } = activationRange(a.activation, output);
  return {
    batches, inH, inW, channels, outH: g.outH, outW: g.outW, filterH: a.filterH, filterW: a.filterW,
    strideH: a.strideH, strideW: a.strideW, padTop: g.padTop, padLeft: g.padLeft, actMin: min, actMax: max,
    tiesToEven: a.tiesToEven ?? false,
  };
}

/** The pooling kernels' common signature. */
export function poolKernel(ctx: PrepareContext<object>, name: string, p: PoolParams): KernelCall {
  return {
    name,
    args: [
      arg.input(ctx, 0), arg.output(ctx), arg.int(p.batches), arg.int(p.inH), arg.int(p.inW), arg.int(p.channels),
      arg.int(p.outH), arg.int(p.outW), arg.int(p.filterH), arg.int(p.filterW), arg.int(p.strideH), arg.int(p.strideW),
      arg.int(p.padTop), arg.int(p.padLeft), arg.int(p.actMin), arg.int(p.actMax),
    ],
  };
}

/** Walks the pooling windows as TFLM does: calls `reduce(window values) -> output value` per output element. */
export function runPool(p: PoolParams, input: Int8Array, output: Int8Array, reduce: (values: number[]) => number): void {
  let at = 0;
  for (let b = 0; b < p.batches; b++) {
    for (let oy = 0; oy < p.outH; oy++) {
      for (let ox = 0; ox < p.outW; ox++) {
        for (let c = 0; c < p.channels; c++) {
          const originX = ox * p.strideW - p.padLeft;
          const originY = oy * p.strideH - p.padTop;
          const fx0 = Math.max(0, -originX);
          const fx1 = Math.min(p.filterW, p.inW - originX);
          const fy0 = Math.max(0, -originY);
          const fy1 = Math.min(p.filterH, p.inH - originY);
          const values: number[] = [];
          for (let fy = fy0; fy < fy1; fy++) {
            for (let fx = fx0; fx < fx1; fx++) {
              values.push(input[((b * p.inH + originY + fy) * p.inW + originX + fx) * p.channels + c]!);
            }
          }
          output[at++] = reduce(values);
        }
      }
    }
  }
}

/** TFLite's rounded division: (acc ± count / 2) / count, truncating as C does. */
function divideTiesAway(acc: number, count: number): number {
  const half = Math.trunc(count / 2);
  return acc > 0 ? Math.trunc((acc + half) / count) : Math.trunc((acc - half) / count);
}

function divideTiesToEven(acc: number, count: number): number {
  const floor = Math.floor(acc / count);
  const twiceRemainder = 2 * (acc - floor * count);
  return floor + (twiceRemainder > count || (twiceRemainder === count && floor % 2 !== 0) ? 1 : 0);
}

export const averagePool2d: OpDef<PoolAttrs, PoolParams> = {
  name: 'AveragePool2D',
  tflite: poolBinding(1),
  infer: (inputs, attrs) => inferPool(inputs, attrs, 'average pool 2d'),

  prepare(ctx) {
    const params = preparePool(ctx, 'average pool 2d');
    const kernel = poolKernel(ctx, 'average_pool2d_s8', params);
    return {
      params,
      kernel: { ...kernel, args: [...kernel.args, arg.int(params.tiesToEven ? 1 : 0)] },
      scratchBytes: 0,
      macs: 0,
    };
  },

  evaluate(p, [input]: readonly (TensorData | null)[], [output]: readonly TensorData[]) {
    runPool(p, input as Int8Array, output as Int8Array, (values) => {
      const count = values.length;
      if (count === 0) throw new InvalidModelError('average pool window without any input element');
      const acc = values.reduce((s, v) => s + v, 0);
      return saturate(p.tiesToEven ? divideTiesToEven(acc, count) : divideTiesAway(acc, count), p.actMin, p.actMax);
    });
  },
};
