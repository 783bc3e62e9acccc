/**
 * @fileoverview SOFTMAX over the last axis, int8 -> int8 (output scale 1/256, zero point -128), bit-exact
 * with TFLM's reference_ops::Softmax<int8_t, int8_t>.
 *
 * TFLM computes, per element, exp(x - max) in gemmlowp fixed point from the input difference
 * rescaled by beta * input_scale into Q5.26, skipping differences below diff_min. That value depends
 * only on d = max - x in [0, 255], so prepare tabulates it (int32, Q0.31; 0 where TFLM skips the
 * element, which yields exactly TFLM's -128 and adds nothing to the sum). The kernel (softmax_s8)
 * then does per row what TFLM does with those values: the Q12 sum of exps, its reciprocal with
 * GetReciprocal, and the rounding of each exp * reciprocal to 1/256 steps.
 * `softmaxRowTflm` is the direct, table-free port the table form is tested against.
 */
import { describeNode, describeTensor, elementCount } from '../ir/graph.ts';
import type { Node } from '../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { arg } from './op.ts';
import { quantizeMultiplier, roundingDivideByPOT, saturate, saturatingRoundingDoublingHighMul } from './common/fixed_point.ts';
import { calculateInputRadius, expOnNegativeValues, getReciprocal, rescale } from './common/gemmlowp.ts';
import { requireElementwise } from './common/lut.ts';
import { scaleOf, zeroPointOf } from './common/quant.ts';

export interface SoftmaxAttrs {
  readonly beta: number;
}

/** TFLite SoftmaxParams for int8 input. */
export interface SoftmaxQuant {
  readonly inputMultiplier: number;
  readonly inputLeftShift: number;
  readonly diffMin: number;
}

export interface SoftmaxParams {
  readonly outer: number;
  readonly depth: number;
  /** exp(-d) in Q0.31 for d = max - x, 0 where d > -diff_min. */
  readonly expTable: Int32Array;
}

const SCALED_DIFF_INTEGER_BITS = 5;
const ACCUMULATION_INTEGER_BITS = 12;
/** Past this depth the Q12 sum of exps can overflow int32 in TFLM. */
const MAX_DEPTH = 4095;

/** CalculateSoftmaxParams, int8 branch (PreprocessSoftmaxScaling and CalculateInputRadius, double-rounding build). */
export function softmaxQuant(beta: number, inputScale: number): SoftmaxQuant | null {
  const realMultiplier = Math.min(Math.fround(beta) * Math.fround(inputScale) * 2 ** (31 - SCALED_DIFF_INTEGER_BITS), 2 ** 31 - 1);
  // QuantizeMultiplierGreaterThanOne checks the multiplier exceeds 1.
  if (!(realMultiplier > 1)) return null;
  const m = quantizeMultiplier(realMultiplier);
  return {
    inputMultiplier: m.multiplier,
    inputLeftShift: m.shift,
    diffMin: -calculateInputRadius(SCALED_DIFF_INTEGER_BITS, m.shift),
  };
}

/** exp(input_diff) as TFLM computes it for an input_diff >= diff_min: Q0.31. */
function expOfDiff(inputDiff: number, q: SoftmaxQuant): number {
  // MultiplyByQuantizedMultiplierGreaterThanOne: x * (1 << left_shift), then the doubling high multiply.
  const rescaled = saturatingRoundingDoublingHighMul((inputDiff * 2 ** q.inputLeftShift) | 0, q.inputMultiplier);
  return expOnNegativeValues(rescaled, SCALED_DIFF_INTEGER_BITS);
}

export function softmaxExpTable(q: SoftmaxQuant): Int32Array {
  const table = new Int32Array(256);
  for (let d = 0; d < 256; d++) table[d] = -d >= q.diffMin ? expOfDiff(-d, q) : 0;
  return table;
}

/**
 * The output shift of a row. TFLM checks it is at most 31, and aborts when the sum of exps reaches 512 (which
 * takes more than 511 elements close to the row maximum); the kernel clamps it to 31 there instead.
 */
function outputExponent(numBitsOverUnit: number): number {
  return Math.min(31, numBitsOverUnit + 31 - 8);
}

/** One row with the table, as the softmax_s8 kernel computes it. */
function softmaxRow(x: Int8Array, y: Int8Array, start: number, depth: number, table: Int32Array): void {
  let max = -128;
  for (let c = 0; c < depth; c++) max = Math.max(max, x[start + c]!);
  let sum = 0;
  for (let c = 0; c < depth; c++) sum = (sum + roundingDivideByPOT(table[max - x[start + c]!]!, ACCUMULATION_INTEGER_BITS)) | 0;
  const { raw: shiftedScale, numBitsOverUnit } = getReciprocal(sum, ACCUMULATION_INTEGER_BITS);
  const exponent = outputExponent(numBitsOverUnit);
  for (let c = 0; c < depth; c++) {
    const unsat = roundingDivideByPOT(saturatingRoundingDoublingHighMul(shiftedScale, table[max - x[start + c]!]!), exponent);
    y[start + c] = saturate(unsat - 128, -128, 127);
  }
}

/** reference_ops::Softmax<int8_t, int8_t> for one row, ported line by line without tables. */
export function softmaxRowTflm(row: Int8Array, q: SoftmaxQuant): Int8Array {
  const out = new Int8Array(row.length);
  let maxInRow = -128;
  for (const v of row) maxInRow = Math.max(maxInRow, v);
  let sumOfExps = 0; // FixedPointAccum, Q12.19
  for (const v of row) {
    const inputDiff = v - maxInRow;
    if (inputDiff >= q.diffMin) sumOfExps = (sumOfExps + rescale(expOfDiff(inputDiff, q), 0, ACCUMULATION_INTEGER_BITS)) | 0;
  }
  const { raw: shiftedScale, numBitsOverUnit } = getReciprocal(sumOfExps, ACCUMULATION_INTEGER_BITS);
  const exponent = numBitsOverUnit + 31 - 8;
  if (exponent < 0 || exponent > 31) throw new Error(`TFLM aborts: softmax output exponent ${exponent}`);
  row.forEach((v, c) => {
    const inputDiff = v - maxInRow;
    if (inputDiff >= q.diffMin) {
      const expIn0 = expOfDiff(inputDiff, q);
      const unsatOutput = roundingDivideByPOT(saturatingRoundingDoublingHighMul(shiftedScale, expIn0), exponent);
      out[c] = Math.max(Math.min(unsatOutput - 128, 127), -128);
    } else {
      out[c] = -128;
    }
  });
  return out;
}

export const softmax: OpDef<SoftmaxAttrs, SoftmaxParams> = {
  name: 'Softmax',
  tflite: {
    code: 25,
    optionsType: 9,
    attrs: (o) => ({ beta: Number(o['beta'] ?? 0) }),
    options: (a) => ({ beta: a.beta }),
  },

  infer([input], attrs) {
    if (!input) throw new InvalidModelError('softmax needs an input');
    if (input.shape.length < 1) throw new InvalidModelError(`softmax input ${describeTensor(input)} must have at least one dimension`);
    if (!Number.isFinite(attrs.beta)) throw new UnsupportedError(`softmax beta ${attrs.beta} is not supported`);
    return [{ shape: [...input.shape], dtype: 'int8' }];
  },

  prepare(ctx) {
    const { input, output } = requireElementwise(ctx, ['int8'], ['int8']);
    const where = describeNode(ctx.node as Node);
    if (zeroPointOf(output) !== -128 || Math.fround(scaleOf(output)) !== 1 / 256) {
      throw new UnsupportedError(
        `${where}: int8 softmax needs output scale 1/256 and zero point -128; ${describeTensor(output)} has ${scaleOf(output)}, ${zeroPointOf(output)}`,
      );
    }
    const q = softmaxQuant(ctx.node.attrs.beta, scaleOf(input));
    if (!q) throw new UnsupportedError(`${where}: beta ${ctx.node.attrs.beta} x input scale ${scaleOf(input)} is too small for TFLM's int8 softmax`);
    const depth = input.shape[input.shape.length - 1]!;
    if (depth < 1 || depth > MAX_DEPTH) throw new UnsupportedError(`${where}: softmax over ${depth} elements; supported: 1..${MAX_DEPTH}`);
    const outer = elementCount(input.shape) / depth;
    const expTable = softmaxExpTable(q);
    return {
      params: { outer, depth, expTable },
      kernel: {
        name: 'softmax_s8',
        args: [arg.input(ctx, 0), arg.output(ctx), arg.int(outer), arg.int(depth), arg.table('int32', Array.from(expTable))],
      },
      scratchBytes: 0,
      macs: 0,
    };
  },

  evaluate(p, [input], [output]) {
    const x = input as Int8Array;
    const y = output as Int8Array;
    for (let r = 0; r < p.outer; r++) softmaxRow(x, y, r * p.depth, p.depth, p.expTable);
  },
};
