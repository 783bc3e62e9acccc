/**
 * @fileoverview PAD and PADV2, int8 (TFLite reference_ops::Pad as TFLM runs it): the input placed
 * inside an output filled with the pad value: the output zero point for PAD (and PADV2 without a
 * third input), else PADV2's constant third input (quantized like the output, as TFLM requires).
 * Paddings are a constant [rank, 2] int32 input (TFLM reads them as int32), non-negative. The input
 * bytes are copied unchanged, as TFLM does.
 */
import type { Node, Tensor } from '../ir/graph.ts';
import { describeNode, describeTensor, elementCount } from '../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../errors.ts';
import type { KernelArg, OpDef, PrepareContext, Prepared } from './op.ts';
import { arg } from './op.ts';
import { requireConstant, requireInt8 } from './common/checks.ts';
import { quantOf, scaleOf, zeroPointOf } from './common/quant.ts';
import { MAX_KERNEL_RANK, constantIntsOf } from './common/shape.ts';

export type PadAttrs = Record<string, never>;

/** Dimensions of a pad: output and input sizes and the padding before each. */
export interface PadDims {
  readonly outDims: readonly number[];
  readonly inDims: readonly number[];
  readonly before: readonly number[];
}

export interface PadParams extends PadDims {
  readonly padValue: number;
}

function paddingPairs(input: Tensor, paddings: Tensor | null | undefined): [number, number][] {
  const values = constantIntsOf(paddings, 'paddings');
  const rank = input.shape.length;
  if (paddings!.shape.length !== 2 || paddings!.shape[0] !== rank || paddings!.shape[1] !== 2) {
    throw new InvalidModelError(`paddings ${describeTensor(paddings!)} must have shape [${rank}, 2] for ${describeTensor(input)}`);
  }
  const pairs = Array.from({ length: rank }, (_, k): [number, number] => [values[2 * k]!, values[2 * k + 1]!]);
  if (pairs.some(([a, b]) => a < 0 || b < 0)) throw new InvalidModelError(`negative paddings [${values.join(', ')}] are not allowed`);
  return pairs;
}

/** The dimensions of a pad of `input` by the constant `paddings` ([rank, 2], before and after each dimension). */
export function padDimsOf(input: Tensor, paddings: Tensor | null | undefined): PadDims {
  return padDims(input.shape, paddingPairs(input, paddings));
}

function padDims(inShape: readonly number[], pairs: readonly (readonly [number, number])[]): PadDims {
  return {
    outDims: inShape.map((d, k) => d + pairs[k]![0] + pairs[k]![1]),
    inDims: [...inShape],
    before: pairs.map(([lo]) => lo),
  };
}

/** Folds unpadded dimensions into the dimension outside them (size-1 unpadded ones simply vanish). */
export function mergePadDims(dims: PadDims): PadDims {
  const outDims = [...dims.outDims];
  const inDims = [...dims.inDims];
  const before = [...dims.before];
  for (let k = outDims.length - 1; k >= 1; k--) {
    if (outDims[k] === inDims[k]) {
      // Dimension k is not padded: merge it into k - 1.
      const d = inDims[k]!;
      outDims[k - 1] = outDims[k - 1]! * d;
      inDims[k - 1] = inDims[k - 1]! * d;
      before[k - 1] = before[k - 1]! * d;
      outDims.splice(k, 1);
      inDims.splice(k, 1);
      before.splice(k, 1);
    }
  }
  if (outDims.length === 0) return { outDims: [1], inDims: [1], before: [0] };
  return { outDims, inDims, before };
}

function preparePad(ctx: PrepareContext<PadAttrs>, hasConstant: boolean): Prepared<PadParams> {
  const [input, paddings, constant] = ctx.inputs;
  const x = requireInt8(input, ctx.node, 'input');
  const output = requireInt8(ctx.outputs[0], ctx.node, 'output');
  const dims = padDimsOf(x, requireConstant(paddings, ctx.node, 'paddings'));
  let padValue: number;
  if (hasConstant && constant) {
    const c = requireConstant(requireInt8(constant, ctx.node, 'constant_values'), ctx.node, 'constant_values');
    if (elementCount(c.shape) !== 1) throw new InvalidModelError(`${describeNode(ctx.node)}: constant_values ${describeTensor(c)} must hold one value`);
    const cq = quantOf(c);
    if (cq.zeroPoint[0] !== zeroPointOf(output) || scaleOf(c) !== scaleOf(output)) {
      throw new UnsupportedError(`${describeNode(ctx.node)}: constant_values ${describeTensor(c)} must be quantized like the output ${describeTensor(output)}`);
    }
    padValue = (c.data as Int8Array)[0]!;
  } else {
    padValue = zeroPointOf(output);
    if (padValue < -128 || padValue > 127) throw new InvalidModelError(`${describeNode(ctx.node)}: output zero point ${padValue} is not an int8 value`);
  }
  const params: PadParams = { ...dims, padValue };
  return {
    params,
    kernel: { name: 'pad_s8', args: [arg.input(ctx, 0), arg.output(ctx), arg.int(padValue), ...padKernelArgs(dims, ctx.node)] },
    scratchBytes: 0,
    macs: 0,
  };
}

/** The kernels' view of a pad (pad_s8 and its gradient): rank, then output dims, input dims, before, merged. */
export function padKernelArgs(dims: PadDims, node: Node): KernelArg[] {
  const merged = mergePadDims(dims);
  if (merged.outDims.length > MAX_KERNEL_RANK) {
    throw new UnsupportedError(`${describeNode(node)}: ${merged.outDims.length} padded dimensions; at most ${MAX_KERNEL_RANK} are supported`);
  }
  return [
    arg.int(merged.outDims.length),
    arg.table('int32', merged.outDims), arg.table('int32', merged.inDims), arg.table('int32', merged.before),
  ];
}

function inferPad([input, paddings]: readonly (Tensor | null)[]) {
  if (!input) throw new InvalidModelError('pad needs an input');
  return [{ shape: padDimsOf(input, paddings).outDims, dtype: input.dtype }];
}

/**
 * Visits every element of a pad's output in order with whether it lies inside the input (the next input element)
 * or in the padding.
 */
export function forEachPaddedElement(p: PadDims, visit: (output: number, inside: boolean) => void): void {
  const rank = p.outDims.length;
  const idx = new Array<number>(rank).fill(0);
  const total = elementCount(p.outDims);
  for (let o = 0; o < total; o++) {
    let inside = true;
    for (let k = 0; k < rank; k++) {
      if (idx[k]! < p.before[k]! || idx[k]! >= p.before[k]! + p.inDims[k]!) inside = false;
    }
    visit(o, inside);
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < p.outDims[k]!) break;
      idx[k] = 0;
    }
  }
}

/** Reference semantics on the model's own dimensions: each output element is padding or the next input element. */
function evaluatePad(p: PadParams, input: Int8Array, output: Int8Array): void {
  let read = 0;
  forEachPaddedElement(p, (o, inside) => {
    output[o] = inside ? input[read++]! : p.padValue;
  });
}

export const pad: OpDef<PadAttrs, PadParams> = {
  name: 'Pad',
  tflite: { code: 34, optionsType: 22, attrs: () => ({}), options: () => ({}) },
  infer: inferPad,
  prepare: (ctx) => preparePad(ctx, false),
  evaluate: (p, [input], [output]) => evaluatePad(p, input as Int8Array, output as Int8Array),
};

export const padV2: OpDef<PadAttrs, PadParams> = {
  name: 'PadV2',
  tflite: { code: 60, optionsType: 43, attrs: () => ({}), options: () => ({}) },
  infer: inferPad,
  prepare: (ctx) => preparePad(ctx, true),
  evaluate: (p, [input], [output]) => evaluatePad(p, input as Int8Array, output as Int8Array),
};
