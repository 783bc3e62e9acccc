/**
 * @fileoverview 256-entry lookup tables for elementwise 8-bit operators (LOGISTIC, TANH, HARD_SWISH,
 * LEAKY_RELU, RELU, RELU6, int8 QUANTIZE). Each operator's `prepare` runs TFLM's own integer algorithm
 * once per possible input byte, so the table is bit-exact with TFLM by construction; at run time one
 * shared kernel maps every element through it.
 *
 * Table order is TFLite's LUTPopulate<int8_t> order: entry `byte & 0xff`, so the C kernel indexes with
 * `(uint8_t)x` for int8 and uint8 inputs alike.
 */
import type { DType, TensorData } from '../../ir/dtype.ts';
import type { Node, Tensor } from '../../ir/graph.ts';
import { describeNode, describeTensor, elementCount } from '../../ir/graph.ts';
import { InvalidModelError } from '../../errors.ts';
import type { KernelCall, OutputType, PrepareContext, Prepared } from '../op.ts';
import { arg } from '../op.ts';
import { requireDType } from './checks.ts';

export interface LutParams {
  readonly size: number;
  /** int8 output for each input byte, indexed by `byte & 0xff`. */
  readonly table: Int8Array;
}

/** The table of `fn` (which returns an int8) over every value of an int8 or uint8 input. */
export function buildLut(inputType: 'int8' | 'uint8', fn: (q: number) => number): Int8Array {
  const table = new Int8Array(256);
  const lo = inputType === 'int8' ? -128 : 0;
  for (let q = lo; q < lo + 256; q++) {
    const v = fn(q);
    if (!Number.isInteger(v) || v < -128 || v > 127) throw new Error(`LUT entry ${v} for input ${q} is not an int8`);
    table[q & 0xff] = v;
  }
  return table;
}

/** Reference semantics of every LUT operator: output[i] = table[input[i] & 0xff]. */
export function applyLut(p: LutParams, input: TensorData | null, output: TensorData): void {
  const x = input as Int8Array | Uint8Array;
  const y = output as Int8Array;
  for (let i = 0; i < p.size; i++) y[i] = p.table[x[i]! & 0xff]!;
}

/** The prepared form of a LUT operator: lut_s8 (int8 input) or lut_u8_s8 (uint8 input) `(input, output, size, table)`. */
export function preparedLut(ctx: PrepareContext<object>, table: Int8Array): Prepared<LutParams> {
  const input = ctx.inputs[0]!;
  const size = elementCount(input.shape);
  const kernel: KernelCall = {
    name: input.dtype === 'uint8' ? 'lut_u8_s8' : 'lut_s8',
    args: [arg.input(ctx, 0), arg.output(ctx), arg.int(size), arg.table('int8', Array.from(table))],
  };
  return { params: { size, table }, kernel, scratchBytes: 0, macs: 0 };
}

/** Shape inference of a one-input elementwise operator: the output has the input's shape. */
export function elementwiseInfer(op: string, inputs: readonly (Tensor | null)[], dtype: DType): OutputType[] {
  const input = inputs[0];
  if (!input) throw new InvalidModelError(`${op} needs an input`);
  if (inputs.length !== 1) throw new InvalidModelError(`${op} takes 1 input, got ${inputs.length}`);
  return [{ shape: [...input.shape], dtype }];
}

/** Checks an elementwise operator's single input and output: types, and the same number of elements. */
export function requireElementwise(
  ctx: PrepareContext<object>,
  inputTypes: readonly DType[],
  outputTypes: readonly DType[],
): { readonly input: Tensor; readonly output: Tensor } {
  const node = ctx.node as Node<object>;
  const input = requireDType(ctx.inputs[0], node, 'input', inputTypes);
  const output = requireDType(ctx.outputs[0], node, 'output', outputTypes);
  if (elementCount(input.shape) !== elementCount(output.shape)) {
    throw new InvalidModelError(`${describeNode(node as Node)}: ${describeTensor(output)} does not have the ${elementCount(input.shape)} elements of ${describeTensor(input)}`);
  }
  return { input, output };
}
