/**
 * @fileoverview TRANSPOSE, int8: output dimension i is input dimension perm[i] (a constant int32 /
 * int64 input). Runs on the strided copy kernel `copy_nd_s8`, with dimensions that stay adjacent
 * and in order merged at compile time.
 */
import type { Tensor } from '../ir/graph.ts';
import { describeTensor } from '../ir/graph.ts';
import { InvalidModelError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { requireConstant, requireInt8 } from './common/checks.ts';
import type { StridedCopy } from './common/shape.ts';
import { constantIntsOf, copyKernelCall, runStridedCopy, simplifyCopy, stridesOf } from './common/shape.ts';

export type TransposeAttrs = Record<string, never>;

export interface TransposeParams {
  /** The gather on the model's own dimensions (the reference runs this; the kernel a merged form). */
  readonly copy: StridedCopy;
}

function permutation(input: Tensor, permInput: Tensor | null | undefined): number[] {
  const perm = constantIntsOf(permInput, 'perm');
  const rank = input.shape.length;
  if (perm.length !== rank) throw new InvalidModelError(`perm [${perm.join(', ')}] has ${perm.length} entries for ${describeTensor(input)}`);
  const seen = new Set<number>();
  for (const p of perm) {
    if (!Number.isInteger(p) || p < 0 || p >= rank || seen.has(p)) throw new InvalidModelError(`perm [${perm.join(', ')}] is not a permutation of 0..${rank - 1}`);
    seen.add(p);
  }
  return perm;
}

export const transpose: OpDef<TransposeAttrs, TransposeParams> = {
  name: 'Transpose',
  tflite: { code: 39, optionsType: 26, attrs: () => ({}), options: () => ({}) },

  infer([input, permInput]) {
    if (!input) throw new InvalidModelError('transpose needs an input');
    const perm = permutation(input, permInput);
    return [{ shape: perm.map((p) => input.shape[p]!), dtype: input.dtype }];
  },

  prepare(ctx) {
    const [input, permInput] = ctx.inputs;
    const x = requireInt8(input, ctx.node, 'input');
    requireInt8(ctx.outputs[0], ctx.node, 'output');
    const perm = permutation(x, requireConstant(permInput, ctx.node, 'perm'));
    const inStrides = stridesOf(x.shape);
    const copy: StridedCopy = { dims: perm.map((p) => x.shape[p]!), strides: perm.map((p) => inStrides[p]!), offset: 0 };
    return { params: { copy }, kernel: copyKernelCall(ctx, simplifyCopy(copy)), scratchBytes: 0, macs: 0 };
  },

  evaluate(p, [input], [output]) {
    runStridedCopy(p.copy, input as Int8Array, output as Int8Array);
  },
};
