/**
 * @fileoverview What ADD and SUB share: TFLM's quantized add/sub arithmetic (CalculateOpDataAdd /
 * CalculateOpDataSub and reference_integer_ops::AddFunc / reference_ops::SubElementwise), the binary
 * operators' shape inference and broadcast kernel arguments (also used by MUL).
 *
 * Per element:  s_i = MBQM((x_i + offset_i) << 20, M_i, shift_i)   (i = 1, 2)
 *               y   = clamp(MBQM(s1 ± s2, M_out, shift_out) + zp_out, act_min, act_max)
 * with MBQM the double-rounding MultiplyByQuantizedMultiplierSmallerThanOneExp. The sign is applied to
 * s2 after rounding (SUB computes s1 - s2): negating the multiplier instead would round ties differently.
 */
import type { Activation, Node, Tensor } from '../../ir/graph.ts';
import { describeNode, describeTensor } from '../../ir/graph.ts';
import type { TensorData } from '../../ir/dtype.ts';
import { InvalidModelError, UnsupportedError } from '../../errors.ts';
import type { KernelArg, OutputType, PrepareContext, Prepared } from '../op.ts';
import { arg } from '../op.ts';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, saturate } from './fixed_point.ts';
import type { QuantizedMultiplier } from './fixed_point.ts';
import { activationRange, scaleOf, zeroPointOf } from './quant.ts';
import { requireInt8 } from './checks.ts';
import { broadcastShape, forEachBroadcast, planBroadcast } from './broadcast.ts';
import type { BroadcastPlan } from './broadcast.ts';

/** Fused activation is the only attribute of ADD, SUB and MUL. */
export interface BinaryAttrs {
  readonly activation: Activation;
}

/** TFLM's left shift of int8 add/sub inputs (15 for int16). */
export const ADD_SUB_LEFT_SHIFT = 20;

/** How the real multipliers are computed: TFLM's ADD works in double, its SUB in float32 (then widened). */
export type ScaleArithmetic = 'double' | 'float';

export interface AddSubMultipliers {
  readonly input1: QuantizedMultiplier;
  readonly input2: QuantizedMultiplier;
  readonly output: QuantizedMultiplier;
}

/** TFLite QuantizeMultiplierSmallerThanOneExp: TFLM aborts unless 0 < real < 1. */
export function quantizeMultiplierSmallerThanOne(real: number, what: string): QuantizedMultiplier {
  if (!(real > 0 && real < 1)) {
    throw new UnsupportedError(`${what} multiplier ${real} is outside (0, 1), which TFLite's quantized add/sub requires`);
  }
  const q = quantizeMultiplier(real);
  if (q.shift > 0) throw new UnsupportedError(`${what} multiplier ${real} needs a left shift`);
  return q;
}

/** The three multipliers of CalculateOpDataAdd ('double') or CalculateOpDataSub ('float'), bit for bit. */
export function addSubMultipliers(scale1: number, scale2: number, outScale: number, arithmetic: ScaleArithmetic): AddSubMultipliers {
  const f = Math.fround;
  const [s1, s2, so] = [f(scale1), f(scale2), f(outScale)];
  const left = 2 ** ADD_SUB_LEFT_SHIFT;
  let real1: number;
  let real2: number;
  let realOut: number;
  if (arithmetic === 'double') {
    const twiceMax = 2 * Math.max(s1, s2);
    real1 = s1 / twiceMax;
    real2 = s2 / twiceMax;
    realOut = twiceMax / (left * so);
  } else {
    const twiceMax = f(2 * Math.max(s1, s2));
    real1 = f(s1 / twiceMax);
    real2 = f(s2 / twiceMax);
    realOut = f(twiceMax / f(left * so));
  }
  return {
    input1: quantizeMultiplierSmallerThanOne(real1, 'input 1'),
    input2: quantizeMultiplierSmallerThanOne(real2, 'input 2'),
    output: quantizeMultiplierSmallerThanOne(realOut, 'output (2 * max input scale / (2^20 * output scale))'),
  };
}

/** Shape inference of ADD / SUB / MUL: both inputs int8, output the broadcast shape. */
export function inferBinary(inputs: readonly (Tensor | null)[], op: string): OutputType[] {
  const [a, b] = inputs;
  if (!a || !b) throw new InvalidModelError(`${op} needs two inputs`);
  return [{ shape: broadcastShape(a.shape, b.shape), dtype: 'int8' }];
}

export interface BinaryOperands {
  readonly input1: Tensor;
  readonly input2: Tensor;
  readonly output: Tensor;
  readonly plan: BroadcastPlan;
}

/** Type, quantization and shape checks shared by the binary operators' prepare. */
export function binaryOperands(ctx: PrepareContext<object>): BinaryOperands {
  const node = ctx.node as Node;
  const input1 = requireInt8(ctx.inputs[0], ctx.node, 'input 1');
  const input2 = requireInt8(ctx.inputs[1], ctx.node, 'input 2');
  const output = requireInt8(ctx.outputs[0], ctx.node, 'output');
  for (const t of [input1, input2, output]) {
    const scale = scaleOf(t);
    if (!(scale > 0) || !Number.isFinite(scale)) throw new InvalidModelError(`${describeNode(node)}: ${describeTensor(t)} has scale ${scale}`);
    const zp = zeroPointOf(t);
    if (!Number.isInteger(zp) || zp < -128 || zp > 127) throw new InvalidModelError(`${describeNode(node)}: ${describeTensor(t)} has zero point ${zp} outside int8`);
  }
  const plan = planBroadcast(input1.shape, input2.shape, ctx.node);
  if (output.shape.join() !== plan.outShape.join()) {
    throw new InvalidModelError(`${describeNode(node)}: output ${describeTensor(output)} should be [${plan.outShape.join('x')}]`);
  }
  return { input1, input2, output, plan };
}

/** Kernel arguments describing the broadcast loop nest: dims[4], strides1[4], strides2[4] (int32 tables). */
export function broadcastArgs(plan: BroadcastPlan): KernelArg[] {
  return [arg.table('int32', plan.kernelDims), arg.table('int32', plan.kernelStrides1), arg.table('int32', plan.kernelStrides2)];
}

export interface AddSubParams {
  readonly outShape: readonly number[];
  readonly strides1: readonly number[];
  readonly strides2: readonly number[];
  readonly input1Offset: number;
  readonly input1Multiplier: number;
  readonly input1Shift: number;
  readonly input2Offset: number;
  readonly input2Multiplier: number;
  readonly input2Shift: number;
  /** +1 for ADD, -1 for SUB. */
  readonly sign: 1 | -1;
  readonly outputMultiplier: number;
  readonly outputShift: number;
  readonly outputOffset: number;
  readonly actMin: number;
  readonly actMax: number;
}

/** Prepare of ADD (sign +1, double arithmetic) and SUB (sign -1, float arithmetic): both bind `add_s8`. */
export function prepareAddSub(ctx: PrepareContext<BinaryAttrs>, sign: 1 | -1, arithmetic: ScaleArithmetic): Prepared<AddSubParams> {
  const { input1, input2, output, plan } = binaryOperands(ctx);
  const m = addSubMultipliers(scaleOf(input1), scaleOf(input2), scaleOf(output), arithmetic);
  const { min, max } = activationRange(ctx.node.attrs.activation, output);
  const params: AddSubParams = {
    outShape: plan.outShape, strides1: plan.strides1, strides2: plan.strides2,
    input1Offset: -zeroPointOf(input1), input1Multiplier: m.input1.multiplier, input1Shift: m.input1.shift,
    input2Offset: -zeroPointOf(input2), input2Multiplier: m.input2.multiplier, input2Shift: m.input2.shift,
    sign, outputMultiplier: m.output.multiplier, outputShift: m.output.shift, outputOffset: zeroPointOf(output),
    actMin: min, actMax: max,
  };
  return {
    params,
    kernel: {
      name: 'add_s8',
      args: [
        arg.input(ctx, 0), arg.input(ctx, 1), arg.output(ctx), ...broadcastArgs(plan),
        arg.int(params.input1Offset), arg.int(params.input1Multiplier), arg.int(params.input1Shift),
        arg.int(params.input2Offset), arg.int(params.input2Multiplier), arg.int(params.input2Shift), arg.int(sign),
        arg.int(params.outputMultiplier), arg.int(params.outputShift), arg.int(params.outputOffset), arg.int(min), arg.int(max),
      ],
    },
    scratchBytes: 0,
    macs: 0,
  };
}

/** Reference semantics of ADD / SUB: TFLM's per-element function over its broadcast loop. */
export function evaluateAddSub(p: AddSubParams, inputs: readonly (TensorData | null)[], outputs: readonly TensorData[]): void {
  const x1 = inputs[0] as Int8Array;
  const x2 = inputs[1] as Int8Array;
  const y = outputs[0] as Int8Array;
  const left = 2 ** ADD_SUB_LEFT_SHIFT;
  forEachBroadcast(p.outShape, p.strides1, p.strides2, (i1, i2, o) => {
    const scaled1 = multiplyByQuantizedMultiplier((p.input1Offset + x1[i1]!) * left, p.input1Multiplier, p.input1Shift, 'double');
    const scaled2 = multiplyByQuantizedMultiplier((p.input2Offset + x2[i2]!) * left, p.input2Multiplier, p.input2Shift, 'double');
    const raw = scaled1 + p.sign * scaled2;
    const out = multiplyByQuantizedMultiplier(raw, p.outputMultiplier, p.outputShift, 'double') + p.outputOffset;
    y[o] = saturate(out, p.actMin, p.actMax);
  });
}
